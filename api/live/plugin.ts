// WebSocket GET /api/live (CONTRACT §6): snapshot, then readings/status/alerts with a per-connection
// `seq`. One socket is a LiveConnection (./connection.ts); sessions, coalescing and resume are the
// hub's (./hub.ts, ./session.ts). A named plugin that needs @fastify/websocket.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type as T } from "@sinclair/typebox";
import fp from "fastify-plugin";
import { Counter, Gauge, metric } from "../../infra/metrics.js";
import { bearerToken } from "../auth.js";
import type { RouteDeps } from "../deps.js";
import { LiveConnection, resumeOf } from "./connection.js";
import { LiveHub } from "./hub.js";
import { DEFAULT_LIVE_OPTIONS, type LiveOptions } from "./options.js";

const LiveQuerySchema = T.Object({
  token: T.Optional(T.String({ description: "the bearer token, when not in the Authorization header or the first frame" })),
  session: T.Optional(T.String({ description: "a session to resume (the snapshot's `session`)" })),
  last_seq: T.Optional(T.String({ description: "the last seq the client saw of that session" })),
});

const stream: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const options: LiveOptions = { ...DEFAULT_LIVE_OPTIONS, ...deps.live };
  const registry = deps.metrics;
  const clients = metric(registry, "campus_power_api_live_clients", () => new Gauge({ name: "campus_power_api_live_clients", help: "Open live WebSocket connections", registers: [registry] }));
  const coalesced = metric(registry, "campus_power_api_live_coalesced_total", () => new Counter({ name: "campus_power_api_live_coalesced_total", help: "Live readings replaced by a newer one (per-device interval, or a slow client's outbox)", registers: [registry] }));
  const terminated = metric(registry, "campus_power_api_live_terminated_total", () => new Counter({ name: "campus_power_api_live_terminated_total", help: "Live clients terminated (slow = stopped reading, no_pong = gone)", labelNames: ["reason"], registers: [registry] }));
  const resumes = metric(registry, "campus_power_api_live_resumes_total", () => new Counter({ name: "campus_power_api_live_resumes_total", help: "Resume attempts: resumed after the last seq, or answered with a fresh snapshot", labelNames: ["result"], registers: [registry] }));

  const hub = new LiveHub(deps.state, options, {
    coalesced: (count) => coalesced.inc(count),
    terminated: (buffered) => {
      terminated.inc({ reason: "slow" });
      deps.log.warn({ buffered }, "live client stopped reading; terminated");
    },
    resume: (result) => resumes.inc({ result }),
  });
  app.addHook("onClose", async () => hub.stop());

  app.get("/api/live", { websocket: true, schema: { hide: true, querystring: LiveQuerySchema } }, (socket, request) => {
    const connection = new LiveConnection(socket, request.ip, deps, hub, options, {
      terminated: (reason) => terminated.inc({ reason }),
      closed: () => clients.dec(),
    });
    clients.inc();
    const { token, session, last_seq } = request.query;
    connection.start(bearerToken(request.headers.authorization) ?? (token || null), resumeOf(session, last_seq));
  });
};

export const liveStream = fp(stream, { name: "campus-power-live", dependencies: ["@fastify/websocket"], encapsulate: true });
