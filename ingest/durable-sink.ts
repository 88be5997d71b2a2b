// The durable path of every point: accept() appends it to the on-disk spool and resolves once it is
// fsynced (that is when the ingest acknowledges the MQTT message); a drainer reads the spool in order,
// adds the energy deltas (./energy.ts), writes to InfluxDB (whole-batch retry with backoff and jitter,
// 400 → split and dead-letter the bad lines: ./writer.ts) and commits. InfluxDB down: the backlog grows
// on disk, new readings keep being accepted, and it drains in order when InfluxDB is back.
// Crash: the checkpoint (position + counter state, saved together) is replayed from; writes are idempotent.
import type { Point } from "../domain/line-protocol.js";
import { toLine } from "../domain/line-protocol.js";
import { type Anomaly, type CounterReading, type EnergyState, observeCounter } from "./energy.js";
import { Spool, type SpoolRecord } from "../infra/spool/spool.js";
import { finishesWithin, WakeableSleeps } from "../infra/timeout.js";
import type { BackoffPolicy } from "../infra/backoff.js";
import { type WriterDeps, writeLines } from "../infra/influx-batch.js";

export interface DurableSinkOptions {
  dir: string;
  maxBytes: number;
  segmentBytes?: number;
  write(lines: string): Promise<void>;
  retry?: BackoffPolicy;
  /** Bytes of spool read per InfluxDB request (~5,000 points of ~200 bytes). */
  readBytes?: number;
  /**
   * A request waits until its oldest record is this old (ms, default 100) unless `readBytes` are already
   * waiting: a few large writes cost InfluxDB and us far less than many small ones.
   */
  batchMs?: number;
  checkpointEveryMs?: number;
  onAttempt?: WriterDeps["onAttempt"];
  onRetry?: WriterDeps["onRetry"];
  onDeadLetter?(line: string, reason: string): void;
  /** Lines to write in the same request as a batch (the rollup catch-up's stale marks: ./rollup-catchup.ts). */
  extraLines?(lines: readonly string[]): string[];
  /** Lines InfluxDB accepted, and the readings per format of the records it covered. */
  onStored?(lines: readonly string[], readingsByFormat: Record<string, number>): void;
  onBatch?(points: number): void;
  onCorrupt?(bytes: number, where: string): void;
  onEnergyAnomaly?(anomaly: Anomaly): void;
  /**
   * The key a counter is kept under for a series key (default: the key itself), applied to the saved
   * state and to every observation, so state saved before the tags changed carries on (./counter-keys.ts).
   */
  counterKey?(seriesKey: string): string;
}

export interface RecordHeader {
  /** Readings per device format. */
  f: Record<string, number>;
  /**
   * Counter observations: [series key (measurement + tags), ts, kWh, index of its line in this record].
   * The index (absent in records written before it existed) lets the delta join that line as one more
   * field instead of a line of its own: half the lines for InfluxDB to parse.
   */
  e: [string, number, number, number?][];
}

/** A spool record of the sink: its header line (JSON) and its line-protocol lines. */
export function splitRecord(body: Buffer): { header: RecordHeader; lines: string[] } {
  const text = body.toString("utf8");
  const newline = text.indexOf("\n");
  const rest = text.slice(newline + 1);
  return { header: JSON.parse(text.slice(0, newline)) as RecordHeader, lines: rest === "" ? [] : rest.split("\n") };
}

/** The series key of a line: everything before the first unescaped space (measurement and tags). */
export function seriesOf(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === " ") return line.slice(0, i);
  }
  return line;
}

/** A line with one more field (before the timestamp, the part after the last space). */
export function withField(line: string, field: string): string {
  const space = line.lastIndexOf(" ");
  return `${line.slice(0, space)},${field}${line.slice(space)}`;
}

export class DurableSink {
  readonly spool: Spool;
  private state: EnergyState;
  private lines: string[] = [];
  private header: RecordHeader = { f: {}, e: [] };
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private stopping = false;
  /** Set by close(): write what is there at once, no batching wait. */
  private closing = false;
  private drainer: Promise<void>;
  private readonly sleeps = new WakeableSleeps();
  private lastCheckpoint = 0;

  constructor(private readonly options: DurableSinkOptions) {
    this.spool = Spool.open({ dir: options.dir, maxBytes: options.maxBytes, ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}), ...(options.onCorrupt ? { onCorrupt: options.onCorrupt } : {}) });
    this.state = this.keyedState((this.spool.savedState as EnergyState | null) ?? {});
    this.drainer = this.drain();
  }

  get full(): boolean {
    return this.spool.full;
  }

  /** Queues one message's points; resolves when they are on disk. Readings count per format for metrics. */
  accept(points: readonly Point[], format: string, readings: number): Promise<void> {
    if (points.length === 0) return Promise.resolve();
    for (const point of points) {
      const line = toLine(point);
      if (line === null) continue;
      this.lines.push(line);
      const kwh = point.fields.energy_kwh;
      if (point.measurement === "electrical" && !point.tags.phase && typeof kwh === "number") this.header.e.push([seriesOf(line), point.ts, kwh, this.lines.length - 1]);
    }
    if (readings > 0) this.header.f[format] = (this.header.f[format] ?? 0) + readings;
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.append());
    }
    return done;
  }

  /** Everything accepted in this turn of the event loop becomes one record (one fsync for all of it). */
  private append(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    const body = Buffer.from(`${JSON.stringify(this.header)}\n${this.lines.join("\n")}`);
    this.waiting = [];
    this.lines = [];
    this.header = { f: {}, e: [] };
    this.spool.append([body], Date.now()).then(
      () => waiting.forEach((w) => w.resolve()),
      (error) => waiting.forEach((w) => w.reject(error)),
    );
  }

  private async drain(): Promise<void> {
    const readBytes = this.options.readBytes ?? 1_000_000;
    const batchMs = this.options.batchMs ?? 100;
    while (!this.stopping) {
      await this.spool.waitForData();
      if (this.stopping) break;
      const age = Date.now() - (this.spool.oldestAppendedAt ?? 0);
      if (!this.closing && age < batchMs && this.spool.backlogBytes < readBytes) {
        // Never longer than batchMs, even if the clock stepped back since the record was appended.
        await this.sleeps.sleep(Math.min(batchMs, batchMs - age));
        if (this.stopping) break;
      }
      const records = this.spool.read(readBytes);
      if (records.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      await this.writeRecords(records);
    }
  }

  private async writeRecords(records: SpoolRecord[]): Promise<void> {
    const undo = new Map<string, CounterReading[] | undefined>();
    const lines: string[] = [];
    const formats: Record<string, number> = {};
    for (const record of records) {
      const { header, lines: recordLines } = splitRecord(record.body);
      const base = lines.length;
      for (const line of recordLines) lines.push(line);
      for (const [format, count] of Object.entries(header.f)) formats[format] = (formats[format] ?? 0) + count;
      for (const [seriesKey, ts, kwh, index] of header.e) {
        const key = this.options.counterKey?.(seriesKey) ?? seriesKey;
        if (!undo.has(key)) undo.set(key, this.state[key]?.map((r) => ({ ...r })));
        const anomalies: Anomaly[] = [];
        for (const out of observeCounter(this.state, key, ts, kwh, anomalies)) {
          const own = index !== undefined && out.ts === ts && out.key === key ? base + index : -1;
          if (own >= 0 && own < lines.length) lines[own] = withField(lines[own]!, `energy_delta_kwh=${out.delta}`);
          else lines.push(`${out.key} energy_delta_kwh=${out.delta} ${out.ts}`); // a correction of a later reading
        }
        for (const anomaly of anomalies) this.options.onEnergyAnomaly?.(anomaly);
      }
    }
    if (this.options.extraLines) lines.push(...this.options.extraLines(lines));
    this.options.onBatch?.(lines.length);
    const outcome = await writeLines(lines, {
      write: this.options.write,
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      random: Math.random,
      sleep: (ms) => this.sleeps.sleep(ms),
      givingUp: () => this.stopping,
      ...(this.options.onAttempt ? { onAttempt: this.options.onAttempt } : {}),
      ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}),
      onDeadLetter: (_point, line, reason) => this.options.onDeadLetter?.(line, reason),
    });
    if (outcome.dropped > 0) {
      // Stopping mid-write: nothing is lost (it is still in the spool); put the counters back as they were.
      for (const [key, window] of undo) {
        if (window === undefined) delete this.state[key];
        else this.state[key] = window;
      }
      this.spool.rewind();
      return;
    }
    this.spool.commit(records.at(-1)!.end);
    this.options.onStored?.(lines, formats);
    if (Date.now() - this.lastCheckpoint >= (this.options.checkpointEveryMs ?? 1_000)) this.checkpoint();
  }

  /**
   * Forgets the last counter readings of the series `match` selects (with REDIS_URL, the devices of a device
   * stream partition this worker takes over or gives up: another worker booked their energy meanwhile, and a delta
   * from this worker's old reading would book that period a second time). Their next reading starts afresh.
   */
  forgetCounters(match: (key: string) => boolean): number {
    let forgotten = 0;
    for (const key of Object.keys(this.state)) {
      if (!match(key)) continue;
      delete this.state[key];
      forgotten++;
    }
    return forgotten;
  }

  /** The saved counter state under today's keys; of two saved keys that become one, the first stays. */
  private keyedState(saved: EnergyState): EnergyState {
    const { counterKey } = this.options;
    if (!counterKey) return saved;
    const state: EnergyState = {};
    for (const [key, window] of Object.entries(saved)) state[counterKey(key)] ??= window;
    return state;
  }

  private checkpoint(): void {
    this.lastCheckpoint = Date.now();
    this.spool.saveCheckpoint(this.state);
  }

  /** Resolves when the spool is empty (tests, flush on demand). */
  async drained(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.spool.backlogRecords > 0 || this.spool.appending || this.scheduled || this.waiting.length > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Stops draining (what is left stays in the spool for the next start), saves the checkpoint. */
  async close(deadline: number): Promise<void> {
    if (this.scheduled) this.append();
    this.closing = true;
    this.sleeps.wakeAll(); // a batching wait (or a retry's backoff) ends now
    // Appends still on their way to disk count as backlog too (bounded: a hung disk must not hold the stop).
    await finishesWithin(this.spool.settled(), deadline - Date.now());
    // Give the drainer until the deadline to finish what InfluxDB can take, then stop it.
    const left = () => this.spool.backlogRecords > 0;
    while (left() && Date.now() < deadline - 500) await new Promise((resolve) => setTimeout(resolve, 20));
    this.stopping = true;
    this.sleeps.wakeAll();
    await finishesWithin(this.spool.close(), deadline - Date.now());
    // A write hanging on a dead socket must not hold the shutdown: then the last checkpoint on disk
    // (consistent by construction) stays, and the next start replays from it.
    if (await finishesWithin(this.drainer, deadline - Date.now())) this.checkpoint();
  }
}
