// The ingest service: device topics (native and foreign) → decoded readings → (1) the normalised
// internal stream on MQTT, at once, and (2) InfluxDB through a PointSink (batched, retried).
// Refusals are counted by code, logged once per device per minute and kept in the dead-letter log.
import { join } from "node:path";
import { ErrorCodes } from "../domain/errors.js";
import type { Point } from "../domain/line-protocol.js";
import { type InfluxClient, InfluxWriteError, redactUrl } from "../infra/influx.js";
import mqtt from "mqtt";
import { SERVICE_USERNAME } from "../domain/campus.js";
import { type MqttClient, mqttOptions } from "../infra/mqtt.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import type { BatchOptions } from "./batcher.js";
import { DeadLetterLog } from "./dead-letter.js";
import { createIngestMetrics } from "./metrics.js";
import { processMessage } from "./process-message.js";
import { RateLimiter } from "../domain/rate-limiter.js";
import { buildRouter } from "./routing.js";
import { InfluxSink, type PointSink } from "./sink.js";
import { DEFAULT_RETRY, type RetryPolicy, backoffDelayMs } from "./writer.js";

export type { PointSink } from "./sink.js";
export type { BatchOptions } from "./batcher.js";
export type { RetryPolicy } from "./writer.js";

export interface IngestDeps {
  influx: InfluxClient;
  /** MQTT client id; its persistent session keeps QoS 1 messages while the ingest is away. */
  clientId?: string;
  batch?: BatchOptions;
  retry?: RetryPolicy;
  maxBufferedPoints?: number;
}

export interface RunningIngest extends RunningService {
  /** Writes everything buffered so far (and the dead letters) and resolves when done. */
  flush(): Promise<void>;
  /** Readiness: whether the last contact with InfluxDB succeeded. */
  readonly influxReachable: boolean;
  readonly bufferedPoints: number;
}

/**
 * SIGTERM must end within 10 s (CONTRACT §1), and `up` stops its services one after the other within
 * 9 s (src/cli/runtime.ts), the broker after the ingest (up to 3 s): 5 s here, MQTT included.
 */
const STOP_BUDGET_MS = 5_000;
const MQTT_END_MS = 2_000;
const PING_INTERVAL_MS = 10_000;

export async function startIngest(ctx: ServiceContext, deps: IngestDeps): Promise<RunningIngest> {
  const { env, campus } = ctx;
  const log = ctx.log.child({ service: "ingest" });
  const metrics = createIngestMetrics(ctx.metrics);
  const router = buildRouter(campus);
  for (const device of router.unsupported) {
    log.warn({ device: device.id, format: device.format }, "device format not supported yet; its topics are not read");
  }
  const refusalLog = new RateLimiter(60_000);
  const deadLetters = new DeadLetterLog(join(env.dataDir, "dead-letter"), {
    onDropped: (count) => metrics.deadLetterDropped.inc(count),
    onError: (error) => log.error({ err: error }, "cannot write the dead-letter log"),
  });

  let stopping = false;
  let reachable = false;
  let databaseReady = false;
  const setReachable = (value: boolean) => {
    reachable = value;
    metrics.influxReachable.set(value ? 1 : 0);
  };

  const ensureDatabase = async () => {
    await deps.influx.ensureDatabase();
    databaseReady = true;
    setReachable(true);
  };

  const write = async (lines: string) => {
    try {
      if (!databaseReady) {
        await ensureDatabase().catch((error: Error) => {
          throw new InfluxWriteError(`cannot create the database: ${error.message}`, 0, true);
        });
      }
      await deps.influx.write(lines);
      setReachable(true);
    } catch (error) {
      const status = error instanceof InfluxWriteError ? error.status : 0;
      if (status === 404) databaseReady = false; // dropped behind our back: create it again before the retry
      setReachable(status === 400);
      throw error;
    }
  };

  const updateBuffered = () => metrics.buffered.set(sink.bufferedPoints);
  const sink: PointSink = new InfluxSink({
    write,
    ...(deps.batch ? { batch: deps.batch } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.maxBufferedPoints ? { maxBufferedPoints: deps.maxBufferedPoints } : {}),
    onAttempt: (seconds) => metrics.writeDuration.observe(seconds),
    onBatch: (points) => metrics.batchSize.observe(points),
    onRetry: (attempt, error) => {
      metrics.writeRetries.inc();
      // The first failure and then every tenth: an outage is visible without flooding the log.
      if (attempt === 1 || attempt % 10 === 0) log.warn({ attempt, err: error }, "InfluxDB write failed; retrying");
    },
    onStored: (points) => {
      countByMeasurement(points, (measurement, count) => metrics.pointsStored.inc({ measurement }, count));
      updateBuffered();
    },
    onDeadLetter: (point, line, reason) => {
      metrics.deadLettered.inc();
      const device = point.tags.device ?? null;
      deadLetters.append({ t: Date.now(), topic: null, device, code: ErrorCodes.INFLUX_REJECTED, reason, payload: line });
      if (refusalLog.check(`influx:${device}`, Date.now()).log) log.warn({ device, reason }, "InfluxDB refused a point; dead-lettered");
    },
    onDropped: (count, reason) => {
      metrics.dropped.inc({ reason }, count);
      log.error({ count, reason }, "points dropped before reaching InfluxDB");
      updateBuffered();
    },
  });

  // Create the database now if InfluxDB answers; otherwise keep trying in the background (never crash:
  // the live stream works without the database, and readings wait in the sink).
  const ensureLoop = (async () => {
    for (let attempt = 0; !stopping && !databaseReady; attempt++) {
      try {
        await ensureDatabase();
      } catch (error) {
        setReachable(false);
        if (attempt === 0) log.warn({ err: error, url: redactUrl(deps.influx.config.url) }, "InfluxDB not reachable; will keep retrying");
        await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, Math.random(), deps.retry ?? DEFAULT_RETRY)).unref());
      }
    }
  })();
  await Promise.race([ensureLoop, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);

  const pingTimer = setInterval(() => {
    void deps.influx.ping().then((ok) => setReachable(ok));
  }, PING_INTERVAL_MS);
  pingTimer.unref();

  // Not connectService(): with a persistent session the broker sends the queued messages right after
  // CONNACK, and mqtt.js works through received packets on process.nextTick, which runs before an
  // `await connect…()` continuation; a message emitted before the handler exists is acknowledged and
  // lost. (Not reproduced with aedes 1.2.0, which sends them a little later; other brokers may not.)
  const client: MqttClient = mqtt.connect(
    env.mqttUrl,
    mqttOptions({ url: env.mqttUrl, clientId: deps.clientId ?? "campus-ingest", username: SERVICE_USERNAME, password: env.servicePassword, clean: false }),
  );
  client.on("message", (topic, payload) => {
    const receivedAt = Date.now();
    const effects = processMessage(router, topic, payload, {
      receivedAt,
      maxAgeMs: env.rawRetentionMs,
      timeZone: campus.site.timezone,
    });
    metrics.messages.inc({ kind: effects.kind, format: effects.format });
    for (const message of effects.publish) {
      client.publish(message.topic, message.payload, { qos: 1, retain: message.retain }, (error) => {
        if (error && !stopping) log.warn({ err: error, topic: message.topic }, "cannot publish the normalised stream");
      });
    }
    sink.push(effects.points, receivedAt);
    updateBuffered();
    for (const reason of effects.fallbacks) metrics.timestampFallbacks.inc({ reason });
    if (effects.refusals.length > 0) {
      for (const refusal of effects.refusals) metrics.refusals.inc({ code: refusal.code });
      const first = effects.refusals[0]!;
      const reason = effects.refusals.map((r) => r.reason).join("; ");
      // One dead letter per message (its payload once), however many items of a batch were bad.
      deadLetters.append({ t: receivedAt, topic, device: effects.device, code: first.code, reason, payload });
      const decision = refusalLog.check(effects.device ?? topic, receivedAt);
      if (decision.log) {
        log.warn({ device: effects.device, topic, code: first.code, reason: reason.slice(0, 500), suppressed: decision.suppressed }, "refused a message");
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onConnect = () => (client.off("error", onError), resolve());
    const onError = (error: Error) => (client.off("connect", onConnect), client.end(true), reject(error));
    client.once("connect", onConnect);
    client.once("error", onError);
  }).catch((error: unknown) => {
    stopping = true; // ends the database loop
    clearInterval(pingTimer);
    throw error;
  });
  client.on("error", (error) => log.warn({ err: error }, "MQTT error"));
  const granted = await client.subscribeAsync([...router.subscriptions], { qos: 1 });
  const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
  if (refused.length > 0) log.error({ topics: refused }, "the broker refused some subscriptions");
  log.info({ subscriptions: router.subscriptions.length, influx: redactUrl(deps.influx.config.url) }, "ingest started");

  let stopped: Promise<void> | null = null;
  return {
    get influxReachable() {
      return reachable;
    },
    get bufferedPoints() {
      return sink.bufferedPoints;
    },
    async flush() {
      await sink.flush();
      await deadLetters.flush();
      updateBuffered();
    },
    stop() {
      stopped ??= (async () => {
        const deadline = Date.now() + STOP_BUDGET_MS;
        stopping = true;
        clearInterval(pingTimer);
        // Stop receiving first: with a persistent session the broker keeps what arrives meanwhile.
        await endClient(client);
        await sink.close(deadline);
        await deadLetters.flush();
        updateBuffered();
        log.info("ingest stopped");
      })();
      return stopped;
    },
  };
}

async function endClient(client: MqttClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => client.end(true, {}, () => resolve()), MQTT_END_MS);
  });
  await Promise.race([client.endAsync(false), forced]);
  clearTimeout(timer);
}

function countByMeasurement(points: readonly Point[], add: (measurement: string, count: number) => void): void {
  const counts = new Map<string, number>();
  for (const point of points) counts.set(point.measurement, (counts.get(point.measurement) ?? 0) + 1);
  for (const [measurement, count] of counts) add(measurement, count);
}
