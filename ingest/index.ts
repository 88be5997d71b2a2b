// The ingest service: device topics (native and foreign) → decoded readings → (1) the normalised
// internal stream on MQTT, at once, and (2) the durable spool → InfluxDB (./durable-sink.ts).
// At least once end to end: QoS 1 on a persistent session, and a message is acknowledged to the broker
// only once its points are fsynced in the spool (./acks.ts). A full spool stops the acknowledgements
// (back-pressure: the broker keeps the messages) and says so: metric, log line, retained health topic.
import { join } from "node:path";
import mqtt from "mqtt";
import { SERVICE_USERNAME } from "../domain/campus.js";
import { ErrorCodes } from "../domain/errors.js";
import { RateLimiter } from "../domain/rate-limiter.js";
import { INGEST_HEALTH_TOPIC } from "../domain/topics.js";
import { type InfluxClient, InfluxWriteError, redactUrl } from "../infra/influx.js";
import { type MqttClient, mqttOptions } from "../infra/mqtt.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { finishesWithin } from "../infra/timeout.js";
import { holdAcks } from "./acks.js";
import { DeadLetterLog, refusedPointLetter } from "../infra/dead-letter.js";
import { DurableSink } from "./durable-sink.js";
import { createHealthReporter } from "./health.js";
import { createIngestMetrics } from "./metrics.js";
import { processMessage } from "./process-message.js";
import { ensureRetention } from "./retention.js";
import { buildRouter } from "./routing.js";
import { InternalStream } from "./stream.js";
import { type BackoffPolicy, INFLUX_BACKOFF, backoffDelayMs } from "../infra/backoff.js";


export interface IngestDeps {
  influx: InfluxClient;
  /** MQTT client id; its persistent session keeps QoS 1 messages while the ingest is away. */
  clientId?: string;
  retry?: BackoffPolicy;
  /** Spool size bound, bytes (default env SPOOL_MAX_MB). */
  spoolMaxBytes?: number;
  /** Spool folder (default DATA_DIR/ingest/<clientId>): one per worker, as each has its own MQTT session. */
  spoolDir?: string;
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
const MQTT_END_MS = 1_000;
const PING_INTERVAL_MS = 10_000;

export async function startIngest(ctx: ServiceContext, deps: IngestDeps): Promise<RunningIngest> {
  const { env, campus } = ctx;
  const log = ctx.log.child({ service: "ingest" });
  const metrics = createIngestMetrics(ctx.metrics);
  const router = buildRouter(campus);
  for (const device of router.unsupported) log.warn({ device: device.id, format: device.format }, "device format not supported; its topics are not read");
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
    await ensureRetention(deps.influx, env.rawRetentionMs / 86_400_000, log, campus);
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

  const sink = new DurableSink({
    dir: deps.spoolDir ?? join(env.dataDir, "ingest", deps.clientId ?? "campus-ingest"),
    maxBytes: deps.spoolMaxBytes ?? env.spoolMaxBytes,
    write,
    ...(deps.retry ? { retry: deps.retry } : {}),
    onAttempt: (seconds) => metrics.writeDuration.observe(seconds),
    onBatch: (points) => metrics.batchSize.observe(points),
    onRetry: (attempt, error) => {
      metrics.writeRetries.inc();
      // The first failure and then every tenth: an outage is visible without flooding the log.
      if (attempt === 1 || attempt % 10 === 0) log.warn({ attempt, err: error, backlogRecords: sink.spool.backlogRecords }, "InfluxDB write failed; retrying (readings wait in the spool)");
    },
    onStored: (lines, formats) => {
      const byMeasurement = new Map<string, number>();
      for (const line of lines) {
        const measurement = line.slice(0, line.search(/[, ]/));
        byMeasurement.set(measurement, (byMeasurement.get(measurement) ?? 0) + 1);
      }
      for (const [measurement, count] of byMeasurement) metrics.pointsStored.inc({ measurement }, count);
      for (const [format, count] of Object.entries(formats)) metrics.readingsStored.inc({ format }, count);
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
  });

  // Create the database now if InfluxDB answers; otherwise keep trying in the background (never crash:
  // the live stream works without the database, and readings wait in the spool).
  const ensureLoop = (async () => {
    for (let attempt = 0; !stopping && !databaseReady; attempt++) {
      try {
        await ensureDatabase();
      } catch (error) {
        setReachable(false);
        if (attempt === 0) log.warn({ err: error, url: redactUrl(deps.influx.config.url) }, "InfluxDB not reachable; will keep retrying");
        await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, Math.random(), deps.retry ?? INFLUX_BACKOFF)).unref());
      }
    }
  })();
  await finishesWithin(ensureLoop, 2_000);
  const pingTimer = setInterval(() => void deps.influx.ping().then((ok) => setReachable(ok)), PING_INTERVAL_MS);
  pingTimer.unref();

  // Not connectService(): with a persistent session the broker may send queued messages right after
  // CONNACK, before an `await connect…()` continuation would attach the handler.
  const client: MqttClient = mqtt.connect(env.mqttUrl, {
    ...mqttOptions({ url: env.mqttUrl, clientId: deps.clientId ?? "campus-ingest", username: SERVICE_USERNAME, password: env.servicePassword, clean: false }),
    will: { topic: INGEST_HEALTH_TOPIC, payload: Buffer.from(JSON.stringify({ ok: false, reason: "ingest offline" })), qos: 1, retain: true },
  });
  const acks = holdAcks(client);
  const stream = new InternalStream((topic, payload, qos, retain) => {
    client.publish(topic, payload, { qos, retain }, (error) => {
      if (error && !stopping) log.warn({ err: error, topic }, "cannot publish the normalised stream");
    });
  }, { source: deps.clientId ?? "campus-ingest" });
  let refusedWhileFull = false;
  // Per device, what its format keeps between messages (Shelly Gen2 status to overlay, active faults).
  const vendorState = new Map<string, unknown>();
  const health = createHealthReporter({
    client,
    sink,
    metrics,
    log,
    influxReachable: () => reachable,
    // Space again after a full spool: reconnect, so the broker redelivers what we left unacknowledged.
    onSpaceAgain: () => {
      if (!refusedWhileFull || stopping) return;
      refusedWhileFull = false;
      log.info("spool has room again; reconnecting so the broker redelivers the messages held back");
      client.stream?.destroy();
    },
  });

  client.on("message", (topic, payload, packet) => {
    const generation = acks.generation;
    if (sink.full) {
      // Back-pressure: not acknowledged, so the broker keeps it; nothing is dropped.
      refusedWhileFull = true;
      metrics.backpressured.inc();
      return;
    }
    const receivedAt = Date.now();
    const effects = processMessage(router, topic, payload, {
      receivedAt,
      maxAgeMs: env.rawRetentionMs,
      timeZone: campus.site.timezone,
      previousState: (key) => vendorState.get(key),
    });
    if (effects.state) vendorState.set(effects.state.key, effects.state.value);
    metrics.messages.inc({ kind: effects.kind, format: effects.format });
    if (effects.readings > 0) metrics.readingsReceived.inc({ format: effects.format }, effects.readings);
    for (const message of effects.publish) stream.push(message);
    sink.accept(effects.points, effects.format, effects.readings).then(
      () => acks.ack(packet, generation),
      (error: unknown) => log.error({ err: error }, "cannot write the spool; the message stays unacknowledged"),
    );
    for (const reason of effects.fallbacks) metrics.timestampFallbacks.inc({ reason });
    if (effects.refusals.length > 0) {
      for (const refusal of effects.refusals) metrics.refusals.inc({ code: refusal.code });
      const first = effects.refusals[0]!;
      const reason = effects.refusals.map((r) => r.reason).join("; ");
      // One dead letter per message (its payload once), however many items of a batch were bad.
      deadLetters.append({ t: receivedAt, topic, device: effects.device, code: first.code, reason, payload });
      const decision = refusalLog.check(effects.device ?? topic, receivedAt);
      if (decision.log) log.warn({ device: effects.device, topic, code: first.code, reason: reason.slice(0, 500), suppressed: decision.suppressed }, "refused a message");
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onConnect = () => (client.off("error", onError), resolve());
    const onError = (error: Error) => (client.off("connect", onConnect), client.end(true), reject(error));
    client.once("connect", onConnect);
    client.once("error", onError);
  }).catch(async (error: unknown) => {
    stopping = true; // ends the database loop
    stream.close();
    clearInterval(pingTimer);
    health.stop();
    await sink.close(Date.now());
    throw error;
  });
  client.on("error", (error) => log.warn({ err: error }, "MQTT error"));
  const granted = await client.subscribeAsync([...router.subscriptions], { qos: 1 });
  const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
  if (refused.length > 0) log.error({ topics: refused }, "the broker refused some subscriptions");
  health.publishNow();
  log.info({ subscriptions: router.subscriptions.length, influx: redactUrl(deps.influx.config.url), spoolBacklog: sink.spool.backlogRecords }, "ingest started");

  let stopped: Promise<void> | null = null;
  return {
    get influxReachable() {
      return reachable;
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
        stopping = true;
        clearInterval(pingTimer);
        health.stop();
        stream.close(); // the readings still batched, and every device's latest reading, retained
        // A clean disconnect does not fire the will: say "offline" ourselves, then stop receiving
        // (the persistent session keeps what arrives meanwhile), then let the spool drain what it can.
        await client.publishAsync(INGEST_HEALTH_TOPIC, JSON.stringify({ ok: false, reason: "ingest offline" }), { qos: 1, retain: true }).catch(() => undefined);
        await endClient(client);
        await sink.close(deadline);
        await deadLetters.flush();
        log.info({ spoolBacklog: sink.spool.backlogRecords }, "ingest stopped");
      })();
      return stopped;
    },
  };
}

/** A clean DISCONNECT, forced after MQTT_END_MS. */
async function endClient(client: MqttClient): Promise<void> {
  if (!(await finishesWithin(client.endAsync(false), MQTT_END_MS))) await client.endAsync(true);
}
