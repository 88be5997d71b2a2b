// The ingest's health for other processes (the API's /api/ready), retained on INGEST_HEALTH_TOPIC:
// published at start, on every change of ok / spool_full / influx_reachable, and every 10 s; the
// metrics of the spool are refreshed every second. A full spool is also logged once per episode.
import { INGEST_HEALTH_TOPIC, type IngestHealth } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import type { MqttClient } from "../infra/mqtt.js";
import type { DurableSink } from "./durable-sink.js";
import type { IngestMetrics } from "./metrics.js";

export interface HealthDeps {
  client: MqttClient;
  sink: DurableSink;
  metrics: IngestMetrics;
  log: Logger;
  influxReachable(): boolean;
  /** Called every second while the spool has room: the ingest reconnects if it refused messages meanwhile. */
  onSpaceAgain(): void;
}

const TICK_MS = 1_000;
const REPUBLISH_MS = 10_000;

export function healthOf(spool: { full: boolean; backlogRecords: number; oldestAppendedAt: number | null }, influxReachable: boolean, now: number): IngestHealth {
  const oldest = spool.oldestAppendedAt;
  return {
    ok: !spool.full,
    spool_full: spool.full,
    backlog_records: spool.backlogRecords,
    oldest_ms: oldest === null ? null : Math.max(0, now - oldest),
    influx_reachable: influxReachable,
    ts: now,
  };
}

export function createHealthReporter(deps: HealthDeps) {
  const { client, sink, metrics, log } = deps;
  let lastKey = "";
  let lastPublished = 0;
  let wasFull = false;

  const publishNow = () => {
    const now = Date.now();
    const health = healthOf(sink.spool, deps.influxReachable(), now);
    lastKey = `${health.ok}/${health.spool_full}/${health.influx_reachable}`;
    lastPublished = now;
    if (client.connected) client.publish(INGEST_HEALTH_TOPIC, JSON.stringify(health), { qos: 1, retain: true });
  };

  const tick = () => {
    const { spool } = sink;
    const now = Date.now();
    metrics.spoolRecords.set(spool.backlogRecords);
    metrics.spoolBytes.set(spool.backlogBytes);
    metrics.spoolOldestAge.set(spool.oldestAppendedAt === null ? 0 : (now - spool.oldestAppendedAt) / 1000);
    metrics.spoolFull.set(spool.full ? 1 : 0);
    metrics.buffered.set(spool.backlogRecords);
    if (spool.full && !wasFull) log.error({ backlogBytes: spool.backlogBytes, backlogRecords: spool.backlogRecords }, "spool is full: no longer acknowledging the broker (back-pressure) until InfluxDB takes the backlog");
    if (!spool.full && wasFull) log.warn({ backlogBytes: spool.backlogBytes }, "spool has room again");
    // On every tick with room, not only on a full → room edge this tick saw: the spool can fill and
    // drain between two ticks, and messages refused meanwhile must still be fetched again.
    if (!spool.full) deps.onSpaceAgain();
    wasFull = spool.full;
    const health = healthOf(spool, deps.influxReachable(), now);
    const key = `${health.ok}/${health.spool_full}/${health.influx_reachable}`;
    if (key !== lastKey || now - lastPublished >= REPUBLISH_MS) publishNow();
  };

  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  client.on("connect", () => publishNow());
  return {
    publishNow,
    stop: () => clearInterval(timer),
  };
}
