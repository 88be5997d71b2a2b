// The alert state in Redis (REDIS_URL; docs/ha.md), kept per device: the hash `campus:alerts:devices` holds one
// field per device (its watchdog track, its rules' state and open alerts: the engine's `devices`), and
// `campus:alerts:state` everything else (silences, the notifier's outbox, pending alert points, automation). A
// save writes the devices whose slot changed since the last save Redis took, with the rest, in one fenced
// script: a standby taking over reads one save or the next, never half of one.
// Before, the whole state was one value, written whole at every save: 35 MB at 20,000 devices, which kept Redis
// (fsyncing each) and the active's event loop (serialising each) so busy that the active lost its lease
// (docs/benchmarks.md, run D7). A save now costs what changed.
// A slot that changed is a new object (the engine is copy-on-write below its device map, ./owned-map.ts), so a
// slot is known unchanged by identity, without comparing or serialising it; a slot whose only change is the
// watchdog's clock is not written either (`sameButSeen`).
import type { Redis } from "../infra/redis.js";
import { isJsonObject } from "../domain/json-object.js";
import { FENCE_KEY } from "./lease.js";
import type { Stored } from "./persistence.js";
import type { DeviceSlot, SavedState } from "./saved-state.js";

export const STATE_KEY = "campus:alerts:state";
export const DEVICES_KEY = "campus:alerts:devices";

/** One save: the rest's JSON, the devices to delete and the (id, JSON) pairs to set, and the slots they are. */
export interface StatePayload {
  rest: string;
  removed: string[];
  set: string[];
  slots: [string, DeviceSlot][];
}

/** Fields of a hash each call sets or deletes at most (Lua's `unpack` has a limit). */
const CHUNK = 1_000;

// KEYS[1] fence, KEYS[2] the rest's key, KEYS[3] the devices' hash; ARGV[1] token, ARGV[2] the rest, ARGV[3] how
// many ids to delete, then those ids, then id/JSON pairs to set. 1 when written, 0 when refused (nothing written).
const FENCED_SAVE = `
if tonumber(redis.call('GET', KEYS[1])) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
local last = 3 + tonumber(ARGV[3])
local i = 4
while i <= last do
  local j = math.min(i + ${CHUNK - 1}, last)
  redis.call('HDEL', KEYS[3], unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + ${CHUNK - 1}, #ARGV)
  redis.call('HSET', KEYS[3], unpack(ARGV, i, j))
  i = j + 1
end
return 1`;

/** Writes a save if the fence still holds `token`: false when refused (another instance took the lease). */
export async function fencedSave(redis: Redis, token: number, payload: StatePayload): Promise<boolean> {
  const args = [token, payload.rest, payload.removed.length, ...payload.removed, ...payload.set];
  return (await redis.eval(FENCED_SAVE, 3, FENCE_KEY, STATE_KEY, DEVICES_KEY, ...args)) === 1;
}

/** Reads the rest and every device's field in one transaction (a save between the two reads is not seen half). */
export async function readState(redis: Redis): Promise<{ rest: string | null; devices: Record<string, string> }> {
  const replies = await redis.multi().get(STATE_KEY).hgetall(DEVICES_KEY).exec();
  if (!replies) throw new Error("the read of the alert state was aborted");
  for (const [error] of replies) if (error) throw error;
  return { rest: replies[0]![1] as string | null, devices: replies[1]![1] as Record<string, string> };
}

/** Parses the devices' fields, a thousand a turn of the event loop: a takeover reads 20,000 (35 MB) while its lease must be renewed. */
export async function parseFields(fields: Record<string, string>): Promise<Record<string, unknown>> {
  const parsed: Record<string, unknown> = {};
  let count = 0;
  for (const id in fields) {
    parsed[id] = parseOrText(fields[id]!); // a field that is not JSON stays a string, so the store's check names it
    if (++count % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return parsed;
}

const parseOrText = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * The saved state as one value: the rest with the devices' parsed fields as `engine.devices`. A value written
 * whole by an earlier version (its devices inside) reads as it was; the first save then moves its devices into
 * the hash. Null when nothing was saved.
 */
export function assembleState(rest: string | null, devices: Record<string, unknown>): Stored | null {
  const ids = Object.keys(devices);
  if (rest === null && ids.length === 0) return null;
  let value: unknown = {};
  if (rest !== null) {
    try {
      value = JSON.parse(rest);
    } catch {
      return rest; // the store reports it as not JSON and keeps it aside
    }
  }
  if (!isJsonObject(value) || ids.length === 0) return { value };
  const engine = isJsonObject(value.engine) ? value.engine : {};
  return { value: { ...value, engine: { ...engine, devices: { ...(isJsonObject(engine.devices) ? engine.devices : {}), ...devices } } } };
}

/**
 * A slot whose rules are the very same object and whose track differs at most in `lastSeenAt` is not written:
 * that is the watchdog's wall clock, which every start sets anew for every device (engine.ts `start`), so its
 * saved value is never read. A takeover's start thus writes nothing per device, where it wrote all 20,000.
 */
const sameButSeen = (a: DeviceSlot, b: DeviceSlot) =>
  a.rules === b.rules && a.track.lastReadingTs === b.track.lastReadingTs && a.track.lastStatusTs === b.track.lastStatusTs && a.track.intervalMs === b.track.intervalMs && a.track.gaps === b.track.gaps;

/** Devices whose fields a save stringifies a turn of the event loop (`encodeInSlices`). */
export const ENCODE_SLICE = 1_000;

/** Remembers which slot each device's field in Redis holds; `encode` puts in a save only those that differ. */
export function createSlotLedger(fieldsInRedis: Iterable<string>) {
  /** id → the slot its field holds; null for a field read at the start until `loaded` says which slot it became. */
  const written = new Map<string, DeviceSlot | null>();
  for (const id of fieldsInRedis) written.set(id, null);

  /** The save of `saved` but its slots' JSON: which slots differ from their fields, the deleted fields, the rest's JSON. */
  const collect = (saved: SavedState): Omit<StatePayload, "set"> => {
    const { engine, ...others } = saved;
    const { devices, ...engineRest } = engine;
    const slots: [string, DeviceSlot][] = [];
    let kept = 0;
    for (const id in devices) {
      const slot = devices[id]!;
      const before = written.get(id);
      if (before !== undefined) kept++;
      if (before === slot) continue;
      if (before && sameButSeen(before, slot)) {
        written.set(id, slot); // what the field holds still stands for it
        continue;
      }
      slots.push([id, slot]);
    }
    // Fields of devices the state no longer has (rare: a device gone from the campus file) are deleted.
    const removed = kept === written.size ? [] : [...written.keys()].filter((id) => !Object.hasOwn(devices, id));
    return { rest: JSON.stringify({ ...others, engine: engineRest }), removed, slots };
  };
  const fields = (slots: readonly [string, DeviceSlot][], set: string[], from = 0, to = slots.length) => {
    for (let i = from; i < to; i++) set.push(slots[i]![0], JSON.stringify(slots[i]![1]));
  };

  return {
    /** The state the store loaded: the slots the fields read at the start hold (as checked and upgraded). */
    loaded(devices: Record<string, DeviceSlot>) {
      for (const [id, slot] of Object.entries(devices)) if (written.get(id) === null) written.set(id, slot);
    },
    /** The save of `saved`, in one go. */
    encode(saved: SavedState): StatePayload {
      const collected = collect(saved);
      const set: string[] = [];
      fields(collected.slots, set);
      return { ...collected, set };
    },
    /**
     * The same save, its slots stringified ENCODE_SLICE a turn of the event loop (a storm changes all 20,000:
     * 333 ms in one go, bench:alerts-state), with the time it kept the loop busy. Which slots, the deletions
     * and the rest are taken at once, so it is the state of this moment: a slot is never changed, only
     * replaced (./owned-map.ts), so stringifying one later gives what it held then.
     */
    async encodeInSlices(saved: SavedState, size = ENCODE_SLICE): Promise<{ payload: StatePayload; busyMs: number }> {
      let started = performance.now();
      const collected = collect(saved);
      const set: string[] = [];
      let busyMs = 0;
      for (let from = 0; ; from += size) {
        fields(collected.slots, set, from, Math.min(from + size, collected.slots.length));
        busyMs += performance.now() - started;
        if (from + size >= collected.slots.length) break;
        await new Promise((resolve) => setImmediate(resolve));
        started = performance.now();
      }
      return { payload: { ...collected, set }, busyMs };
    },
    /** Redis took `payload`: its slots are what the fields hold now. */
    written(payload: StatePayload) {
      for (const id of payload.removed) written.delete(id);
      for (const [id, slot] of payload.slots) written.set(id, slot);
    },
  };
}
