// The split broker, ingest and alerts services' own small HTTP endpoint (METRICS_PORT; the API serves the
// same on HTTP_PORT): `GET /metrics` in the Prometheus text format, with which role this process holds
// (CONTRACT §12), and `GET /ready` for a supervisor's or load balancer's health check. Nothing else: every
// other path is 404, every other method 405, and nothing here reads a request body. With METRICS_TOKEN,
// `/metrics` (here and on the API's port) answers only `Authorization: Bearer <METRICS_TOKEN>`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { bearerToken, safeEqual } from "../domain/credentials.js";
import type { AddressInfo } from "node:net";
import type { Logger } from "./logger.js";
import { Gauge, metric, type Registry } from "./metrics.js";

export interface MetricsEndpointOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  log: Logger;
  /** "broker", "ingest" or "alerts". */
  service: string;
  /** This process's name among its peers (INSTANCE_NAME), or "" alone. */
  instance: string;
  /** The role it holds now, read at each scrape: "single", "node", "worker", "active", "standby"…; null until started. */
  role: () => string | null;
  /** METRICS_TOKEN: `/metrics` asks for it as a bearer token; "" or absent: it asks for none (CONTRACT §6). */
  token?: string;
}

/**
 * Whether a request for `/metrics` may have it: always without METRICS_TOKEN, else only with `Authorization:
 * Bearer <it>` (compared in constant time). The metrics name every school's id and count its deliveries.
 */
export function metricsAllowed(authorization: string | string[] | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const presented = bearerToken(authorization);
  return presented !== null && safeEqual(presented, token);
}

/** The answer to a `/metrics` request without the token. */
export const METRICS_UNAUTHORIZED = { error: "UNAUTHORIZED", message: "/metrics needs Authorization: Bearer <METRICS_TOKEN>" };

export interface MetricsEndpoint {
  port: number;
  stop(): Promise<void>;
}

/** The role gauge: one series, `role` and `instance` as labels, set when scraped (the role can change at any time). */
function registerInstanceInfo(options: MetricsEndpointOptions): void {
  const name = "campus_power_instance_info";
  metric(options.registry, name, () => new Gauge({
    name,
    help: "Which service this process runs and the role it holds now (CONTRACT §12): single (no REDIS_URL), node (a broker node), worker (an ingest worker), active or standby (alerts); starting until it runs",
    labelNames: ["service", "role", "instance"],
    registers: [options.registry],
    collect() {
      this.reset();
      this.set({ service: options.service, role: options.role() ?? "starting", instance: options.instance }, 1);
    },
  }));
}

export async function startMetricsEndpoint(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  registerInstanceInfo(options);
  const answer = (response: ServerResponse, status: number, type: string, body: string) => {
    response.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics" && path !== "/ready") return answer(response, 404, "application/json", JSON.stringify({ error: "NOT_FOUND", message: "only /metrics and /ready are served here" }));
    if (request.method !== "GET" && request.method !== "HEAD") return answer(response, 405, "application/json", JSON.stringify({ error: "METHOD_NOT_ALLOWED", message: "GET only" }));
    if (path === "/metrics") {
      if (!metricsAllowed(request.headers.authorization, options.token)) return answer(response, 401, "application/json", JSON.stringify(METRICS_UNAUTHORIZED));
      return answer(response, 200, options.registry.contentType, await options.registry.metrics());
    }
    const role = options.role();
    // A standby alerts process is ready (it is doing its job: waiting to take over); only "not started yet" is not.
    answer(response, role === null ? 503 : 200, "application/json", JSON.stringify({ ready: role !== null, service: options.service, role: role ?? "starting", instance: options.instance }));
  };
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.log.error({ err: error }, "metrics endpoint: could not answer");
      if (!response.headersSent) answer(response, 500, "application/json", JSON.stringify({ error: "INTERNAL", message: "could not collect the metrics" }));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => (server.off("error", reject), resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ host: options.host, port }, "metrics endpoint listening (/metrics, /ready)");
  return {
    port,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
