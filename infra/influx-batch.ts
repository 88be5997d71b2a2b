// The one InfluxDB batch writer (the ingest's readings, the alerts' history), following telegraf's rule:
// retry a whole batch when the failure may heal
// (network, 5xx, 404 database missing, 429), and when InfluxDB answers 400 (the data itself is bad),
// split the batch in halves until the bad points are isolated, then dead-letter only those.
// Re-sending halves is safe: writes are idempotent (same series + same timestamp = same point, CONTRACT §4),
// and InfluxDB 1.x may already have stored the good points of a 400 "partial write".
import { type Point, toLine } from "../domain/line-protocol.js";
import { type BackoffPolicy, INFLUX_BACKOFF, backoffDelayMs } from "./backoff.js";

export interface WriterDeps {
  /** Sends line protocol; throws an error with `retriable: false` when the data is bad (HTTP 400). */
  write(lines: string): Promise<void>;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** True once retrying must stop (shutdown deadline passed); the rest of the batch is then dropped. */
  givingUp(): boolean;
  /** Default INFLUX_BACKOFF (./backoff.ts). */
  retry?: BackoffPolicy;
  onAttempt?(seconds: number, ok: boolean): void;
  onRetry?(attempt: number, error: unknown): void;
  /** Points (null for lines written by writeLines) and their lines, once InfluxDB accepted them. */
  onStored?(points: readonly Point[], lines?: readonly string[]): void;
  onDeadLetter?(point: Point | null, line: string, reason: string): void;
}

export interface BatchOutcome {
  stored: number;
  deadLettered: number;
  /** Points given up on at shutdown (still unwritten). */
  dropped: number;
}

const isRetriable = (error: unknown) => (error as { retriable?: boolean } | null)?.retriable !== false;

interface Item {
  point: Point | null;
  line: string;
}

export async function writeBatch(points: readonly Point[], deps: WriterDeps): Promise<BatchOutcome> {
  const items: Item[] = [];
  for (const point of points) {
    const line = toLine(point);
    if (line !== null) items.push({ point, line });
  }
  return writeItems(items, deps);
}

/** The same for lines already in line protocol (the spool's); `onStored`/`onDeadLetter` get a point-less item. */
export async function writeLines(lines: readonly string[], deps: WriterDeps): Promise<BatchOutcome> {
  return writeItems(lines.map((line) => ({ point: null, line })), deps);
}

async function writeItems(items: Item[], deps: WriterDeps): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { stored: 0, deadLettered: 0, dropped: 0 };

  const attempt = async (group: Item[]): Promise<void> => {
    for (let retry = 0; ; retry++) {
      if (deps.givingUp()) {
        outcome.dropped += group.length;
        return;
      }
      const started = performance.now();
      try {
        await deps.write(group.map((item) => item.line).join("\n"));
        deps.onAttempt?.((performance.now() - started) / 1000, true);
        outcome.stored += group.length;
        deps.onStored?.(
          group.flatMap((item) => (item.point ? [item.point] : [])),
          group.map((item) => item.line),
        );
        return;
      } catch (error) {
        deps.onAttempt?.((performance.now() - started) / 1000, false);
        if (isRetriable(error)) {
          deps.onRetry?.(retry + 1, error);
          await deps.sleep(backoffDelayMs(retry, deps.random(), deps.retry ?? INFLUX_BACKOFF));
          continue;
        }
        if (group.length === 1) {
          outcome.deadLettered += 1;
          deps.onDeadLetter?.(group[0]!.point, group[0]!.line, (error as Error).message);
          return;
        }
        // log2(n) extra requests per bad point: cheap next to losing a whole 5,000-point batch.
        const middle = Math.ceil(group.length / 2);
        await attempt(group.slice(0, middle));
        await attempt(group.slice(middle));
        return;
      }
    }
  };

  if (items.length > 0) await attempt(items);
  return outcome;
}
