// The API service: an MQTT client of the broker (service account) that feeds the live state from the
// internal stream, relays acknowledgements, silences and switching commands to the alerts service, and
// serves buildApp() over HTTP, or HTTPS when TLS is on (./http-listener.ts). With `redis` (REDIS_URL, CONTRACT
// §12) it is one instance among several: sign-in sessions and failed-authentication counts are shared through
// Redis and /api/ready says whether Redis answers (./ha/instance.ts).
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { AckRequest } from "../domain/alert.js";
import type { CommandRequest } from "../domain/command.js";
import { tokenSiteProblems } from "../domain/env/api-tokens.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import { decodeAckResult } from "../domain/internal-stream.js";
import { type SilenceRequest, type SilenceResult, silenceTopic } from "../domain/silence.js";
import { ALERTS_FILTER, INGEST_HEALTH_TOPIC, INTERNAL_FILTERS, type IngestHealth, internalTopic, parseInternalTopic } from "../domain/topics.js";
import type { InfluxClient } from "../infra/influx.js";
import type { Exposition } from "../infra/metrics.js";
import { connectService, type MqttClient } from "../infra/mqtt.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { finishesWithin, resultWithin } from "../infra/timeout.js";
import { type TlsCredentials, tlsFromEnv } from "../infra/tls.js";
import { type AppDeps, buildApp } from "./app.js";
import { DEFAULT_AUTH_LIMITS, FailedAuthLimiter } from "./auth-limiter.js";
import { decodeCommandResult } from "./command-result.js";
import { type HttpListener, listenHttp } from "./http-listener.js";
import { AckTimeoutError, type AckResult } from "./deps.js";
import { type ApiInstance, type ApiRedisConfig, registerRoleMetric, startApiInstance } from "./ha/instance.js";
import type { LiveOptions } from "./live/options.js";
import { LiveState } from "./live-state.js";
import { RetainedGuard } from "./retained-guard.js";
import { SessionStore } from "./sessions.js";

export { buildApp, type AppDeps } from "./app.js";
export { AckTimeoutError, type AckResult } from "./deps.js";
export { LiveState } from "./live-state.js";

export const ACK_TIMEOUT_MS = 5_000;
const SILENCE_RESULT_PREFIX = silenceTopic.result("");

export interface ApiDeps {
  influx: InfluxClient;
  /** Overrides ctx.env.httpPort (0 = an ephemeral port). */
  port?: number;
  /** Overrides ctx.env.bindHost. */
  host?: string;
  live?: Partial<LiveOptions>;
  ackTimeoutMs?: number;
  /** Overrides the failed-authentication limits (tests). */
  authLimits?: AppDeps["authLimits"];
  /** Named accounts' login tokens (api/sessions.ts); absent: API_TOKENS only. */
  sessions?: SessionStore;
  /** The served certificate (shared with the broker so one SIGHUP reloads both). Default: from TLS_CERT_FILE / TLS_KEY_FILE. */
  tls?: TlsCredentials | null;
  /**
   * REDIS_URL (CONTRACT §12): one instance among several, sessions and failed sign-ins shared through Redis
   * (then DATA_DIR/sessions.json is not used). Absent: the single-process API, exactly as before.
   */
  redis?: ApiRedisConfig;
  /** What /metrics serves (default ctx.metrics; `up` adds its alerts thread's: cli/service-thread.ts). */
  exposition?: Exposition;
}

export interface RunningApi extends RunningService {
  port: number;
  url: string;
  state: LiveState;
}

/**
 * CONTRACT §9: a token scoped to a site the district lacks is refused at start, by its position in
 * API_TOKENS (never the token). Thrown before anything connects or listens.
 */
export function checkTokenSites(ctx: Pick<ServiceContext, "env" | "campus">): void {
  const problems = tokenSiteProblems(ctx.env.apiTokens, new Set(ctx.campus.sites.map((s) => s.site.id)));
  if (problems.length > 0) throw new CampusError(ErrorCodes.ENV_INVALID, "API_TOKENS scopes a token to a site the district does not have", problems);
}

export async function startApi(ctx: ServiceContext, deps: ApiDeps): Promise<RunningApi> {
  checkTokenSites(ctx);
  const log = ctx.log.child({ service: "api" });
  const tls = deps.tls === undefined ? tlsFromEnv(ctx.env, log) : deps.tls;
  // Redis may be away: the instance starts all the same and /api/ready answers 503 until it is back.
  const instance: ApiInstance | null = deps.redis ? startApiInstance(deps.redis, log, ctx.metrics) : null;
  if (instance === null) registerRoleMetric(ctx.metrics, "single", "");
  // Named accounts (docs/accounts.md): a bad USERS_FILE stops the start here, every problem listed.
  let sessions: SessionStore;
  try {
    const shared = instance ? { sessionsFile: null, shared: instance.sharedSessions } : { sessionsFile: join(ctx.env.dataDir, "sessions.json") };
    sessions = deps.sessions ?? new SessionStore({ usersFile: ctx.env.usersFile, log, ...shared });
  } catch (error) {
    await instance?.stop();
    throw error;
  }
  // Shared: one count of failed authentications per address for every instance (./auth-limiter.ts).
  const authLimiter = instance ? new FailedAuthLimiter({ ...DEFAULT_AUTH_LIMITS, ...deps.authLimits }, instance.failures) : undefined;
  const state = new LiveState(ctx.campus);
  // Requests waiting for the alerts service's answer (acks and silences), by request_id.
  const pending = new Map<string, (payload: Buffer | null) => void>();
  const clientId = `campus-api-${randomBytes(6).toString("hex")}`;
  const mqtt: MqttClient = await connectService(ctx.env.mqttUrl, ctx.env.servicePassword, clientId).catch(async (error: unknown) => {
    if (instance) await Promise.all([deps.sessions ? null : sessions.close(), instance.stop()]);
    throw error;
  });

  // The ingest's retained health (docs/ingest.md): null until one is heard of (no ingest, or not yet published).
  let ingestHealth: IngestHealth | null = null;
  const retainedGuard = new RetainedGuard();
  mqtt.on("message", (topic, payload, packet) => {
    if (!retainedGuard.accept(topic, packet.retain)) return; // a stale retained copy (./retained-guard.ts)
    if (topic === INGEST_HEALTH_TOPIC) {
      ingestHealth = decodeIngestHealth(payload);
      return;
    }
    const internal = parseInternalTopic(topic);
    const answers = internal?.kind === "ack-result" || internal?.kind === "command-result";
    const requestId = answers ? internal.requestId : topic.startsWith(SILENCE_RESULT_PREFIX) ? topic.slice(SILENCE_RESULT_PREFIX.length) : null;
    if (requestId !== null) {
      pending.get(requestId)?.(payload); // absent: another API instance's request
      return;
    }
    state.applyMessage(topic, payload, Date.now(), packet.retain);
  });
  let connections = 0;
  mqtt.on("connect", () => {
    // mqtt.js re-subscribes on reconnect and the broker re-sends the retained alerts that are still open.
    retainedGuard.reset();
    if (++connections > 1) state.forgetAlerts();
  });
  mqtt.on("error", (error) => log.warn({ err: error }, "mqtt error"));
  await mqtt.subscribeAsync({
    [INTERNAL_FILTERS.readings]: { qos: 0 },
    [INTERNAL_FILTERS.readingBatches]: { qos: 1 },
    [INGEST_HEALTH_TOPIC]: { qos: 1 },
    [INTERNAL_FILTERS.status]: { qos: 1 },
    [INTERNAL_FILTERS.events]: { qos: 1 },
    [ALERTS_FILTER]: { qos: 1 },
    [INTERNAL_FILTERS.ackResults]: { qos: 1 },
    [INTERNAL_FILTERS.commandResults]: { qos: 1 },
    [internalTopic.commands]: { qos: 1 },
    [silenceTopic.list]: { qos: 1 },
    [silenceTopic.results]: { qos: 1 },
  });

  const ackTimeoutMs = deps.ackTimeoutMs ?? ACK_TIMEOUT_MS;
  const NO_ANSWER = Symbol("no answer");
  /** Publishes a request and resolves with the answer on its result topic (payload null: the API stopped). */
  const request = async (topic: string, requestId: string, body: unknown): Promise<Buffer | null> => {
    const answer = new Promise<Buffer | null>((resolve) => pending.set(requestId, resolve));
    mqtt.publish(topic, JSON.stringify(body), { qos: 1 }, (error) => {
      if (error) log.warn({ err: error, topic }, "could not publish a request to the alerts service");
    });
    try {
      const payload = await resultWithin(answer, ackTimeoutMs, NO_ANSWER);
      if (payload === NO_ANSWER) throw new AckTimeoutError(ackTimeoutMs);
      return payload;
    } finally {
      pending.delete(requestId);
    }
  };
  const stopped = (id: string) => ({ ok: false as const, code: "STOPPED", message: `the API stopped before request ${id} was answered` });
  const ack = async (ackRequest: AckRequest): Promise<AckResult> => {
    const payload = await request(internalTopic.ack, ackRequest.request_id, ackRequest);
    return payload === null ? stopped(ackRequest.request_id) : decodeAckResult(payload);
  };
  const silence = async (silenceRequest: SilenceRequest): Promise<SilenceResult> => {
    const payload = await request(silenceTopic.request, silenceRequest.request_id, silenceRequest);
    if (payload === null) return { ok: false, code: "INVALID", message: stopped(silenceRequest.request_id).message };
    try {
      return JSON.parse(payload.toString()) as SilenceResult;
    } catch {
      return { ok: false, code: "INVALID", message: "the alerts service sent an unreadable answer" };
    }
  };

  const command = async (commandRequest: CommandRequest) => {
    // The alerts service refuses a request it reaches after this API stopped waiting (domain/command.ts answer_by).
    const payload = await request(internalTopic.commandRequest, commandRequest.request_id, { ...commandRequest, answer_by: Date.now() + ackTimeoutMs });
    return payload === null ? stopped(commandRequest.request_id) : decodeCommandResult(payload);
  };

  const app = buildApp({
    campus: ctx.campus,
    tokens: ctx.env.apiTokens,
    sessions,
    state,
    influx: deps.influx,
    ack,
    silence,
    command,
    probes: {
      mqtt: () => mqtt.connected,
      influxdb: () => deps.influx.ping(),
      ingest: () => ingestHealth,
      ...(instance ? { instance: () => instance.readiness(() => sessions.loaded) } : {}),
    },
    ...(deps.authLimits ? { authLimits: deps.authLimits } : {}),
    ...(authLimiter ? { authLimiter } : {}),
    metrics: ctx.metrics,
    metricsToken: ctx.env.metricsToken,
    ...(deps.exposition ? { exposition: deps.exposition } : {}),
    log,
    ...(deps.live ? { live: deps.live } : {}),
  });
  const host = deps.host ?? ctx.env.bindHost;
  const limits = { headersTimeoutMs: ctx.env.httpHeadersTimeoutMs, requestTimeoutMs: ctx.env.httpRequestTimeoutMs, maxConnectionsPerAddress: ctx.env.httpMaxConnectionsPerAddress };
  let listener: HttpListener;
  try {
    listener = await listenHttp(app, { host, port: deps.port ?? ctx.env.httpPort }, limits, tls, log);
  } catch (error) {
    await app.close().catch(() => undefined);
    await mqtt.endAsync(true).catch(() => undefined);
    if (instance) {
      if (!deps.sessions) await sessions.close();
      await instance.stop();
    }
    throw error;
  }
  const port = listener.port;
  const loopback = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `${tls ? "https" : "http"}://${loopback}:${port}`;
  log.info({ port, tls: tls !== null, ...limits }, "api listening");

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      const closed = await finishesWithin(app.close(), 5_000).catch((error: unknown) => (log.warn({ err: error }, "api did not close cleanly"), true));
      if (!closed) log.warn("api did not close within 5 s");
      await finishesWithin(listener.close(), 1_000);
      for (const resolve of pending.values()) resolve(null);
      if (!(await finishesWithin(mqtt.endAsync(), 2_000).catch(() => false))) mqtt.end(true);
      // Shared: the last slides go to Redis, which must not hold the stop up when it does not answer.
      if (!deps.sessions) await (instance ? finishesWithin(sessions.close(), 2_000) : sessions.close());
      await instance?.stop();
    })());
  return { port, url, state, stop };
}

/** The retained health payload, or null when it is cleared (empty) or unreadable (= unknown). */
function decodeIngestHealth(payload: Buffer): IngestHealth | null {
  if (payload.length === 0) return null;
  try {
    const value: unknown = JSON.parse(payload.toString());
    return typeof value === "object" && value !== null && typeof (value as IngestHealth).ok === "boolean" ? (value as IngestHealth) : null;
  } catch {
    return null;
  }
}
