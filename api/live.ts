// WebSocket GET /api/live (CONTRACT §6): snapshot, then readings/status/alerts with a per-connection
// `seq`. Auth by header, `?token=` or a first `{"type":"auth"}` frame (4401 otherwise; 4429 while the
// address is rate-limited). Sessions, coalescing and resume live in live-hub.ts / live-session.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { Counter, Gauge, metric } from "../infra/metrics.js";
import { authenticate, bearerToken } from "./auth.js";
import { normaliseInterval } from "./coalescer.js";
import type { RouteDeps } from "./deps.js";
import { LiveHub, type Subscription } from "./live-hub.js";
import type { LiveSession } from "./live-session.js";
import { DEFAULT_LIVE_OPTIONS, type LiveOptions } from "./outbox.js";

export { toMessage } from "./live-hub.js";

export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_RATE_LIMITED = 4429;
const OPEN = 1;

interface Resume {
  session: string;
  lastSeq: number;
}

const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);

function resumeOf(session: unknown, lastSeq: unknown): Resume | null {
  const seq = typeof lastSeq === "string" ? Number(lastSeq) : lastSeq;
  return typeof session === "string" && session !== "" && typeof seq === "number" && Number.isInteger(seq) ? { session, lastSeq: seq } : null;
}

/** One socket: authenticates, then binds to a (new or resumed) session of the hub. */
class LiveConnection {
  private session: LiveSession | null = null;
  private authTimer: NodeJS.Timeout | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly address: string,
    private readonly deps: RouteDeps,
    private readonly hub: LiveHub,
    private readonly options: LiveOptions,
    private readonly onTerminated: (reason: string) => void,
    private readonly onClosed: () => void,
  ) {
    // Attached synchronously: frames that arrive during async work would be lost otherwise.
    socket.on("message", (data) => this.receive(data.toString()));
    socket.on("pong", () => (this.alive = true));
    socket.on("close", () => this.cleanUp());
    socket.on("error", () => socket.terminate());
    this.pingTimer = setInterval(() => this.keepAlive(), options.pingIntervalMs);
  }

  /** Called with the token (and resume point) from the header or query, if any; otherwise waits for an auth frame. */
  start(presented: string | null, resume: Resume | null): void {
    if (presented !== null) return this.authenticateWith(presented, resume);
    this.authTimer = setTimeout(() => this.refuse(CLOSE_UNAUTHORIZED, "no token within the auth timeout"), this.options.authTimeoutMs);
  }

  private authenticateWith(token: string, resume: Resume | null): void {
    const now = Date.now();
    if (this.deps.authLimiter.blockedForMs(this.address, now) > 0) return this.refuse(CLOSE_RATE_LIMITED, "too many failed authentications; retry later");
    const principal = authenticate(this.deps.tokens, token);
    if (principal === null) {
      this.deps.authLimiter.fail(this.address, now);
      return this.refuse(CLOSE_UNAUTHORIZED, "invalid token");
    }
    clearTimeout(this.authTimer);
    if (this.socket.readyState !== OPEN) return;
    this.session = this.hub.open(principal.name, this.socket, resume);
  }

  private refuse(code: number, reason: string): void {
    clearTimeout(this.authTimer);
    if (this.socket.readyState === OPEN) this.socket.close(code, reason);
  }

  private receive(text: string): void {
    let frame: Record<string, unknown> | null = null;
    try {
      frame = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // handled below
    }
    if (this.session === null) {
      if (frame?.type === "auth" && typeof frame.token === "string") return this.authenticateWith(frame.token, resumeOf(frame.session, frame.last_seq));
      return this.refuse(CLOSE_UNAUTHORIZED, 'the first frame must be {"type":"auth","token"}');
    }
    if (frame?.type === "subscribe") {
      const sub: Subscription = { buildings: strings(frame.buildings), devices: strings(frame.devices) };
      if (frame.interval_ms !== undefined) sub.intervalMs = normaliseInterval(frame.interval_ms, this.options.coalesceMs, this.options.minCoalesceMs);
      if (typeof frame.batch === "boolean") sub.batch = frame.batch;
      this.hub.subscribe(this.session, sub);
    }
  }

  private keepAlive(): void {
    if (!this.alive) {
      this.onTerminated("no_pong");
      return this.socket.terminate();
    }
    this.alive = false;
    if (this.socket.readyState === OPEN) this.socket.ping();
  }

  private cleanUp(): void {
    clearTimeout(this.authTimer);
    clearInterval(this.pingTimer);
    if (this.session !== null) this.hub.detach(this.session, this.socket);
    this.session = null;
    this.onClosed();
  }
}

function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query as Record<string, unknown> | undefined) ?? {};
}

export async function liveRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
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

  app.get("/api/live", { websocket: true, schema: { hide: true } }, (socket, request) => {
    const connection = new LiveConnection(socket, request.ip, deps, hub, options, (reason) => terminated.inc({ reason }), () => clients.dec());
    clients.inc();
    const query = queryOf(request);
    const token = bearerToken(request.headers.authorization) ?? (typeof query.token === "string" && query.token !== "" ? query.token : null);
    connection.start(token, resumeOf(query.session, query.last_seq));
  });
}
