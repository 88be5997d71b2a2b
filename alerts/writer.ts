// Alert history in InfluxDB (CONTRACT §4 `alert` measurement; also the `command` points of remote switching,
// CONTRACT §10: commands/desk.ts), off the MQTT path: points queue here
// and a background loop writes them with the one batch writer, so InfluxDB being down neither blocks the
// retained publication nor loses the change (the queue is saved with the engine state).
import type { Alert } from "../domain/alert.js";
import { toLine } from "../domain/line-protocol.js";
import type { InfluxClient } from "../infra/influx.js";
import { writeLines } from "../infra/influx-batch.js";
import { finishesWithin, WakeableSleeps } from "../infra/timeout.js";
import type { Logger } from "../infra/logger.js";
import type { AlertMetrics } from "./metrics.js";

/**
 * One point per change: tags device, building, site (CONTRACT §9), rule, severity; ts = the change's time. The change an
 * acknowledgement made (`byAck`) also carries who acknowledged it as the string field `acknowledged_by` and the
 * operator's note as `ack_note` (so a latched alert that the acknowledgement resolved at once still shows it was
 * acknowledged, and by whom: the monthly report's time to acknowledge reads it); an alert
 * that switched its room off carries the command's id as the string field `command_id` (CONTRACT §10).
 */
export function alertLine(alert: Alert, at: number, byAck = false): string {
  const fields: Record<string, string | number> = { alert_id: alert.id, state: alert.state, message: alert.message, value: alert.value, threshold: alert.threshold };
  if (byAck && alert.acknowledged_by !== undefined) fields.acknowledged_by = alert.acknowledged_by;
  if (byAck && alert.ack_note !== undefined) fields.ack_note = alert.ack_note;
  if (alert.command_id !== undefined) fields.command_id = alert.command_id;
  return toLine({
    measurement: "alert",
    tags: { device: alert.device, building: alert.building, site: alert.site, rule: alert.rule, severity: alert.severity },
    fields,
    ts: at,
  })!;
}

export interface AlertWriter {
  enqueue(line: string): void;
  pending(): string[];
  /** Waits until the queue is empty or `timeoutMs` passed, then stops retrying. */
  close(timeoutMs: number): Promise<void>;
}

export interface AlertWriterOptions {
  influx: InfluxClient;
  log: Logger;
  metrics: AlertMetrics;
  /** Lines saved with the state by an earlier run. */
  initial: readonly string[];
  /** The queue changed (the state file is saved later). */
  onChange(): void;
  /** A point InfluxDB refused as bad data (HTTP 400): only that one is given up on. */
  onDeadLetter(line: string, reason: string): void;
  /** Points kept while InfluxDB is away before the oldest go (alertQueueBound). */
  maxQueue?: number;
}

const BATCH = 500;

/**
 * Room for a storm, not only for an outage: when a broker restarts, every device of a district opens its
 * `offline` alert in the same watchdog tick, all queued before the first write (20,000 at once in
 * bench:district). Five changes per device, at least 10,000 (≈ 250 bytes each, in memory and in the state file).
 */
export const alertQueueBound = (devices: number): number => Math.max(10_000, 5 * devices);

/**
 * Queues alert points and writes them in batches of up to 500 with the one InfluxDB batch writer
 * (infra/influx-batch.ts): a batch is retried whole with backoff while InfluxDB is away, and a point it
 * refuses is isolated by halving and dead-lettered alone, the rest stored.
 */
export function createAlertWriter(o: AlertWriterOptions): AlertWriter {
  const log = o.log;
  const queue: string[] = [...o.initial];
  /** How many lines at the head of the queue a write has in hand. */
  let inFlight = 0;
  let draining: Promise<void> | null = null;
  let closing = false;
  const sleeps = new WakeableSleeps();
  const idleWaiters = new Set<() => void>();
  const maxQueue = o.maxQueue ?? alertQueueBound(0);
  /** Dropping since the queue was last full: one log line an episode, not one per point. */
  let dropping = false;

  const drain = async () => {
    while (queue.length > 0 && !closing) {
      const batch = queue.slice(0, BATCH);
      inFlight = batch.length;
      const outcome = await writeLines(batch, {
        write: (lines) => o.influx.write(lines),
        sleep: (ms) => sleeps.sleep(ms),
        random: Math.random,
        givingUp: () => closing,
        onAttempt: (_seconds, ok) => {
          if (!ok) o.metrics.writeFailures.inc();
        },
        onRetry: (attempt, error) => {
          if (attempt === 1 || attempt % 10 === 0) log.warn({ err: error, pending: queue.length, attempt }, "alert points not written yet; retrying");
        },
        onDeadLetter: (_point, line, reason) => {
          o.metrics.deadLettered.inc();
          log.error({ reason }, "InfluxDB refused an alert point; dead-lettered");
          o.onDeadLetter(line, reason);
        },
      });
      // Stored and dead-lettered lines are the batch's head; lines given up on at close stay queued.
      queue.splice(0, batch.length - outcome.dropped);
      inFlight = 0;
      if (dropping && queue.length < maxQueue / 2) {
        dropping = false;
        log.warn({ pending: queue.length }, "alert point queue has room again");
      }
      o.metrics.pendingWrites.set(queue.length);
      o.onChange();
    }
    if (queue.length === 0) for (const resolve of idleWaiters) resolve();
  };
  const kick = () => {
    if (draining || closing || queue.length === 0) return;
    draining = drain().finally(() => {
      draining = null;
      kick();
    });
  };

  kick();
  return {
    enqueue(line) {
      queue.push(line);
      if (queue.length > maxQueue) {
        // The oldest points not in a write's hands go.
        const dropped = queue.length - maxQueue;
        queue.splice(inFlight, dropped);
        o.metrics.droppedPoints.inc(dropped);
        if (!dropping) log.error({ max: maxQueue }, "alert point queue full; the oldest points are dropped until InfluxDB catches up");
        dropping = true;
      }
      o.metrics.pendingWrites.set(queue.length);
      kick();
    },
    pending: () => [...queue],
    async close(timeoutMs) {
      if (queue.length > 0) {
        sleeps.wakeAll(); // a last try now rather than after the backoff
        const idle = new Promise<void>((resolve) => idleWaiters.add(resolve));
        await finishesWithin(idle, timeoutMs);
      }
      closing = true;
      sleeps.wakeAll();
    },
  };
}
