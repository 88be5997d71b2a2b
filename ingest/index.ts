// The ingest service: device topics (native and foreign) → decoded readings → (1) the normalised
// internal stream on MQTT, at once, and (2) the durable spool → InfluxDB (./durable-sink.ts).
// At least once end to end: QoS 1 on a persistent session, and a message is acknowledged to the broker
// only once its points are fsynced in the spool (./mqtt-source.ts, ./acks.ts). A full spool stops the
// acknowledgements (back-pressure: the broker keeps the messages) and says so: metric, log line, retained
// health topic (./health.ts). With REDIS_URL the device messages come from the partitioned device stream
// instead (./redis-source.ts), shared by any number of workers, each partition read by one worker at a time. This file only wires the parts.
import { join } from "node:path";
import type { BackoffPolicy } from "../infra/backoff.js";
import { DeadLetterLog } from "../infra/dead-letter.js";
import { partitionOf } from "../infra/device-stream.js";
import { type InfluxClient, redactUrl } from "../infra/influx.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { finishesWithin } from "../infra/timeout.js";
import { counterKeyWithSite, deviceOfCounterKey } from "./counter-keys.js";
import { DurableSink } from "./durable-sink.js";
import { createHealthReporter } from "./health.js";
import { InfluxTarget } from "./influx-target.js";
import { createMessageHandler } from "./message-handler.js";
import { createIngestMetrics, createStreamMetrics } from "./metrics.js";
import { MqttSource, type Receiver } from "./mqtt-source.js";
import { RedisSource } from "./redis-source.js";
import { RollupCatchUp } from "./rollup-catchup.js";
import { buildRouter } from "./routing.js";
import { sinkMetrics } from "./sink-metrics.js";
import { InternalStream } from "./stream.js";

export interface IngestDeps {
  influx: InfluxClient;
  /** MQTT client id; its persistent session keeps QoS 1 messages while the ingest is away. */
  clientId?: string;
  retry?: BackoffPolicy;
  /** Spool size bound, bytes (default env SPOOL_MAX_MB). */
  spoolMaxBytes?: number;
  /** Spool folder (default DATA_DIR/ingest/<clientId>): one per worker, as each has its own MQTT session. */
  spoolDir?: string;
  /** How long late points are gathered before their rollups are redone, ms (default 1 s: ./rollup-catchup.ts). */
  catchUpCoalesceMs?: number;
  /**
   * `up`: device messages handed over in-process by the broker beside it (broker/device-feed.ts) instead of an
   * MQTT subscription; the MQTT connection then only publishes the internal stream and the health topic.
   */
  feed?: DeviceFeedPort;
  /**
   * REDIS_URL (CONTRACT §12): device messages read from the partitions of the device stream whose lease this
   * worker holds (./redis-source.ts, ./partitions.ts) instead of an MQTT subscription, shared with the other workers. `consumer` (default
   * the client id) must differ between workers, as must their client ids and spool folders; it should stay
   * the same across a worker's restarts, which then reads again what it left pending and drains its spool.
   */
  redis?: RedisSourceDeps;
}

export interface RedisSourceDeps {
  url: string;
  consumer?: string;
  /** Entries of a held partition left unacknowledged this long are handled again, ms (default 10 s). */
  claimIdleMs?: number;
  /** Partition lease TTL, ms (default 5 s): a dead worker's partitions are taken over within it + renewEveryMs. */
  leaseMs?: number;
  /** Heartbeat, lease renewals and rebalancing every this many ms (default 1 s). */
  renewEveryMs?: number;
  /** Claims, trims and clean-up every this many ms (default 2 s). */
  upkeepEveryMs?: number;
  /** A worker's consumer with nothing pending, idle this long, is removed from the group, ms (default 1 h). */
  forgetConsumerAfterMs?: number;
}

/** The broker's in-process feed, as the ingest sees it (the broker acknowledges a device once `handle` resolves). */
export interface DeviceFeedPort {
  attach(receiver: Receiver, filters: readonly string[]): void;
  detach(): void;
}

export interface RunningIngest extends RunningService {
  /** Resolves once the spool is empty (everything accepted so far is in InfluxDB or dead-lettered). */
  flush(): Promise<void>;
  readonly influxReachable: boolean;
  /** Spool records not yet in InfluxDB. */
  readonly bufferedPoints: number;
  readonly spoolFull: boolean;
}

/** SIGTERM must end within 10 s (CONTRACT §1); `up` stops services one after another within 9 s. */
const STOP_BUDGET_MS = 5_000;
/** How long the start waits for InfluxDB before going on without it (it keeps trying), ms. */
const INFLUX_START_WAIT_MS = 2_000;

export async function startIngest(ctx: ServiceContext, deps: IngestDeps): Promise<RunningIngest> {
  const { env, campus } = ctx;
  const log = ctx.log.child({ service: "ingest" });
  const clientId = deps.clientId ?? "campus-ingest";
  const metrics = createIngestMetrics(ctx.metrics);
  const router = buildRouter(campus);
  for (const device of router.unsupported) log.warn({ device: device.id, format: device.format }, "device format not supported; its topics are not read");
  const deadLetters = new DeadLetterLog(join(env.dataDir, "dead-letter"), {
    onDropped: (count) => metrics.deadLetterDropped.inc(count),
    onError: (error) => log.error({ err: error }, "cannot write the dead-letter log"),
  });

  // Late points (a flushed device buffer, a drained spool) are rolled up again once InfluxDB holds them.
  const catchUp = new RollupCatchUp({
    influx: deps.influx,
    campus,
    log,
    metrics: ctx.metrics,
    worker: clientId,
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.catchUpCoalesceMs !== undefined ? { coalesceMs: deps.catchUpCoalesceMs } : {}),
  });
  const influx = new InfluxTarget({
    influx: deps.influx,
    campus,
    rawRetentionDays: env.rawRetentionMs / 86_400_000,
    log,
    ...(deps.retry ? { retry: deps.retry } : {}),
    onReachable: (reachable) => metrics.influxReachable.set(reachable ? 1 : 0),
    // The rollups' backfills at start (a new or replaced rollup): no day is marked complete from a half-filled one.
    onBackfill: (done) => catchUp.noteBackfill(done),
  });
  const sinkCallbacks = sinkMetrics({ metrics, log, deadLetters, backlogRecords: () => sink.spool.backlogRecords });
  const sink: DurableSink = new DurableSink({
    dir: deps.spoolDir ?? join(env.dataDir, "ingest", clientId),
    maxBytes: deps.spoolMaxBytes ?? env.spoolMaxBytes,
    write: (lines) => influx.write(lines),
    counterKey: (key) => counterKeyWithSite(key, (device) => campus.deviceById.get(device)?.site),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...sinkCallbacks,
    extraLines: (lines) => catchUp.staleMarks(lines),
    onStored: (lines, readingsByFormat) => {
      sinkCallbacks.onStored?.(lines, readingsByFormat);
      catchUp.noteStored(lines);
    },
  });
  await influx.start(INFLUX_START_WAIT_MS);
  const redis = deps.redis ? redisSourceOf(deps.redis, clientId, log, ctx.metrics, sink) : null;
  // Waits for Redis as long as it takes (saying so): a worker with REDIS_URL never reads anything else.
  await redis?.ready();

  // From here to receive() in one turn of the event loop: the broker may send queued messages right after CONNACK.
  const source = new MqttSource({ url: env.mqttUrl, clientId, password: env.servicePassword, log });
  const stream = new InternalStream(source.publish, { source: clientId });
  const health = createHealthReporter({
    client: source.client,
    sink,
    metrics,
    log,
    influxReachable: () => influx.reachable,
    onSpaceAgain: () => source.roomAgain(),
  });
  const receiver: Receiver = {
    full: () => sink.full,
    onHeldBack: () => metrics.backpressured.inc(),
    handle: createMessageHandler({ router, maxAgeMs: env.rawRetentionMs, stream, sink, deadLetters, metrics, log }),
  };
  if (!deps.feed && !redis) source.receive(receiver);
  try {
    await source.connected();
  } catch (error) {
    stream.close();
    influx.stop();
    health.stop();
    await redis?.stop(Date.now() + STOP_BUDGET_MS);
    await sink.close(Date.now());
    await finishesWithin(catchUp.stop(), 0);
    throw error;
  }
  if (deps.feed) deps.feed.attach(receiver, router.subscriptions);
  else if (redis) {
    // A session this client id kept from a single-process run would still bring device messages over MQTT,
    // where nothing reads them now (they are in the stream too); an UNSUBSCRIBE of what it never had is harmless.
    await source.client.unsubscribeAsync([...router.subscriptions]).catch(() => undefined);
    redis.start(receiver);
  } else await source.subscribe(router.subscriptions);
  health.publishNow();
  log.info({ subscriptions: router.subscriptions.length, feed: deps.feed ? "in-process" : redis ? "redis-stream" : "mqtt", influx: redactUrl(deps.influx.config.url), spoolBacklog: sink.spool.backlogRecords }, "ingest started");

  let stopped: Promise<void> | null = null;
  return {
    get influxReachable() {
      return influx.reachable;
    },
    get bufferedPoints() {
      return sink.spool.backlogRecords;
    },
    get spoolFull() {
      return sink.full;
    },
    async flush() {
      await sink.drained();
      await deadLetters.flush();
    },
    stop() {
      stopped ??= (async () => {
        const deadline = Date.now() + STOP_BUDGET_MS;
        influx.stop();
        health.stop();
        deps.feed?.detach(); // devices' publishes now wait, unacknowledged, as they would for a subscriber gone away
        // No more entries read; those in flight are made durable and acknowledged (the rest stays pending in the group).
        await redis?.stop(deadline);
        stream.close(); // the readings still batched, and every device's latest reading, retained
        // Stop receiving (the persistent session keeps what arrives meanwhile), then let the spool drain what it can.
        await source.stop();
        await sink.close(deadline);
        // A round in flight may finish within the budget; hours still pending are left to `campus-power backfill`.
        await finishesWithin(catchUp.stop(), deadline - Date.now());
        await deadLetters.flush();
        log.info({ spoolBacklog: sink.spool.backlogRecords }, "ingest stopped");
      })();
      return stopped;
    },
  };
}

/** How long giving a partition up waits for this worker's spool to store what it took from it, ms. */
const RELEASE_DRAIN_MS = 5_000;

function redisSourceOf(options: RedisSourceDeps, clientId: string, log: ServiceContext["log"], registry: ServiceContext["metrics"], sink: DurableSink): RedisSource {
  // A partition's devices had their energy booked by another worker while this one did not hold it: their last
  // counters here are forgotten when it is taken (again) and when it is given up, once the spool stored what it
  // took from it, so no period is booked twice; the first reading after a takeover starts afresh (docs/ha.md).
  const forget = (partition: number) => {
    const forgotten = sink.forgetCounters((key) => {
      const device = deviceOfCounterKey(key);
      return device !== undefined && partitionOf(device) === partition;
    });
    if (forgotten > 0) log.debug({ partition, counters: forgotten }, "forgot the energy counters of a device stream partition");
  };
  return new RedisSource({
    ...options,
    consumer: options.consumer ?? clientId,
    log,
    metrics: createStreamMetrics(registry),
    onTakeOver: async (partition) => forget(partition),
    beforeRelease: async (partition) => {
      await sink.drained(RELEASE_DRAIN_MS);
      forget(partition);
    },
  });
}
