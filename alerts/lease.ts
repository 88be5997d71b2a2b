// The alerts lease (CONTRACT §12; docs/ha.md): with REDIS_URL any number of alerts processes run and exactly
// one is active, the one holding `campus:alerts:lease` — JSON `{instance, token, since}` with a TTL, renewed
// while it runs (the API reads it to show which instance is active: keep the key names and the shape).
// Taking the lease (only when absent) also INCRs `campus:alerts:fence`; the new value is the lease's `token`,
// the fencing token every write of the state must still match (./redis-store.ts). Each step is one Lua script,
// so it is atomic in Redis: no two instances can take the lease, and none can renew one it lost.
// The clock that decides "my lease may be gone" is this process's monotonic one, counted from when the last
// successful renewal was SENT: Redis reset the TTL on receipt, later, so the lease lives at least that long.
import type { Redis } from "../infra/redis.js";

export const LEASE_KEY = "campus:alerts:lease";
export const FENCE_KEY = "campus:alerts:fence";
/** Default TTL, ms: a standby takes over within TTL + its retry period of a kill -9 (CONTRACT §12: 10 s). */
export const DEFAULT_LEASE_MS = 5_000;
/** A standby tries to take the lease this often, ms. */
export const STANDBY_RETRY_MS = 500;

export interface LeaseRecord {
  instance: string;
  token: number;
  /** When it was taken, ISO 8601. */
  since: string;
}

// KEYS[1] lease, KEYS[2] fence; ARGV[1] instance, ARGV[2] since, ARGV[3] TTL ms. The token, or nil when held.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], cjson.encode({instance = ARGV[1], token = token, since = ARGV[2]}), 'PX', ARGV[3])
return token`;

// Ours: the lease names this instance and token, and the fence is still that token (nobody took it since).
const OURS = `
local value = redis.call('GET', KEYS[1])
if not value then return false end
local ok, lease = pcall(cjson.decode, value)
if not ok or type(lease) ~= 'table' then return false end
return lease.instance == ARGV[1] and tonumber(lease.token) == tonumber(ARGV[2]) and tonumber(redis.call('GET', KEYS[2])) == tonumber(ARGV[2])
end`;

// KEYS as above; ARGV[1] instance, ARGV[2] token, ARGV[3] TTL ms. 1 when renewed, 0 when not ours.
const RENEW = `local function ours()${OURS}
if not ours() then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// A clean stop hands over at once instead of after the TTL. 1 when deleted, 0 when not ours.
const RELEASE = `local function ours()${OURS}
if not ours() then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** The lease's JSON, or null when absent or not a lease (never trusted further than its shape). */
export function parseLease(text: string | null): LeaseRecord | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    const { instance, token, since } = value as Record<string, unknown>;
    return typeof instance === "string" && typeof token === "number" && typeof since === "string" ? { instance, token, since } : null;
  } catch {
    return null;
  }
}

export interface Lease {
  /** Takes the lease if nobody holds it: its fencing token, or null (held). */
  acquire(now: Date): Promise<number | null>;
  /** Extends our lease by the TTL: false when it is not ours any more. */
  renew(token: number): Promise<boolean>;
  /** Deletes our lease: false when it was not ours. */
  release(token: number): Promise<boolean>;
  read(): Promise<LeaseRecord | null>;
}

export function createLease(redis: Redis, instance: string, ttlMs: number): Lease {
  const keys = [LEASE_KEY, FENCE_KEY] as const;
  return {
    async acquire(now) {
      const token = await redis.eval(ACQUIRE, 2, ...keys, instance, now.toISOString(), ttlMs);
      return typeof token === "number" ? token : null;
    },
    renew: async (token) => (await redis.eval(RENEW, 2, ...keys, instance, token, ttlMs)) === 1,
    release: async (token) => (await redis.eval(RELEASE, 2, ...keys, instance, token)) === 1,
    read: async () => parseLease(await redis.get(LEASE_KEY)),
  };
}

/** What the renewal loop does on a beat (pure; `holdLease` performs it). */
export type RenewalStep = "renew" | "wait" | "stand-down";

/**
 * Past `validUntil` (the last successful renewal's send time + TTL) the lease may already be someone else's:
 * stand down, whatever Redis says later. Otherwise renew, unless a renewal is still on its way.
 */
export const renewalStep = (now: number, validUntil: number, inFlight: boolean): RenewalStep =>
  now >= validUntil ? "stand-down" : inFlight ? "wait" : "renew";

/**
 * Why a lease lapsed, for the log (pure): this process did not run its renewal beat (its event loop blocked or
 * the machine's CPU taken), or a renewal it sent was not answered (Redis slow or unreachable), or neither.
 */
export function lapseCause(sinceBeatMs: number, inFlightMs: number | null, everyMs: number): string {
  const ms = (value: number) => `${Math.round(value)} ms`;
  if (sinceBeatMs > 2 * everyMs) return `this process ran no renewal for ${ms(sinceBeatMs)} (its event loop blocked, or no CPU to run on)`;
  if (inFlightMs !== null) return `a renewal sent ${ms(inFlightMs)} ago is still unanswered (Redis slow, or the connection to it)`;
  return "the last renewals failed (Redis did not answer)";
}

export type LeaseCheck = "ours" | "lost" | "unknown";

export interface HeldLease {
  readonly token: number;
  /** True while this instance may act: not lost, and renewed less than a TTL ago by its own monotonic clock. */
  holds(): boolean;
  /** Asks Redis: "unknown" when Redis did not answer (the caller then relies on `holds()`). */
  check(): Promise<LeaseCheck>;
  /** Stops renewing and deletes the lease if still ours (a clean stop: the standby takes over at once). */
  release(): Promise<void>;
  /** Stops renewing, leaving the lease to expire (standing down). */
  drop(): void;
}

export interface HoldOptions {
  ttlMs: number;
  /** Default TTL / 5: four renewals may fail before the lease can expire. */
  renewEveryMs?: number;
  /** When the acquiring call was sent (monotonic ms). */
  sentAt: number;
  /** The lease is, or may be, gone: called once. */
  onLost(reason: string): void;
  /** A renewal Redis did not answer (counted and logged by the caller). */
  onRenewalFailure(error: unknown): void;
  clock?: () => number;
}

/** Keeps renewing a lease just taken, and tells once when it is (or may be) lost. */
export function holdLease(lease: Lease, token: number, o: HoldOptions): HeldLease {
  const clock = o.clock ?? (() => performance.now());
  const everyMs = o.renewEveryMs ?? Math.max(1, Math.floor(o.ttlMs / 5));
  let validUntil = o.sentAt + o.ttlMs;
  let inFlight = false;
  let over = false;
  /** When the renewal on its way was sent, and when the last beat ran: the log says which one let the lease lapse. */
  let inFlightSince = 0;
  let lastBeat = clock();
  const lose = (reason: string) => {
    if (over) return;
    over = true;
    clearInterval(timer);
    o.onLost(reason);
  };
  const expired = (now: number) => lose(`lease not renewed for ${o.ttlMs} ms (its TTL): another instance may hold it; ${lapseCause(now - lastBeat, inFlight ? now - inFlightSince : null, everyMs)}`);
  const beat = () => {
    if (over) return;
    const now = clock();
    const step = renewalStep(now, validUntil, inFlight);
    if (step === "stand-down") return expired(now);
    lastBeat = now;
    if (step === "wait") return;
    const sentAt = now;
    inFlight = true;
    inFlightSince = sentAt;
    lease.renew(token).then(
      (renewed) => {
        inFlight = false;
        if (renewed) validUntil = Math.max(validUntil, sentAt + o.ttlMs);
        else lose("lease taken by another instance, or expired");
      },
      (error: unknown) => {
        inFlight = false;
        if (over) return;
        o.onRenewalFailure(error);
        // Past the deadline already? Then stand down now, not a beat later.
        const now = clock();
        if (renewalStep(now, validUntil, false) === "stand-down") expired(now);
      },
    );
  };
  const timer = setInterval(beat, everyMs);
  return {
    token,
    holds: () => !over && clock() < validUntil,
    async check() {
      if (over) return "lost";
      try {
        const held = await lease.read();
        return held?.token === token ? "ours" : "lost";
      } catch {
        return "unknown";
      }
    },
    async release() {
      if (over) return;
      over = true;
      clearInterval(timer);
      await lease.release(token).catch(() => undefined); // unreachable Redis: the lease expires by itself
    },
    drop() {
      over = true;
      clearInterval(timer);
    },
  };
}
