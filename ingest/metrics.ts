// The ingest's Prometheus metrics (prefix campus_power_ingest_). Registered once per registry, so two
// ingests sharing a registry (tests) share them instead of throwing on a duplicate name.
import { Counter, Gauge, Histogram, type Registry, metric } from "../infra/metrics.js";

const P = "campus_power_ingest_";

function builders(registry: Registry) {
  return {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      metric(registry, P + name, () => new Counter<L>({ name: P + name, help, labelNames, registers: [registry] })),
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      metric(registry, P + name, () => new Gauge<L>({ name: P + name, help, labelNames, registers: [registry] })),
    histogram: (name: string, help: string, buckets: number[]) =>
      metric(registry, P + name, () => new Histogram({ name: P + name, help, buckets, registers: [registry] })),
  };
}

export function createIngestMetrics(registry: Registry) {
  const { counter, gauge, histogram } = builders(registry);

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

/**
 * With REDIS_URL only (./redis-source.ts), so a single-process ingest's /metrics stays as it was: the device
 * stream read through the consumer group.
 */
export function createStreamMetrics(registry: Registry) {
  const { counter, gauge } = builders(registry);
  return {
    read: counter("stream_entries_read_total", "Device stream entries this worker read and handled (XREADGROUP: new ones, and its own left pending by an earlier run or a lost connection)"),
    claimed: counter("stream_entries_claimed_total", "Device stream entries claimed (XAUTOCLAIM): a partition's pending entries on taking it over, and its own left unacknowledged too long"),
    acknowledged: counter("stream_entries_acknowledged_total", "Device stream entries this worker acknowledged (XACK) once durable in its spool, refused or malformed"),
    malformed: counter("stream_entries_malformed_total", "Device stream entries without a topic or a payload (counted, logged, acknowledged)"),
    trimmed: counter("stream_entries_trimmed_total", "Device stream entries deleted (XTRIM MINID) below the oldest one still pending"),
    pending: gauge("stream_pending_entries", "Entries a partition's consumer group has delivered and no worker has acknowledged yet (XPENDING), at its holder's last upkeep", ["partition"]),
    partitionsHeld: gauge("stream_partitions_held", "Device stream partitions whose lease this worker holds (each device's messages are handled by its partition's holder)"),
    takeovers: counter("stream_partition_takeovers_total", "Device stream partition leases this worker took (a free partition: at start, from a dead worker, or given up by another)"),
    released: counter("stream_partition_releases_total", "Device stream partitions this worker gave up to another once more workers were alive"),
    leasesLost: counter("stream_partition_leases_lost_total", "Device stream partition leases this worker lost (not renewed in time: paused, or cut off from Redis)"),
    pausedForRoom: counter("stream_read_pauses_total", "Times this worker stopped reading the device stream because its spool was full (the stream keeps the messages)"),
  };
}

export type StreamMetrics = ReturnType<typeof createStreamMetrics>;
