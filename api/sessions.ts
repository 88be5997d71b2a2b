// Sessions of named accounts (CONTRACT §9): a sign-in with name and password gives an opaque bearer token
// (256 random bits) that expires 12 h after its last use and ends at logout, when its account is removed,
// or when its password changes. Only the token's SHA-256 is kept, in memory and in the sessions file, so
// neither a memory dump nor the file holds a usable token. The file (DATA_DIR/sessions.json, mode 0600)
// lets sessions outlive an API restart: a wall screen signed in for the day stays signed in through an
// upgrade. docs/accounts.md says why each choice was made.
// With REDIS_URL (CONTRACT §12) the sessions are shared by every API instance instead (`shared`, e.g.
// ./ha/redis-sessions.ts): this store then holds a replica that the shared store keeps current, so a lookup
// stays a Map read with no round trip, and a sign-in or logout answers only once Redis has it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Static, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type Account, DEFAULT_SCRYPT_PARAMS, encodePasswordHash, KEY_BYTES, parsePasswordHash, SALT_BYTES, verifyPassword } from "../domain/accounts.js";
import { sha256Hex } from "../domain/credentials.js";
import type { Role } from "../domain/env.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import type { Logger } from "../infra/logger.js";
import { UsersFileWatch } from "../infra/users-file.js";

/** CONTRACT §9: a session ends 12 h after its last use (sliding). */
export const SESSION_IDLE_MS = 12 * 3_600_000;
/** A person's devices (phone, laptop, wall screens) each hold a session; beyond this the least recently used ends. */
export const MAX_SESSIONS_PER_ACCOUNT = 50;
/** scrypt runs on libuv's pool of 4 threads, which the spool's and the journal's file writes share: one hash at a time. */
const HASHES_AT_ONCE = 1;
/** Sign-ins waiting for the hash beyond this are turned away (about 10 s of waiting at 0.6 s a hash). */
const DEFAULT_MAX_WAITING = 16;
/** A session's slide is saved at most this often (a restart may shorten an idle session by as much). */
const SLIDE_SAVE_INTERVAL_MS = 60_000;

/** The API's Principal (api/auth.ts) for a person: `name` is the person's name. */
export interface SessionPrincipal {
  role: Role;
  name: string;
  sites: readonly string[] | null;
}

export type LoginOutcome =
  | { ok: true; token: string; expiresAt: number; principal: SessionPrincipal }
  /** `wrong`: no such name or a wrong password (never told apart); `busy`: too many sign-ins waiting for a hash. */
  | { ok: false; reason: "wrong" | "busy" };

const SavedSessionSchema = T.Object({
  token_sha256: T.String({ pattern: "^[0-9a-f]{64}$" }),
  name: T.String(),
  /** Which password the session was opened with (a hash of its hash): a changed password ends the session. */
  password_stamp: T.String(),
  created_at_ms: T.Number(),
  expires_at_ms: T.Number(),
});
const SessionsFileSchema = T.Object({ version: T.Literal(1), sessions: T.Array(SavedSessionSchema) });
export type SavedSession = Static<typeof SavedSessionSchema>;
export const isSavedSession = (value: unknown): value is SavedSession => Value.Check(SavedSessionSchema, value);

/**
 * What a shared store changes in this instance's replica (its own changes and the other instances'): `put`
 * keeps the later expiry of the two, so a late or repeated message never shortens a session.
 */
export interface SessionReplica {
  put(session: SavedSession): void;
  /** A later expiry of a known session (an unknown one has ended). */
  slide(id: string, expiresAtMs: number): void;
  remove(id: string): void;
  /** Everything the shared store holds, after a (re)connection: what it lacks has ended meanwhile. */
  replaceAll(sessions: readonly SavedSession[]): void;
}

/** Sessions shared by several API instances (CONTRACT §12); the replica of each is kept current by it. */
export interface SharedSessions {
  /** Until the replica was first filled, no session is known: `/api/ready` says not ready meanwhile. */
  readonly loaded: boolean;
  /** Stores a new session and ends `ended` on every instance; rejects (nothing changed) when it cannot. */
  open(session: SavedSession, ended: readonly string[]): Promise<void>;
  /** Ends sessions on every instance; rejects when it cannot (they then go on everywhere). */
  end(ids: readonly string[]): Promise<void>;
  /** Carries slid expiries to every instance; false when it could not (logged; they are carried with the next ones). Never rejects. */
  slide(sessions: readonly SavedSession[]): Promise<boolean>;
  close(): Promise<void>;
}

export interface SessionStoreOptions {
  /** USERS_FILE: the accounts, re-read when it changes. */
  usersFile: string;
  /** Where sessions outlive a restart (DATA_DIR/sessions.json); null keeps them in memory only. */
  sessionsFile: string | null;
  log: Logger;
  /** Sliding expiry, ms (default SESSION_IDLE_MS). */
  idleMs?: number;
  /** Sign-ins that may wait for the hash (default 16). */
  maxWaitingLogins?: number;
  /** Shares the sessions with the other API instances (then `sessionsFile` is not used): given this store's replica. */
  shared?: (replica: SessionReplica) => SharedSessions;
}

const passwordStamp = (account: Account) => sha256Hex(account.password_hash).slice(0, 16);
const principalOfAccount = (account: Account): SessionPrincipal => ({ role: account.role, name: account.name, sites: account.sites === null ? null : [...account.sites] });

export class SessionStore {
  private readonly sessions = new Map<string, SavedSession>();
  private readonly idleMs: number;
  private readonly users: UsersFileWatch;
  private readonly waiting: (() => void)[] = [];
  private hashing = 0;
  /** Slid expiries or ended sessions not yet saved (the periodic save writes them). */
  private unsaved = false;
  private saving: Promise<void> = Promise.resolve();
  private queuedSave: Promise<void> | null = null;
  private readonly saveTimer: NodeJS.Timeout;
  private readonly shared: SharedSessions | null;
  /** Shared mode: sessions whose expiry slid since the last slide was carried to the other instances. */
  private readonly slid = new Set<string>();

  /** Opens the users file (a bad one throws, every problem listed) and the saved sessions still alive at `now`. */
  constructor(private readonly options: SessionStoreOptions, now: number = Date.now()) {
    this.idleMs = options.idleMs ?? SESSION_IDLE_MS;
    this.users = new UsersFileWatch(options.usersFile, (error) => options.log.error({ err: error }, "the users file cannot be used: nobody can sign in until it is fixed"));
    this.shared = options.shared?.(this.replica()) ?? null;
    if (this.shared === null) {
      for (const saved of this.readSaved()) if (saved.expires_at_ms > now) this.sessions.set(saved.token_sha256, saved);
    }
    this.saveTimer = setInterval(() => (this.shared ? void this.carrySlides() : this.unsaved && void this.save()), SLIDE_SAVE_INTERVAL_MS).unref();
  }

  /**
   * Checks a name and password. An unknown name is checked against a stand-in hash with the parameters of
   * the file's newest hash, so it costs the same time as a known name with a wrong password (both answer
   * `wrong`). The users file is looked at first, so an account added a moment ago can sign in at once.
   */
  async login(name: string, password: string, now: number): Promise<LoginOutcome> {
    const accounts = this.users.accounts(now, true);
    const account = accounts.get(name) ?? null;
    const checked = await this.oneHashAtATime(() => verifyPassword(password, account?.password_hash ?? standInHash(accounts)));
    if (checked === "busy") return { ok: false, reason: "busy" };
    if (!checked || account === null) return { ok: false, reason: "wrong" };
    const token = randomBytes(32).toString("base64url");
    const session = { token_sha256: sha256Hex(token), name: account.name, password_stamp: passwordStamp(account), created_at_ms: now, expires_at_ms: now + this.idleMs };
    // Shared: the token is handed out only once every instance can see it (a failure throws, and nothing changed).
    // The expired sessions are only forgotten here: Redis lets them expire with the slides it was given.
    if (this.shared) await this.shared.open(session, this.roomFor(account.name, now).beyond);
    this.makeRoom(account.name, now);
    this.sessions.set(session.token_sha256, session);
    await this.save();
    return { ok: true, token, expiresAt: session.expires_at_ms, principal: principalOfAccount(account) };
  }

  /** Ends the session of `token` (nothing when it is none) and waits until the end is saved. */
  async logout(token: string): Promise<boolean> {
    const id = sha256Hex(token);
    // Shared: ended on every instance before the answer; ended here too even when this replica did not know it yet.
    if (this.shared) await this.shared.end([id]);
    const ended = this.sessions.delete(id);
    if (ended) await this.save();
    return ended;
  }

  /**
   * The person a token belongs to, or null: unknown, expired, account removed or password changed (each ends
   * the session). A valid use slides the expiry. The token is looked up by its SHA-256: a lookup's timing can
   * tell at most about the hash, which does not help to find a token (so no constant-time compare is needed).
   */
  principalOf(token: string, now: number): SessionPrincipal | null {
    const id = sha256Hex(token);
    const session = this.sessions.get(id);
    if (session === undefined) return null;
    const account = this.users.accounts(now).get(session.name);
    if (session.expires_at_ms <= now || account === undefined || passwordStamp(account) !== session.password_stamp) {
      this.sessions.delete(id);
      this.unsaved = true; // saved with the next periodic save; until then the check above ends it again after a restart
      // Shared: an account's change ends the session everywhere (another instance may not have read the users file
      // yet; should this fail, each reaches the same end by the same check). An expiry is Redis's: another instance
      // may have slid it within the last minute.
      this.slid.delete(id);
      if (this.shared && session.expires_at_ms > now) this.endShared(id);
      return null;
    }
    session.expires_at_ms = now + this.idleMs;
    this.unsaved = true;
    if (this.shared) this.slid.add(id);
    return principalOfAccount(account);
  }

  /** Sessions alive in memory (for metrics and tests). */
  get size(): number {
    return this.sessions.size;
  }

  /** Stops the periodic save and saves what is left (shared: carries the last slides, then lets go of the shared store). */
  async close(): Promise<void> {
    clearInterval(this.saveTimer);
    if (this.shared === null) return this.save();
    await this.carrySlides();
    await this.shared.close();
  }

  /** Shared mode: whether the replica was filled from the shared store yet (always true with a file). */
  get loaded(): boolean {
    return this.shared?.loaded ?? true;
  }

  /** Before a new session: forgets the expired ones (never used again, they would stay), then the account's least recently used beyond the limit. */
  private makeRoom(name: string, now: number): void {
    const { expired, beyond } = this.roomFor(name, now);
    for (const id of [...expired, ...beyond]) this.sessions.delete(id);
  }

  /** The sessions makeRoom ends: the expired ones, and the account's least recently used beyond the limit. */
  private roomFor(name: string, now: number): { expired: string[]; beyond: string[] } {
    const expired = [...this.sessions.values()].filter((s) => s.expires_at_ms <= now);
    const own = [...this.sessions.values()].filter((s) => s.name === name && s.expires_at_ms > now).sort((a, b) => a.expires_at_ms - b.expires_at_ms);
    const beyond = own.slice(0, Math.max(0, own.length - MAX_SESSIONS_PER_ACCOUNT + 1));
    return { expired: expired.map((s) => s.token_sha256), beyond: beyond.map((s) => s.token_sha256) };
  }

  /** How the shared store changes this replica. */
  private replica(): SessionReplica {
    return {
      put: (session) => {
        const known = this.sessions.get(session.token_sha256);
        if (known === undefined) this.sessions.set(session.token_sha256, { ...session });
        else known.expires_at_ms = Math.max(known.expires_at_ms, session.expires_at_ms);
      },
      slide: (id, expiresAtMs) => {
        const known = this.sessions.get(id);
        if (known !== undefined) known.expires_at_ms = Math.max(known.expires_at_ms, expiresAtMs);
      },
      remove: (id) => {
        this.sessions.delete(id);
        this.slid.delete(id);
      },
      replaceAll: (sessions) => {
        const slidHere = new Map([...this.slid].flatMap((id) => (this.sessions.has(id) ? [[id, this.sessions.get(id)!.expires_at_ms] as const] : [])));
        this.sessions.clear();
        for (const session of sessions) this.sessions.set(session.token_sha256, session);
        // A slide not carried yet stays (the next carry sends it); a session the shared store lacks has ended.
        for (const [id, expires] of slidHere) {
          const session = this.sessions.get(id);
          if (session === undefined) this.slid.delete(id);
          else session.expires_at_ms = Math.max(session.expires_at_ms, expires);
        }
      },
    };
  }

  /** Shared mode: carries the expiries slid since the last carry to every instance (at most once a minute per session). */
  private async carrySlides(): Promise<void> {
    if (this.shared === null || this.slid.size === 0) return;
    const slid = [...this.slid].flatMap((id) => this.sessions.get(id) ?? []);
    this.slid.clear();
    if (!(await this.shared.slide(slid))) for (const session of slid) if (this.sessions.has(session.token_sha256)) this.slid.add(session.token_sha256);
  }

  private endShared(id: string): void {
    this.shared?.end([id]).catch((error: unknown) => this.options.log.warn({ err: error }, "could not end a session in the shared store; every instance ends it by the same check"));
  }

  /** Runs `work` when no other hash runs; "busy" when too many already wait. The slot passes to the next waiter. */
  private async oneHashAtATime<T>(work: () => Promise<T>): Promise<T | "busy"> {
    if (this.hashing >= HASHES_AT_ONCE) {
      if (this.waiting.length >= (this.options.maxWaitingLogins ?? DEFAULT_MAX_WAITING)) return "busy";
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.hashing += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.hashing -= 1;
    }
  }

  /**
   * Saves the sessions; a save asked for while one is being written shares the next one, whose snapshot
   * (taken when it starts) covers it. A failed save is logged: sessions then live on in memory.
   */
  private save(): Promise<void> {
    const file = this.options.sessionsFile;
    if (file === null || this.shared !== null) return Promise.resolve();
    if (this.queuedSave !== null) return this.queuedSave;
    const queued = this.saving
      .then(() => {
        this.queuedSave = null;
        this.unsaved = false;
        return writeFileAtomic(file, JSON.stringify({ version: 1, sessions: [...this.sessions.values()] }));
      })
      .catch((error: unknown) => this.options.log.error({ err: error, file }, "could not save the sessions"));
    this.queuedSave = queued;
    this.saving = queued;
    return queued;
  }

  private readSaved(): SavedSession[] {
    const file = this.options.sessionsFile;
    if (file === null) return [];
    try {
      const saved: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (Value.Check(SessionsFileSchema, saved)) return saved.sessions;
      this.options.log.warn({ file }, "the sessions file is not valid: everyone signs in again");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.options.log.warn({ err: error, file }, "cannot read the sessions file: everyone signs in again");
    }
    return [];
  }
}

/**
 * A hash no password matches (its key is random), with the parameters of the file's newest hash (the ones a
 * real account most likely has), so checking an unknown name costs what checking a known one does.
 */
function standInHash(accounts: ReadonlyMap<string, Account>): string {
  const newest = [...accounts.values()].at(-1);
  const params = (newest && parsePasswordHash(newest.password_hash)?.params) || DEFAULT_SCRYPT_PARAMS;
  return encodePasswordHash(params, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
}
