// The alerts service's saved state with REDIS_URL (CONTRACT §12; docs/ha.md): the same JSON texts the files
// hold in one process (`state.json` → `campus:alerts:state`, `commands.json` → `campus:alerts:commands`,
// `digests.json` → `campus:alerts:digests`),
// read when this instance takes the lease and checked the same way (./persistence.ts), so the standby that
// takes over starts with the open alerts, the rules' state and the command book.
// Fencing, layer (a): every write is a Lua script that SETs the value only while `campus:alerts:fence` still
// equals the token this instance got with its lease (./lease.ts). An instance that was paused past its lease
// and wakes up believing it is active cannot overwrite the state of the one that took over: its save is
// refused, and the refusal tells it that it is deposed.
import type { Redis } from "../infra/redis.js";
import { FENCE_KEY } from "./lease.js";
import type { StoreBackend } from "./persistence.js";

export const STATE_KEY = "campus:alerts:state";
export const COMMANDS_KEY = "campus:alerts:commands";
export const DIGESTS_KEY = "campus:alerts:digests";

// KEYS[1] fence, KEYS[2] the value's key; ARGV[1] token, ARGV[2] value. 1 when written, 0 when refused.
const FENCED_SET = `
if tonumber(redis.call('GET', KEYS[1])) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`;

/** SETs `key` to `value` if the fence still holds `token`: false when refused (another instance took the lease). */
export async function fencedSet(redis: Redis, token: number, key: string, value: string): Promise<boolean> {
  return (await redis.eval(FENCED_SET, 2, FENCE_KEY, key, token, value)) === 1;
}

export class FencedWriteRefused extends Error {
  constructor(key: string, token: number) {
    super(`save of ${key} refused: the fencing token ${token} is no longer current (another alerts instance took the lease)`);
    this.name = "FencedWriteRefused";
  }
}

export interface Fence {
  token: number;
  /** A write was refused: this instance is deposed. */
  onRefused(key: string): void;
  /** False once this instance stands down: a failed save is then not tried again. */
  writable(): boolean;
}

export interface FencedBackends {
  state: StoreBackend;
  commands: StoreBackend;
  /** The daily digests' ledger and the dates they were last sent (notify/digests.ts). */
  digests: StoreBackend;
}

/** Reads the values (one MGET, after the lease is ours) and gives the stores their fenced backends. */
export async function loadFencedBackends(redis: Redis, fence: Fence): Promise<FencedBackends> {
  const [state, commands, digests] = await redis.mget(STATE_KEY, COMMANDS_KEY, DIGESTS_KEY);
  return {
    state: fencedBackend(redis, STATE_KEY, state ?? null, fence),
    commands: fencedBackend(redis, COMMANDS_KEY, commands ?? null, fence),
    digests: fencedBackend(redis, DIGESTS_KEY, digests ?? null, fence),
  };
}

function fencedBackend(redis: Redis, key: string, text: string | null, fence: Fence): StoreBackend {
  return {
    where: { key },
    read: () => text,
    async write(value) {
      // A deposed instance saves nothing more (a save scheduled while standing down, e.g. by the writer's close).
      if (!fence.writable()) throw new FencedWriteRefused(key, fence.token);
      if (await fencedSet(redis, fence.token, key, value)) return;
      fence.onRefused(key);
      throw new FencedWriteRefused(key, fence.token);
    },
    setAside(value) {
      // Kept beside the key for a person to look at (fenced too); the store starts without it either way.
      const aside = `${key}:corrupt-${Date.now()}`;
      void fencedSet(redis, fence.token, aside, value).catch(() => undefined);
      return aside;
    },
    // Redis away: the change is nowhere else, so the save is tried again (the lease decides how long we may).
    retryAfter: (error) => !(error instanceof FencedWriteRefused) && fence.writable(),
  };
}
