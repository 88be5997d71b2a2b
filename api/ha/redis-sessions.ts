// Sign-in sessions shared by every API instance through Redis (CONTRACT §9, §12; docs/accounts.md): one key per
// session, `campus:session:<token sha256>`, holding the session's JSON (what DATA_DIR/sessions.json holds per
// session: never the token) and expiring with it; and one Pub/Sub channel on which every change is announced
// (`{open?, end?, slide?}`), so each instance keeps a replica that its auth hook reads without a round trip.
//
// Why a replica and not a GET per request: the auth hook and the live stream look a token up synchronously
// (api/auth.ts `SessionLookup`), and a wall screen's stream rechecks its token every few seconds; a lookup stays
// a Map read, as in single-process mode. What it costs: a change made on one instance reaches the others when
// its announcement does (Redis writes it to the subscribers as it answers the instance that made it, before
// that instance answers its client), and a slide of the 12 h expiry at most a minute later
// (SLIDE_SAVE_INTERVAL_MS in api/sessions.ts, as the file's saves).
//
// Completeness: the replica subscribes first, then reads every key (SCAN), and applies what was announced
// during the read after it, on every (re)connection; a logout missed while this instance was away from Redis
// is thus caught up the moment it is back (its /api/ready is 503 meanwhile).
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../infra/logger.js";
import type { Redis } from "../../infra/redis.js";
import { apiError } from "../errors.js";
import { isSavedSession, type SavedSession, type SessionReplica, type SharedSessions } from "../sessions.js";

export const SESSION_KEY_PREFIX = "campus:session:";
export const SESSION_CHANNEL = "campus:sessions";
/** Keys read per SCAN step and per MGET while (re)filling the replica. */
const SCAN_COUNT = 500;
/** Wait before filling the replica again after a failed attempt, ms. */
const RELOAD_RETRY_MS = 1_000;

/** One announcement on SESSION_CHANNEL. */
export interface SessionChange {
  open?: SavedSession[];
  end?: string[];
  /** [token sha256, expires_at_ms]: the later expiry wins. */
  slide?: [string, number][];
}

const sessionKey = (id: string) => SESSION_KEY_PREFIX + id;

/** Applies an announcement to a replica (in any order and any number of times: each step is idempotent). */
export function applyChange(replica: SessionReplica, change: SessionChange): void {
  for (const session of change.open ?? []) replica.put(session);
  for (const id of change.end ?? []) replica.remove(id);
  for (const [id, expires] of change.slide ?? []) replica.slide(id, expires);
}

/** An announcement as received, or null when it is not one (ignored: never trusted further than its shape). */
export function decodeChange(text: string): SessionChange | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { open, end, slide } = value as Record<string, unknown>;
  if (open !== undefined && !(Array.isArray(open) && open.every(isSavedSession))) return null;
  if (end !== undefined && !(Array.isArray(end) && end.every((id) => typeof id === "string"))) return null;
  const isSlide = (s: unknown) => Array.isArray(s) && s.length === 2 && typeof s[0] === "string" && typeof s[1] === "number";
  if (slide !== undefined && !(Array.isArray(slide) && slide.every(isSlide))) return null;
  return value as SessionChange;
}

export interface RedisSessionsOptions {
  /** Commands (SET, DEL, PUBLISH, SCAN, MGET). */
  redis: Redis;
  /** A connection of its own: one in subscriber mode takes no other commands. */
  subscriber: Redis;
  log: Logger;
  /** Wall clock, epoch ms (default Date.now): a key's TTL is its session's expiry from now. */
  now?: () => number;
}

export class RedisSessions implements SharedSessions {
  private filled = false;
  /** Announcements received while the replica is being (re)filled: applied after the read. */
  private buffered: SessionChange[] | null = null;
  private closed = false;
  /** Counts the subscriber's (re)connections: a refill that spans one reads again. */
  private connections = 0;
  private readonly now: () => number;

  constructor(private readonly options: RedisSessionsOptions, private readonly replica: SessionReplica) {
    this.now = options.now ?? Date.now;
    const { subscriber, log } = options;
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== SESSION_CHANNEL) return;
      const change = decodeChange(message);
      if (change === null) return log.warn({ channel }, "ignored an unreadable session announcement");
      if (this.buffered !== null) this.buffered.push(change);
      else applyChange(this.replica, change);
    });
    const connected = () => {
      this.connections += 1;
      void this.refill();
    };
    subscriber.on("ready", connected);
    if (subscriber.status === "ready") connected();
  }

  /**
   * Read once, and no refill running: after a reconnection the replica is behind until its refill (subscribe,
   * read, apply what was announced meanwhile) ends, and /api/ready says 503 until then, as the file's head says.
   */
  get loaded(): boolean {
    return this.filled && this.buffered === null;
  }

  async open(session: SavedSession, ended: readonly string[]): Promise<void> {
    const change: SessionChange = { open: [session], ...(ended.length > 0 ? { end: [...ended] } : {}) };
    const multi = this.options.redis.multi().set(sessionKey(session.token_sha256), JSON.stringify(session), "PX", this.ttlMs(session));
    if (ended.length > 0) multi.del(...ended.map(sessionKey));
    await this.run(multi.publish(SESSION_CHANNEL, JSON.stringify(change)), "sign-in");
  }

  async end(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const multi = this.options.redis.multi().del(...ids.map(sessionKey)).publish(SESSION_CHANNEL, JSON.stringify({ end: [...ids] } satisfies SessionChange));
    await this.run(multi, "sign-out");
  }

  async slide(sessions: readonly SavedSession[]): Promise<boolean> {
    if (sessions.length === 0) return true;
    // XX: a session ended meanwhile (a logout on another instance) is not brought back by a late slide.
    const multi = this.options.redis.multi();
    for (const session of sessions) multi.set(sessionKey(session.token_sha256), JSON.stringify(session), "PX", this.ttlMs(session), "XX");
    multi.publish(SESSION_CHANNEL, JSON.stringify({ slide: sessions.map((s) => [s.token_sha256, s.expires_at_ms]) } satisfies SessionChange));
    try {
      await this.run(multi, "slide");
      return true;
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message, sessions: sessions.length }, "could not carry session expiries to Redis; retried with the next ones");
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ttlMs(session: SavedSession): number {
    return Math.max(1, Math.round(session.expires_at_ms - this.now()));
  }

  /** Runs a transaction; any failure (Redis away, a command refused) is the API's 503. */
  private async run(multi: ReturnType<Redis["multi"]>, what: string): Promise<void> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await multi.exec();
    } catch {
      results = null;
    }
    if (results === null || results.some(([error]) => error !== null)) throw apiError("NOT_READY", `${what} needs Redis (REDIS_URL), which is not reachable; retry later`);
  }

  /** Subscribes, reads every session, then applies what was announced meanwhile; retried until it succeeds or the connection drops. */
  private async refill(): Promise<void> {
    if (this.buffered !== null) return; // a refill already runs
    this.buffered = [];
    const { subscriber, log } = this.options;
    try {
      for (;;) {
        if (this.closed || subscriber.status !== "ready") return;
        const connection = this.connections;
        try {
          await subscriber.subscribe(SESSION_CHANNEL);
          const sessions = await this.readAll();
          if (connection !== this.connections) continue; // the subscriber was away meanwhile: announcements may be missing
          this.replica.replaceAll(sessions);
          for (const change of this.buffered) applyChange(this.replica, change);
          if (!this.filled) log.info({ sessions: sessions.length }, "sessions read from Redis");
          this.filled = true;
          return;
        } catch (error) {
          log.warn({ err: (error as Error).message }, "could not read the sessions from Redis; retrying");
          await sleep(RELOAD_RETRY_MS);
        }
      }
    } finally {
      this.buffered = null;
    }
  }

  private async readAll(): Promise<SavedSession[]> {
    const { redis } = this.options;
    const sessions: SavedSession[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${SESSION_KEY_PREFIX}*`, "COUNT", SCAN_COUNT);
      cursor = next;
      if (keys.length === 0) continue;
      for (const value of await redis.mget(...keys)) {
        if (value === null) continue; // expired or ended between SCAN and MGET
        try {
          const session: unknown = JSON.parse(value);
          if (isSavedSession(session)) sessions.push(session);
        } catch {
          // Not a session of ours: skipped, as an invalid sessions file is.
        }
      }
    } while (cursor !== "0");
    return sessions;
  }
}
