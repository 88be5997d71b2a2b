// Fans the live state out to the live sessions. Every change is serialized once, with its site; readings
// pass one Coalescer per distinct interval (so at most one update per device per interval reaches a
// session); each session gets only its principal's sites (CONTRACT §9: snapshot and every message); a tick
// sends batches, drains slow clients' outboxes, releases held readings and expires detached sessions.
// Sessions stay resumable for `resumeWindowMs` after their socket closed.
import type { WebSocket } from "ws";
import type { Campus } from "../../domain/campus.js";
import type { Principal } from "../auth.js";
import { Coalescer, graceFor } from "./coalescer.js";
import type { LiveChange, LiveState } from "../live-state.js";
import { Scope } from "../scope.js";
import { deviceViews } from "../views.js";
import type { LiveOptions } from "./options.js";
import type { LiveMessage } from "./protocol.js";
import { type Prepared, LiveSession, type SessionEvents } from "./session.js";

export interface HubEvents extends SessionEvents {
  /** A resume attempt: resumed, or answered with a fresh snapshot. */
  resume(result: "resumed" | "snapshot"): void;
}

export interface Subscription {
  buildings?: string[];
  devices?: string[];
  intervalMs?: number;
  batch?: boolean;
}

export class LiveHub {
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions by coalescing interval, each group with its coalescer. */
  private readonly groups = new Map<number, { coalescer: Coalescer<Prepared>; sessions: Set<LiveSession> }>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | null = null;
  private replacedSeen = 0;
  /** The whole district: what a change is about, whoever may see it. */
  private readonly district: Scope;

  constructor(
    private readonly state: LiveState,
    private readonly options: LiveOptions,
    private readonly events: HubEvents,
    private readonly now: () => number = Date.now,
  ) {
    this.district = Scope.of(state.campus, null);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Opens a session for an authenticated socket: resumes `resume.session` when it can, else a snapshot. */
  open(principal: Principal, socket: WebSocket, resume: { session: string; lastSeq: number } | null): LiveSession {
    this.ensureRunning();
    // A session's frames were chosen for its scope: a principal whose sites changed gets a fresh snapshot.
    const owner = ownerOf(principal);
    const now = this.now();
    if (resume !== null) {
      const old = this.sessions.get(resume.session);
      const frames = old && old.owner === owner ? old.replay(resume.lastSeq) : null;
      if (old && frames !== null) {
        if (old.socket !== null && old.socket !== socket) old.socket.terminate(); // the client's previous socket is dead
        old.attach(socket);
        old.resend(frames);
        this.events.resume("resumed");
        return old;
      }
      if (old && old.owner === owner) this.drop(old);
      this.events.resume("snapshot");
    }
    const session = new LiveSession(owner, Scope.of(this.state.campus, principal.sites), this.options.coalesceMs, this.options, this.events);
    session.attach(socket);
    this.sessions.set(session.id, session);
    this.join(session);
    this.sendSnapshot(session, now);
    return session;
  }

  /** The socket of `session` closed: keep the session for a resume within the window. */
  detach(session: LiveSession, socket: WebSocket): void {
    if (session.socket !== socket) return; // already resumed on another socket
    session.detach(this.now());
  }

  /** Narrows (or widens) a session, changes its interval or frame mode, and sends a fresh snapshot. */
  subscribe(session: LiveSession, sub: Subscription): void {
    session.buildings = new Set(sub.buildings ?? []);
    session.devices = new Set(sub.devices ?? []);
    if (sub.batch !== undefined) session.batch = sub.batch;
    if (sub.intervalMs !== undefined && sub.intervalMs !== session.intervalMs) {
      this.leave(session);
      session.intervalMs = sub.intervalMs;
      this.join(session);
    }
    this.sendSnapshot(session, this.now());
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.sessions.clear();
    this.groups.clear();
  }

  private ensureRunning(): void {
    if (this.unsubscribe === null) this.unsubscribe = this.state.onChange((change) => this.publish(change));
    this.timer ??= setInterval(() => this.tick(), this.options.flushIntervalMs);
  }

  /** The session's sites only: a subscription to another site's ids gives what unknown ids give, nothing. */
  private sendSnapshot(session: LiveSession, now: number): void {
    const { scope } = session;
    const devices = deviceViews(this.state, scope.devices()).filter((d) => session.wants(d.id, d.building));
    const alerts = this.state.openAlerts().filter((a) => scope.seesAbout(a) && session.wants(a.device, a.building)).map((a) => scope.withSite(a));
    session.sendDirect({ type: "snapshot", session: session.id, interval_ms: session.intervalMs, devices, alerts }, now);
  }

  private publish(change: LiveChange): void {
    if (this.sessions.size === 0) return;
    const now = this.now();
    const prepared = this.prepare(change);
    if (change.type === "reading") {
      for (const group of this.groups.values()) {
        const item = group.coalescer.offer(change.reading.device, prepared, now);
        if (item !== null) for (const session of group.sessions) session.deliver(item, now);
      }
      this.countReplaced();
      return;
    }
    for (const session of this.sessions.values()) session.deliver(prepared, now);
  }

  private prepare(change: LiveChange): Prepared {
    const message = toMessage(change, this.district);
    const { device, building } = subjectOf(change, this.state.campus);
    const prepared: Prepared = { message, json: JSON.stringify(message), device, site: message.site };
    if (building !== undefined) prepared.building = building;
    return prepared;
  }

  private tick(): void {
    const now = this.now();
    for (const group of this.groups.values()) {
      for (const item of group.coalescer.due(now)) for (const session of group.sessions) session.deliver(item, now);
    }
    this.countReplaced();
    for (const session of this.sessions.values()) {
      if (session.detachedAt === null) session.tick(now);
      else if (now - session.detachedAt > this.options.resumeWindowMs) this.drop(session);
    }
    if (this.sessions.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private countReplaced(): void {
    let replaced = 0;
    for (const group of this.groups.values()) replaced += group.coalescer.replaced;
    if (replaced > this.replacedSeen) this.events.coalesced(replaced - this.replacedSeen);
    this.replacedSeen = replaced;
  }

  private join(session: LiveSession): void {
    let group = this.groups.get(session.intervalMs);
    if (!group) this.groups.set(session.intervalMs, (group = { coalescer: new Coalescer(session.intervalMs, graceFor(session.intervalMs)), sessions: new Set() }));
    group.sessions.add(session);
  }

  private leave(session: LiveSession): void {
    const group = this.groups.get(session.intervalMs);
    if (!group) return;
    group.sessions.delete(session);
    if (group.sessions.size === 0) {
      this.replacedSeen -= group.coalescer.replaced;
      this.groups.delete(session.intervalMs);
    }
  }

  private drop(session: LiveSession): void {
    this.leave(session);
    this.sessions.delete(session.id);
  }
}

/** Who a session belongs to: a principal's name with its sites; the same name with other sites is another owner. */
export const ownerOf = (principal: Principal) => `${principal.name}\n${principal.sites === null ? "*" : principal.sites.join("+")}`;

/** The device and building a change is about, which a session's subscription filters on. */
function subjectOf(change: LiveChange, campus: Campus): { device: string; building: string | undefined } {
  switch (change.type) {
    case "alert":
      return { device: change.alert.device, building: change.alert.building };
    case "command":
      return { device: change.command.device, building: change.command.building };
    case "reading":
      return { device: change.reading.device, building: campus.deviceById.get(change.reading.device)?.building };
    case "event":
      return { device: change.event.device, building: campus.deviceById.get(change.event.device)?.building };
    case "status":
      return { device: change.device, building: campus.deviceById.get(change.device)?.building };
  }
}

/** The wire form of a live-state change, with its site: `values` carries the flat fields and, when sent, `phases`. */
export function toMessage(change: LiveChange, district: Scope): Exclude<LiveMessage, { type: "snapshot" }> {
  const siteOf = (device: string) => district.siteOfDevice(device) ?? "";
  switch (change.type) {
    case "reading": {
      const { device, ts, values, phases } = change.reading;
      return { type: "reading", site: siteOf(device), device, ts, values: phases ? { ...values, phases } : { ...values } };
    }
    case "status":
      return { type: "status", site: siteOf(change.device), device: change.device, online: change.online };
    case "alert":
      return { type: "alert", site: district.siteAbout(change.alert), alert: district.withSite(change.alert) };
    case "event": {
      const { tsFallback: _omitted, ...event } = change.event;
      return { type: "event", site: siteOf(event.device), event };
    }
    case "command":
      return { type: "command", site: district.siteAbout(change.command), command: district.withSite(change.command) };
  }
}
