// GET /api/health, /api/ready and /metrics (CONTRACT §6; with METRICS_TOKEN, /metrics asks for it).
import { Type as T } from "@sinclair/typebox";
import { METRICS_UNAUTHORIZED, metricsAllowed } from "../../infra/metrics-server.js";
import { resultWithin } from "../../infra/timeout.js";
import { ErrorBodySchema, errorBody } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import { ReadySchema } from "../schemas.js";

const PROBE_TIMEOUT_MS = 2_500;

/**
 * /api/ready's answer: ReadySchema, and with REDIS_URL (CONTRACT §12) the `redis` check, the instance's role and
 * name and the active alerts service. Without REDIS_URL the answer is exactly ReadySchema's, as before.
 */
const ReadyReplySchema = T.Object({
  ...ReadySchema.properties,
  checks: T.Object({ ...ReadySchema.properties.checks.properties, redis: T.Optional(T.Boolean({ description: "with REDIS_URL: Redis answers and this instance's sessions were read from it" })) }),
  role: T.Optional(T.Literal("instance", { description: "with REDIS_URL: one API instance among several sharing Redis (absent: the single-process API)" })),
  instance: T.Optional(T.String({ description: "with REDIS_URL: this instance's name" })),
  alerts: T.Optional(
    T.Object(
      { active: T.Union([T.String(), T.Null()], { description: "the alerts service holding the lease; null: none (acknowledgements and commands then wait and time out)" }), since: T.Optional(T.Union([T.Number(), T.String(), T.Null()])) },
      { description: "with REDIS_URL and Redis reachable: the active alerts service (Redis key campus:alerts:lease)" },
    ),
  ),
});

/** A probe's answer, false on error or after PROBE_TIMEOUT_MS. */
function probe(check: () => boolean | Promise<boolean>): Promise<boolean> {
  return resultWithin(Promise.resolve().then(check).catch(() => false), PROBE_TIMEOUT_MS, false);
}

function ingestProblem(health: { reason?: string; spool_full?: boolean }): string {
  if (health.reason) return health.reason;
  return health.spool_full ? "spool full" : "not ok";
}

export const systemRoutes = routePlugin("campus-power-system", async (app, deps) => {
  app.get(
    "/api/health",
    { schema: { summary: "Liveness: ok while the process runs (no auth)", tags: ["system"], response: { 200: T.Object({ status: T.Literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );

  const NotReadySchema = T.Composite([ReadyReplySchema, ErrorBodySchema]);
  app.get(
    "/api/ready",
    {
      schema: {
        summary:
          "Readiness: 200 when MQTT and InfluxDB are reachable and the ingest (when one publishes its health) is ok, else 503 naming what is not. " +
          "No ingest heard of: no `ingest` check, header `x-ingest-health: unknown`. " +
          "With REDIS_URL also a `redis` check, `role`, `instance` and `alerts` (header `x-alerts-instance`: its name, `none` or `unknown`); no active alerts service does not fail readiness",
        tags: ["system"],
        response: { 200: ReadyReplySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: NotReadySchema },
      },
    },
    async (_request, reply) => {
      const [mqtt, influxdb, instance] = await Promise.all([probe(deps.probes.mqtt), probe(deps.probes.influxdb), deps.probes.instance?.() ?? null]);
      // The ingest's retained health: unknown (never heard of — an API without an ingest, as in tests, or
      // one started before it) does not fail readiness, it is only said in a header; ok: false does.
      const health = deps.probes.ingest?.() ?? null;
      reply.header("x-ingest-health", health === null ? "unknown" : health.ok ? "ok" : "not-ok");
      const checks: { mqtt: boolean; influxdb: boolean; redis?: boolean; ingest?: boolean } = { mqtt, influxdb };
      const ingest = health === null ? {} : { ingest: health };
      if (instance !== null) checks.redis = instance.redis;
      if (health !== null) checks.ingest = health.ok;
      // With REDIS_URL: which instance answers, and which alerts service is active (none does not fail readiness:
      // reads and the live stream go on; acknowledgements and commands wait for one, as without an alerts service).
      const role = instance === null ? {} : { role: "instance" as const, instance: instance.instance, ...(instance.alerts === undefined ? {} : { alerts: { active: instance.alerts?.instance ?? null, ...(instance.alerts ? { since: instance.alerts.since } : {}) } }) };
      if (instance !== null) reply.header("x-alerts-instance", instance.alerts === undefined ? "unknown" : encodeURIComponent(instance.alerts?.instance ?? "none"));
      if (mqtt && influxdb && instance?.redis !== false && health?.ok !== false) return { status: "ready" as const, checks, ...ingest, ...role };
      const down = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => (name === "ingest" ? `ingest (${ingestProblem(health!)})` : name));
      reply.code(503);
      return { status: "not_ready" as const, checks, ...ingest, ...role, ...errorBody("NOT_READY", `not reachable: ${down.join(", ")}`) };
    },
  );

  app.get(
    "/api/me",
    {
      schema: {
        summary: "The caller's role and scope (lets the dashboard show operator actions and the sites it may open)",
        tags: ["system"],
        response: { 200: T.Object({ role: T.String(), name: T.String(), sites: T.Union([T.Array(T.String()), T.Null()], { description: "the sites it sees; null = the whole district" }) }), 401: ErrorBodySchema },
      },
    },
    async (request) => ({ role: request.principal!.role, name: request.principal!.name, sites: request.principal!.sites === null ? null : [...request.principal!.sites] }),
  );

  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (!metricsAllowed(request.headers.authorization, deps.metricsToken)) return reply.code(401).send(METRICS_UNAUTHORIZED);
    const exposition = deps.exposition ?? deps.metrics;
    reply.type(exposition.contentType);
    return exposition.metrics();
  });
});
