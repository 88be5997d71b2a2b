// GET /api/health, /api/ready and /metrics (CONTRACT §6).
import { Type as T } from "@sinclair/typebox";
import { resultWithin } from "../../infra/timeout.js";
import { ErrorBodySchema, errorBody } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import { ReadySchema } from "../schemas.js";

const PROBE_TIMEOUT_MS = 2_500;

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

  const NotReadySchema = T.Composite([ReadySchema, ErrorBodySchema]);
  app.get(
    "/api/ready",
    {
      schema: {
        summary:
          "Readiness: 200 when MQTT and InfluxDB are reachable and the ingest (when one publishes its health) is ok, else 503 naming what is not. " +
          "No ingest heard of: no `ingest` check, header `x-ingest-health: unknown`",
        tags: ["system"],
        response: { 200: ReadySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: NotReadySchema },
      },
    },
    async (_request, reply) => {
      const [mqtt, influxdb] = await Promise.all([probe(deps.probes.mqtt), probe(deps.probes.influxdb)]);
      // The ingest's retained health: unknown (never heard of — an API without an ingest, as in tests, or
      // one started before it) does not fail readiness, it is only said in a header; ok: false does.
      const health = deps.probes.ingest?.() ?? null;
      reply.header("x-ingest-health", health === null ? "unknown" : health.ok ? "ok" : "not-ok");
      const checks: { mqtt: boolean; influxdb: boolean; ingest?: boolean } = { mqtt, influxdb };
      const ingest = health === null ? {} : { ingest: health };
      if (health !== null) checks.ingest = health.ok;
      if (mqtt && influxdb && health?.ok !== false) return { status: "ready" as const, checks, ...ingest };
      const down = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => (name === "ingest" ? `ingest (${ingestProblem(health!)})` : name));
      reply.code(503);
      return { status: "not_ready" as const, checks, ...ingest, ...errorBody("NOT_READY", `not reachable: ${down.join(", ")}`) };
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

  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.type(deps.metrics.contentType);
    return deps.metrics.metrics();
  });
});
