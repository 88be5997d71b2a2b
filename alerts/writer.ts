// Alert history in InfluxDB (CONTRACT §4 `alert` measurement), off the MQTT path: points queue here
// and a background loop writes them with backoff, so InfluxDB being down neither blocks the retained
// publication nor loses the change (the queue is saved with the engine state; a later issue replaces
// this with the durable outbox).
import type { Alert } from "../domain/alert.js";
import { toLine } from "../domain/line-protocol.js";
import { InfluxWriteError, type InfluxClient } from "../infra/influx.js";
import type { Logger } from "../infra/logger.js";
import type { AlertMetrics } from "./metrics.js";

/**
 * One point per change: tags device, building, rule, severity; ts = the change's time. The change an
 * acknowledgement made (`byAck`) also carries the operator's note as the string field `ack_note`.
 */
export function alertLine(alert: Alert, at: number, byAck = false): string {
  const fields: Record<string, string | number> = { alert_id: alert.id, state: alert.state, message: alert.message, value: alert.value, threshold: alert.threshold };
  if (byAck && alert.ack_note !== undefined) fields.ack_note = alert.ack_note;
  return toLine({
    measurement: "alert",
    tags: { device: alert.device, building: alert.building, rule: alert.rule, severity: alert.severity },
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

const MAX_QUEUE = 10_000;
const BATCH = 500;
const BACKOFF_MS = [200, 1_000, 3_000, 10_000, 30_000];

export function createAlertWriter(
  influx: InfluxClient,
  log: Logger,
  metrics: AlertMetrics,
  initial: readonly string[],
  onChange: () => void,
): AlertWriter {
  const queue: string[] = [...initial];
  let failures = 0;
  let running = false;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let idle: (() => void) | null = null;

  const kick = (delayMs = 0) => {
    if (running || timer || closed) return;
    timer = setTimeout(() => {
      timer = null;
      void drain();
    }, delayMs);
  };

  const drain = async () => {
    running = true;
    while (queue.length > 0 && !closed) {
      const batch = queue.slice(0, BATCH);
      try {
        await influx.write(batch.join("\n"));
        queue.splice(0, batch.length);
        failures = 0;
        onChange();
      } catch (error) {
        metrics.writeFailures.inc();
        if (error instanceof InfluxWriteError && !error.retriable) {
          // Bad data cannot heal by retrying (telegraf: "log and drop a bad record"); drop this batch.
          log.error({ err: error, lines: batch.length }, "InfluxDB refused alert points; dropped");
          queue.splice(0, batch.length);
          onChange();
          continue;
        }
        const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!;
        failures += 1;
        if (failures === 1 || failures % 10 === 0) log.warn({ err: error, pending: queue.length, retryInMs: delay }, "alert points not written yet; retrying");
        running = false;
        metrics.pendingWrites.set(queue.length);
        kick(delay);
        return;
      }
    }
    running = false;
    metrics.pendingWrites.set(queue.length);
    idle?.();
  };

  if (queue.length > 0) kick();
  return {
    enqueue(line) {
      queue.push(line);
      if (queue.length > MAX_QUEUE) {
        queue.splice(0, queue.length - MAX_QUEUE);
        log.error({ max: MAX_QUEUE }, "alert point queue full; oldest points dropped");
      }
      metrics.pendingWrites.set(queue.length);
      if (!timer) kick();
    },
    pending: () => [...queue],
    async close(timeoutMs) {
      if (queue.length > 0) {
        if (timer) {
          clearTimeout(timer);
          timer = null;
          void drain();
        }
        await new Promise<void>((resolve) => {
          const give = setTimeout(resolve, timeoutMs);
          idle = () => {
            clearTimeout(give);
            resolve();
          };
          if (queue.length === 0 && !running) idle();
        });
      }
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
