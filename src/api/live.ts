// WebSocket GET /api/live (CONTRACT §6): snapshot, then readings/status/alerts with a per-connection
// `seq`. Auth by header, `?token=` or a first `{"type":"auth"}` frame (4401 otherwise). A slow client's
// messages are coalesced in its Outbox instead of piling up in memory; a stuck one is terminated.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { Counter, Gauge, metric } from "../infra/metrics.js";
import { authenticate, bearerToken, type Principal } from "./auth.js";
import type { AppDeps } from "./deps.js";
import type { LiveChange } from "./live-state.js";
import { checkPressure, DEFAULT_LIVE_OPTIONS, type LiveMessage, type LiveOptions, Outbox, type Pressure } from "./outbox.js";
import { deviceViews } from "./views.js";

export const CLOSE_UNAUTHORIZED = 4401;
const OPEN = 1;

interface LiveMetrics {
  clients: Gauge;
  coalesced: Counter;
  terminated: Counter<"reason">;
}

/** Narrowing asked for by `{"type":"subscribe"}`; empty sets = everything. */
interface Filter {
  buildings: Set<string>;
  devices: Set<string>;
}

class LiveConnection {
  private principal: Principal | null = null;
  private seq = 0;
  private filter: Filter = { buildings: new Set(), devices: new Set() };
  private readonly outbox: Outbox;
  private pressure: Pressure = { aboveSoftSince: null, aboveHardSince: null };
  private authTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly socket: WebSocket,
    private readonly deps: AppDeps,
    private readonly options: LiveOptions,
    private readonly metrics: LiveMetrics,
    private readonly onClosed: () => void,
  ) {
    this.outbox = new Outbox(options.maxEvents);
    // Attached synchronously: frames that arrive during async work would be lost otherwise.
    socket.on("message", (data) => this.receive(data.toString()));
    socket.on("pong", () => (this.alive = true));
    socket.on("close", () => this.cleanUp());
    socket.on("error", () => socket.terminate());
    this.pingTimer = setInterval(() => this.keepAlive(), options.pingIntervalMs);
  }

  /** Called with the token from the header or query, if any; otherwise waits for an auth frame. */
  start(presented: string | null): void {
    if (presented !== null) return this.authenticateWith(presented);
    this.authTimer = setTimeout(() => this.refuse("no token within the auth timeout"), this.options.authTimeoutMs);
  }

  private authenticateWith(token: string): void {
    const principal = authenticate(this.deps.tokens, token);
    if (principal === null) return this.refuse("invalid token");
    clearTimeout(this.authTimer);
    this.principal = principal;
    this.unsubscribe = this.deps.state.onChange((change) => this.push(change));
    this.sendSnapshot();
  }

  private refuse(reason: string): void {
    clearTimeout(this.authTimer);
    if (this.socket.readyState === OPEN) this.socket.close(CLOSE_UNAUTHORIZED, reason);
  }

  private receive(text: string): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return this.principal === null ? this.refuse("the first frame must be {\"type\":\"auth\",\"token\"}") : undefined;
    }
    if (this.principal === null) {
      if (frame?.type === "auth" && typeof frame.token === "string") return this.authenticateWith(frame.token);
      return this.refuse("the first frame must be {\"type\":\"auth\",\"token\"}");
    }
    if (frame?.type === "subscribe") {
      const ids = (value: unknown) => new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
      this.filter = { buildings: ids(frame.buildings), devices: ids(frame.devices) };
      // The client's view changes scope: a fresh snapshot of exactly what it now follows.
      this.sendSnapshot();
    }
  }

  private wants(device: string, building: string | undefined): boolean {
    const { buildings, devices } = this.filter;
    if (buildings.size === 0 && devices.size === 0) return true;
    return devices.has(device) || (building !== undefined && buildings.has(building));
  }

  private sendSnapshot(): void {
    const devices = deviceViews(this.deps.state).filter((d) => this.wants(d.id, d.building));
    const alerts = this.deps.state.openAlerts().filter((a) => this.wants(a.device, a.building));
    this.send({ type: "snapshot", devices, alerts });
  }

  private push(change: LiveChange): void {
    const message = toMessage(change);
    const device = change.type === "alert" ? change.alert.device : change.type === "reading" ? change.reading.device : change.type === "event" ? change.event.device : change.device;
    const building = change.type === "alert" ? change.alert.building : this.deps.campus.deviceById.get(device)?.building;
    if (this.wants(device, building)) this.send(message);
  }

  private send(message: LiveMessage): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.outbox.size === 0 && this.socket.bufferedAmount <= this.options.softLimitBytes) return this.write(message);
    const before = this.outbox.coalesced;
    this.outbox.offer(message);
    this.metrics.coalesced.inc(this.outbox.coalesced - before);
    this.flushTimer ??= setInterval(() => this.flush(), this.options.flushIntervalMs);
  }

  private flush(): void {
    const { action, pressure } = checkPressure(this.pressure, this.socket.bufferedAmount, Date.now(), this.options);
    this.pressure = pressure;
    if (action === "terminate") {
      this.metrics.terminated.inc({ reason: "slow" });
      this.deps.log.warn({ buffered: this.socket.bufferedAmount }, "live client stopped reading; terminated");
      return this.socket.terminate();
    }
    if (action === "hold") return;
    for (const message of this.outbox.drain()) this.write(message);
    clearInterval(this.flushTimer);
    this.flushTimer = undefined;
  }

  private write(message: LiveMessage): void {
    this.seq += 1;
    this.socket.send(JSON.stringify({ ...message, seq: this.seq }));
  }

  private keepAlive(): void {
    if (!this.alive) {
      this.metrics.terminated.inc({ reason: "no_pong" });
      return this.socket.terminate();
    }
    this.alive = false;
    if (this.socket.readyState === OPEN) this.socket.ping();
  }

  private cleanUp(): void {
    clearTimeout(this.authTimer);
    clearInterval(this.flushTimer);
    clearInterval(this.pingTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.onClosed();
  }
}

/** The wire form of a live-state change: `values` carries the flat fields and, when sent, `phases`. */
export function toMessage(change: LiveChange): LiveMessage {
  switch (change.type) {
    case "reading": {
      const { device, ts, values, phases } = change.reading;
      return { type: "reading", device, ts, values: phases ? { ...values, phases } : { ...values } };
    }
    case "status":
      return { type: "status", device: change.device, online: change.online };
    case "alert":
      return { type: "alert", alert: change.alert };
    case "event": {
      const { tsFallback: _omitted, ...event } = change.event;
      return { type: "event", event };
    }
  }
}

function queryToken(request: FastifyRequest): string | null {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === "string" && token !== "" ? token : null;
}

export async function liveRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const options: LiveOptions = { ...DEFAULT_LIVE_OPTIONS, ...deps.live };
  const registry = deps.metrics;
  const metrics: LiveMetrics = {
    clients: metric(registry, "campus_power_api_live_clients", () => new Gauge({ name: "campus_power_api_live_clients", help: "Open live WebSocket connections", registers: [registry] })),
    coalesced: metric(registry, "campus_power_api_live_coalesced_total", () => new Counter({ name: "campus_power_api_live_coalesced_total", help: "Live messages replaced by a newer one for a slow client", registers: [registry] })),
    terminated: metric(registry, "campus_power_api_live_terminated_total", () => new Counter({ name: "campus_power_api_live_terminated_total", help: "Live clients terminated (slow = stopped reading, no_pong = gone)", labelNames: ["reason"], registers: [registry] })),
  };
  app.get("/api/live", { websocket: true, schema: { hide: true } }, (socket, request) => {
    const connection = new LiveConnection(socket, deps, options, metrics, () => metrics.clients.dec());
    metrics.clients.inc();
    connection.start(bearerToken(request.headers.authorization) ?? queryToken(request));
  });
}
