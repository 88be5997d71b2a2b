// The API as a fastify instance, without listen(): tests drive it with app.inject()/injectWS(),
// index.ts listens. Plugins are registered in order, each by name: the security headers (on every answer),
// authentication (every route, the docs included, is checked), then swagger (it documents the routes
// registered after it), websocket, the static files, and the named route plugins, each of which declares
// what it needs.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import fastifyWebsocket from "@fastify/websocket";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { authentication } from "./auth.js";
import { DEFAULT_AUTH_LIMITS, FailedAuthLimiter } from "./auth-limiter.js";
import type { AppDeps, RouteDeps } from "./deps.js";
import { answerFrameworkError, ErrorBodySchema, errorBody, toErrorResponse } from "./errors.js";
import { liveStream } from "./live/plugin.js";
import { cspHeader, securityHeaders, SWAGGER_UI_CSP } from "./security-headers.js";
import { alertRoutes } from "./routes/alerts.js";
import { commandRoutes } from "./routes/commands.js";
import { deviceRoutes } from "./routes/devices.js";
import { energyRoutes } from "./routes/energy.js";
import { reportRoutes } from "./routes/reports.js";
import { printableReportRoutes } from "./routes/printable-report.js";
import { silenceRoutes } from "./routes/silences.js";
import { siteRoutes } from "./routes/sites.js";
import { sessionRoutes } from "./routes/session.js";
import { systemRoutes } from "./routes/system.js";

export type { AppDeps } from "./deps.js";

const DASHBOARD_DIR = fileURLToPath(new URL("./dashboard/", import.meta.url));
// uPlot (charts, ~50 KB, no framework) is served from its npm package: no build step, no copy in the repo.
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");

/** Removes `token=` from a URL before it is logged: tokens are never logged. */
export const redactUrl = (url: string) => url.replace(/([?&]token=)[^&]*/gi, "$1[redacted]");

export function buildApp(appDeps: AppDeps): FastifyInstance {
  const deps: RouteDeps = { ...appDeps, authLimiter: appDeps.authLimiter ?? new FailedAuthLimiter({ ...DEFAULT_AUTH_LIMITS, ...appDeps.authLimits }) };
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    // Fastify's request log would print the raw URL (a `?token=` on /api/live): we log our own below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // The router's own refusals (a too-long path parameter, broken percent-encoding) in the documented error shape.
    frameworkErrors: answerFrameworkError,
    // Keep-alive sockets must not hold stop() up.
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(ErrorBodySchema);
  // First, so every answer carries them: a 401 of the auth plugin, errors and 404s included (CONTRACT §13).
  app.register(securityHeaders);
  // Tokens, sessions and the limiter run on the wall clock, as the live stream does (api/live/connection.ts):
  // deps.now is the data's clock (query defaults), which a test may set days back.
  app.register(authentication, { campus: deps.campus, tokens: deps.tokens, limiter: deps.authLimiter, ...(deps.sessions ? { sessions: deps.sessions } : {}) });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug({ method: request.method, url: redactUrl(request.url), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) request.log.error({ err: error, url: redactUrl(request.url) }, "request failed");
    reply.code(status).type("application/json").send(body);
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).type("application/json").send(errorBody("NOT_FOUND", "no such route"));
  });

  app.register(fastifySwagger, {
    openapi: {
      info: { title: "campus-power API", version: "0.1.0", description: "REST API of campus-power (CONTRACT §6, §9). A principal scoped to some sites sees only theirs: anything of another site answers 404 as an unknown id does, and every list route takes `site=`. The live stream is WebSocket GET /api/live, documented in docs/api.md." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  app.register(fastifySwaggerUi, {
    routePrefix: "/api/docs",
    // Its own policy on its own routes (api/security-headers.ts): Swagger UI sets <style> elements.
    staticCSP: cspHeader(SWAGGER_UI_CSP),
    uiConfig: {
      persistAuthorization: true,
      // Serialized into the page: sends the dashboard's stored token with the spec request and "Try it out".
      requestInterceptor: (request: { headers: Record<string, string> }) => {
        const storage = (globalThis as { localStorage?: { getItem(key: string): string | null } }).localStorage;
        const token = storage?.getItem("campus-power-token");
        if (token && !request.headers.Authorization) request.headers.Authorization = `Bearer ${token}`;
        return request;
      },
    } as Record<string, unknown>,
  });
  app.register(fastifyWebsocket, {
    options: { maxPayload: 64 * 1024 },
    // On close, tell live clients why (1001 "going away") instead of the default bare close, and do not
    // wait for a client that never answers the close handshake.
    preClose(this: FastifyInstance, done: () => void) {
      for (const client of this.websocketServer.clients) {
        client.close(1001, "server shutting down");
        setTimeout(() => client.terminate(), 1_000).unref();
      }
      this.websocketServer.close(() => done());
    },
  });
  app.register(fastifyStatic, { root: DASHBOARD_DIR, prefix: "/", wildcard: false, index: "index.html" });
  app.register(async (vendor) => {
    vendor.register(fastifyStatic, { root: UPLOT_DIR, prefix: "/vendor/uplot/", wildcard: false, allowedPath: (path) => /^\/uPlot\.(iife\.min\.js|min\.css)$/.test(path), decorateReply: false });
  });

  app.register(systemRoutes, deps); // campus-power-system: /api/health, /api/ready, /api/me, /metrics
  app.register(siteRoutes, deps); // campus-power-sites: /api/sites (the district's schools in scope)
  app.register(deviceRoutes, deps); // campus-power-devices: /api/devices, /api/buildings, readings
  app.register(alertRoutes, deps); // campus-power-alerts: /api/alerts, acknowledgements
  app.register(energyRoutes, deps); // campus-power-energy: /api/energy
  app.register(reportRoutes, deps); // campus-power-reports: /api/reports/energy (JSON, CSV, xlsx)
  app.register(printableReportRoutes, deps); // campus-power-printable-report: /reports/{site}/{YYYY-MM} (HTML for print)
  app.register(silenceRoutes, deps); // campus-power-silences: /api/silences
  app.register(commandRoutes, deps); // campus-power-commands: /api/commands (remote switching)
  if (deps.sessions) app.register(sessionRoutes, { sessions: deps.sessions, addressLimiter: deps.authLimiter }); // campus-power-session: /api/login, /api/logout
  app.register(liveStream, deps); // campus-power-live: WebSocket /api/live, after @fastify/websocket
  return app;
}
