// The ingest's Prometheus metrics (prefix campus_power_ingest_). Registered once per registry, so two
// ingests sharing a registry (tests) share them instead of throwing on a duplicate name.
import { Counter, Gauge, Histogram, type Registry, metric } from "../infra/metrics.js";

const P = "campus_power_ingest_";

export function createIngestMetrics(registry: Registry) {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    metric(registry, P + name, () => new Counter<L>({ name: P + name, help, labelNames, registers: [registry] }));
  const gauge = (name: string, help: string) => metric(registry, P + name, () => new Gauge({ name: P + name, help, registers: [registry] }));
  const histogram = (name: string, help: string, buckets: number[]) =>
    metric(registry, P + name, () => new Histogram({ name: P + name, help, buckets, registers: [registry] }));

  return {
    messages: counter("messages_total", "MQTT messages received, by kind (telemetry/status/events) and device format", ["kind", "format"]),
    pointsStored: counter("points_stored_total", "Points InfluxDB accepted, by measurement", ["measurement"]),
    refusals: counter("refusals_total", "Refused messages (or parts of batch payloads), by error code", ["code"]),
    timestampFallbacks: counter("timestamp_fallbacks_total", "Device timestamps replaced by the receive time, by reason", ["reason"]),
    writeDuration: histogram("write_duration_seconds", "Duration of one InfluxDB write request", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    batchSize: histogram("batch_points", "Points per batch handed to the writer", [1, 10, 50, 100, 500, 1_000, 2_500, 5_000]),
    writeRetries: counter("write_retries_total", "InfluxDB writes retried after a failure that may heal"),
    deadLettered: counter("points_dead_lettered_total", "Points InfluxDB refused as bad data (HTTP 400), kept in the dead-letter log"),
    deadLetterDropped: counter("dead_letters_dropped_total", "Dead-letter lines not written (disk too slow or failing)"),
    buffered: gauge("buffered_points", "Points waiting for InfluxDB"),
    readingsReceived: counter("readings_received_total", "Readings decoded from device messages, by device format", ["format"]),
    readingsStored: counter("readings_stored_total", "Readings InfluxDB accepted (after the spool), by device format", ["format"]),
    spoolRecords: gauge("spool_backlog_records", "Spool records not yet written to InfluxDB"),
    spoolBytes: gauge("spool_backlog_bytes", "Bytes of spool not yet written to InfluxDB"),
    spoolOldestAge: gauge("spool_oldest_age_seconds", "Age of the oldest record in the spool (0 when empty)"),
    spoolFull: gauge("spool_full", "1 while the spool is full: the ingest stops acknowledging the broker (back-pressure)"),
    spoolCorrupt: counter("spool_corrupt_bytes_total", "Bytes of torn or damaged spool records skipped"),
    backpressured: counter("backpressured_messages_total", "Messages left unacknowledged because the spool was full (the broker redelivers them)"),
    energyAnomalies: counter("energy_counter_anomalies_total", "Energy counter decreases, glitches and implausible jumps", ["kind"]),
    influxReachable: gauge("influx_reachable", "1 when the last contact with InfluxDB succeeded"),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
