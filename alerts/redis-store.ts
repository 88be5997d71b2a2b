// The alerts service's saved state with REDIS_URL (CONTRACT §12; docs/ha.md): the same JSON the files hold in
// one process (`state.json` → `campus:alerts:state` with its devices in the hash `campus:alerts:devices` and the
// notifier's tracked alerts in `campus:alerts:notified` (./redis-state.ts), `commands.json` →
// `campus:alerts:commands`, `digests.json` → `campus:alerts:digests`),
// read when this instance takes the lease and checked the same way (./persistence.ts), so the standby that
// takes over starts with the open alerts, the rules' state and the command book.
// Fencing, layer (a): every write is a Lua script that SETs the value only while `campus:alerts:fence` still
// equals the token this instance got with its lease (./lease.ts). An instance that was paused past its lease
// and wakes up believing it is active cannot overwrite the state of the one that took over: its save is
// refused, and the refusal tells it that it is deposed.
import type { Redis } from "../infra/redis.js";
import { FENCE_KEY } from "./lease.js";
import type { Stored, StoreBackend } from "./persistence.js";
import type { SavedState } from "./saved-state.js";
import { assembleState, DEVICES_KEY, fencedSave, NOTIFIED_KEY, parseFields, readState, STATE_KEY, type StatePayload } from "./redis-state.js";
import { createStateLedger } from "./state-ledger.js";

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
  /** The alert state: per device and per tracked alert, each save writing the entries that changed (./redis-state.ts). */
  state: StoreBackend<StatePayload>;
  commands: StoreBackend;
  /** The daily digests' ledger and the dates they were last sent (notify/digests.ts). */
  digests: StoreBackend;
}

/** Reads the values (after the lease is ours) and gives the stores their fenced backends. */
export async function loadFencedBackends(redis: Redis, fence: Fence): Promise<FencedBackends> {
  const [[commands, digests], state] = await Promise.all([redis.mget(COMMANDS_KEY, DIGESTS_KEY), readState(redis)]);
  return {
    state: stateBackend(redis, state.rest, await parseFields(state.devices), await parseFields(state.notified), fence),
    commands: textBackend(redis, COMMANDS_KEY, commands ?? null, fence),
    digests: textBackend(redis, DIGESTS_KEY, digests ?? null, fence),
  };
}

/** A value kept whole, SET at each save. */
function textBackend(redis: Redis, key: string, text: string | null, fence: Fence): StoreBackend {
  return { where: { key }, read: () => text, ...fencedWrites(redis, key, fence, (value: string) => fencedSet(redis, fence.token, key, value)) };
}

/** The alert state: the fields of the devices and tracked alerts that changed since the last save Redis took, and the rest. */
function stateBackend(redis: Redis, rest: string | null, devices: Record<string, unknown>, notified: Record<string, unknown>, fence: Fence): StoreBackend<StatePayload> {
  const ledger = createStateLedger({ devices: Object.keys(devices), notified: Object.keys(notified) });
  const fenced = fencedWrites(redis, STATE_KEY, fence, (payload: StatePayload) => fencedSave(redis, fence.token, payload));
  return {
    where: { key: STATE_KEY, hash: DEVICES_KEY, notified: NOTIFIED_KEY },
    read() {
      const stored = assembleState(rest, devices, notified);
      [rest, devices, notified] = [null, {}, {}]; // read once, at the start: the state holds it from then on
      return stored;
    },
    loaded: (value) => ledger.loaded(value as SavedState),
    encodeInSlices: (value) => ledger.encodeInSlices(value as SavedState),
    async write(payload) {
      await fenced.write(payload);
      ledger.written(payload); // a failed save leaves its entries to the next one
    },
    setAside: fenced.setAside,
    retryAfter: fenced.retryAfter,
  };
}

/** Writes that the fence guards: `save` resolves false when Redis refused it (another instance holds the lease). */
function fencedWrites<P>(redis: Redis, key: string, fence: Fence, save: (payload: P) => Promise<boolean>) {
  return {
    async write(payload: P) {
      // A deposed instance saves nothing more (a save scheduled while standing down, e.g. by the writer's close).
      if (!fence.writable()) throw new FencedWriteRefused(key, fence.token);
      if (await save(payload)) return;
      fence.onRefused(key);
      throw new FencedWriteRefused(key, fence.token);
    },
    setAside(stored: Stored) {
      // Kept beside the key for a person to look at (fenced too); the store starts without it either way.
      const aside = `${key}:corrupt-${Date.now()}`;
      const text = typeof stored === "string" ? stored : JSON.stringify(stored.value);
      void fencedSet(redis, fence.token, aside, text).catch(() => undefined);
      return aside;
    },
    // Redis away: the change is nowhere else, so the save is tried again (the lease decides how long we may).
    retryAfter: (error: unknown) => !(error instanceof FencedWriteRefused) && fence.writable(),
  };
}
