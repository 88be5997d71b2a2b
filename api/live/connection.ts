// One live WebSocket: authenticates (token from the header or query, else a first `{"type":"auth"}`
// frame; 4401 otherwise, 4429 while the address is rate-limited), binds to a new or resumed session of
// the hub, answers `subscribe`, and cuts a client that stops answering pings.
import type { RawData, WebSocket } from "ws";
import type { RouteDeps } from "../deps.js";
import { authenticate } from "../auth.js";
import { normaliseInterval } from "./coalescer.js";
import { type LiveHub, ownerOf, type Subscription } from "./hub.js";
import type { LiveOptions } from "./options.js";
import { errorFrame, jsonObject, readClientFrame } from "./protocol.js";
import type { LiveSession } from "./session.js";

export const CLOSE_UNAUTHORIZED = 4401;
/** The principal's sites changed while connected: reconnecting gives a snapshot of what it may see now. */
export const CLOSE_ACCESS_CHANGED = 4409;
export const CLOSE_RATE_LIMITED = 4429;
const OPEN = 1;

export interface Resume {
  session: string;
  lastSeq: number;
}

/** A resume point from the query or the auth frame (`last_seq` as a number or its text), or null. */
export function resumeOf(session: unknown, lastSeq: unknown): Resume | null {
  const seq = typeof lastSeq === "string" ? Number(lastSeq) : lastSeq;
  return typeof session === "string" && session !== "" && typeof seq === "number" && Number.isInteger(seq) ? { session, lastSeq: seq } : null;
}

export interface ConnectionEvents {
  /** Terminated for a missed pong. */
  terminated(reason: "no_pong"): void;
  closed(): void;
}

export class LiveConnection {
  private session: LiveSession | null = null;
  /** The token the session was opened with, looked at again every recheckAccessMs. */
  private token: string | null = null;
  private authTimer: NodeJS.Timeout | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly recheckTimer: NodeJS.Timeout;
  private alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly address: string,
    private readonly deps: RouteDeps,
    private readonly hub: LiveHub,
    private readonly options: LiveOptions,
    private readonly events: ConnectionEvents,
  ) {
    // Attached synchronously: frames that arrive during async work would be lost otherwise.
    socket.on("message", (data, isBinary) => this.receive(data, isBinary));
    socket.on("pong", () => (this.alive = true));
    socket.on("close", () => this.cleanUp());
    socket.on("error", () => socket.terminate());
    this.pingTimer = setInterval(() => this.keepAlive(), options.pingIntervalMs);
    this.recheckTimer = setInterval(() => this.recheckAccess(), options.recheckAccessMs);
  }

  /** Called with the token (and resume point) from the header or query, if any; otherwise waits for an auth frame. */
  start(presented: string | null, resume: Resume | null): void {
    if (presented !== null) return this.authenticateWith(presented, resume);
    this.authTimer = setTimeout(() => this.refuse(CLOSE_UNAUTHORIZED, "no token within the auth timeout"), this.options.authTimeoutMs);
  }

  private authenticateWith(token: string, resume: Resume | null): void {
    const now = Date.now();
    if (this.deps.authLimiter.blockedForMs(this.address, now) > 0) return this.refuse(CLOSE_RATE_LIMITED, "too many failed authentications; retry later");
    const principal = authenticate(this.deps.tokens, token, this.deps.sessions, now);
    if (principal === null) {
      this.deps.authLimiter.fail(this.address, now);
      return this.refuse(CLOSE_UNAUTHORIZED, "invalid token");
    }
    clearTimeout(this.authTimer);
    if (this.socket.readyState !== OPEN) return;
    this.token = token;
    this.session = this.hub.open(principal, this.socket, resume);
  }

  /**
   * CONTRACT §9, scope enforced everywhere, for as long as the socket is open: a session that ended (logout,
   * expiry, its account removed or its password changed) closes with 4401; a principal whose sites changed
   * closes with 4409, and its reconnection gets a snapshot of its new scope (a resume is refused: hub.ts).
   * Each look counts as a use of the session (its 12 h expiry slides while a wall screen watches).
   */
  private recheckAccess(): void {
    if (this.session === null || this.token === null) return;
    const principal = authenticate(this.deps.tokens, this.token, this.deps.sessions, Date.now());
    if (principal === null) return this.refuse(CLOSE_UNAUTHORIZED, "the session ended");
    if (ownerOf(principal) !== this.session.owner) this.refuse(CLOSE_ACCESS_CHANGED, "your sites changed: reconnect");
  }

  private refuse(code: number, reason: string): void {
    clearTimeout(this.authTimer);
    if (this.socket.readyState === OPEN) this.socket.close(code, reason);
  }

  private receive(data: RawData, isBinary: boolean): void {
    const text = data.toString();
    if (this.session === null) {
      const frame = isBinary ? null : jsonObject(text);
      if (frame?.type === "auth" && typeof frame.token === "string") return this.authenticateWith(frame.token, resumeOf(frame.session, frame.last_seq));
      return this.refuse(CLOSE_UNAUTHORIZED, 'the first frame must be {"type":"auth","token"}');
    }
    // A frame the server cannot use is answered and changes nothing: the subscription stays as it was.
    const read = readClientFrame(text, isBinary);
    if (!read.ok) {
      if (this.socket.readyState === OPEN) this.socket.send(errorFrame(read.code, read.message));
      return;
    }
    const { buildings = [], devices = [], interval_ms, batch } = read.subscribe;
    const sub: Subscription = { buildings, devices };
    if (interval_ms !== undefined) sub.intervalMs = normaliseInterval(interval_ms, this.options.coalesceMs, this.options.minCoalesceMs);
    if (batch !== undefined) sub.batch = batch;
    this.hub.subscribe(this.session, sub);
  }

  /** RFC 6455 §5.5.2–3: a ping each interval; no pong to the previous one by the next means the peer is gone. */
  private keepAlive(): void {
    if (!this.alive) {
      this.events.terminated("no_pong");
      return this.socket.terminate();
    }
    this.alive = false;
    if (this.socket.readyState === OPEN) this.socket.ping();
  }

  private cleanUp(): void {
    clearTimeout(this.authTimer);
    clearInterval(this.pingTimer);
    clearInterval(this.recheckTimer);
    if (this.session !== null) this.hub.detach(this.session, this.socket);
    this.session = null;
    this.events.closed();
  }
}
