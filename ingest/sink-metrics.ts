// What the durable sink (./durable-sink.ts) reports, turned into the ingest's metrics, log lines and
// dead letters: write latency and batch sizes, retries (logged sparingly: an outage retries for as long as
// it lasts), stored points and readings, points InfluxDB refused, torn spool records, energy anomalies.
import { RateLimiter } from "../domain/rate-limiter.js";
import { type DeadLetterLog, refusedPointLetter } from "../infra/dead-letter.js";
import type { Logger } from "../infra/logger.js";
import type { DurableSinkOptions } from "./durable-sink.js";
import type { IngestMetrics } from "./metrics.js";

export type SinkCallbacks = Pick<DurableSinkOptions, "onAttempt" | "onBatch" | "onRetry" | "onStored" | "onDeadLetter" | "onCorrupt" | "onEnergyAnomaly">;

export interface SinkMetricsDeps {
  metrics: IngestMetrics;
  log: Logger;
  deadLetters: DeadLetterLog;
  /** Spool records not yet in InfluxDB (for the retry log line). */
  backlogRecords(): number;
}

/** The first failure of an outage and then every tenth: an outage is visible without flooding the log. */
export const logsRetry = (attempt: number): boolean => attempt === 1 || attempt % 10 === 0;

/** Line-protocol lines per measurement (the text before the first comma or space). */
export function countByMeasurement(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const measurement = line.slice(0, line.search(/[, ]/));
    counts.set(measurement, (counts.get(measurement) ?? 0) + 1);
  }
  return counts;
}

export function sinkMetrics({ metrics, log, deadLetters, backlogRecords }: SinkMetricsDeps): SinkCallbacks {
  // Refused points are logged at most once per device per minute (CONTRACT §3), the rest are counted.
  const refusalLog = new RateLimiter(60_000);
  return {
    onAttempt: (seconds) => metrics.writeDuration.observe(seconds),
    onBatch: (points) => metrics.batchSize.observe(points),
    onRetry: (attempt, error) => {
      metrics.writeRetries.inc();
      if (logsRetry(attempt)) log.warn({ attempt, err: error, backlogRecords: backlogRecords() }, "InfluxDB write failed; retrying (readings wait in the spool)");
    },
    onStored: (lines, readingsByFormat) => {
      for (const [measurement, count] of countByMeasurement(lines)) metrics.pointsStored.inc({ measurement }, count);
      for (const [format, count] of Object.entries(readingsByFormat)) metrics.readingsStored.inc({ format }, count);
    },
    onDeadLetter: (line, reason) => {
      metrics.deadLettered.inc();
      const letter = refusedPointLetter(line, reason, Date.now());
      deadLetters.append(letter);
      if (refusalLog.check(`influx:${letter.device}`, letter.t).log) log.warn({ device: letter.device, reason }, "InfluxDB refused a point; dead-lettered");
    },
    onCorrupt: (bytes, where) => {
      metrics.spoolCorrupt.inc(bytes);
      log.warn({ bytes, where }, "skipped a torn or damaged spool record");
    },
    onEnergyAnomaly: (kind) => metrics.energyAnomalies.inc({ kind }),
  };
}
