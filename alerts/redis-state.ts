// The alert state in Redis (REDIS_URL; docs/ha.md), kept per entry of its two large maps: the hash
// `campus:alerts:devices` holds one field per device (its watchdog track, its rules' state and open alerts: the
// engine's `devices`), the hash `campus:alerts:notified` one field per alert the notifier tracks (`notify.state
// .alerts`: each open alert it paged), and `campus:alerts:state` everything else
// (silences, the notifier's outbox and groups, pending alert points, automation). A save writes the entries that
// changed since the last save Redis took (./state-ledger.ts), with the rest, in one fenced script: a standby
// taking over reads one save or the next, never half of one.
// Before, the whole state was one value, written whole at every save: 35 MB at 20,000 devices, which kept Redis
// (fsyncing each) and the active's event loop (serialising each) so busy that the active lost its lease
// (docs/benchmarks.md, run D7); the notifier's map (then every open alert, 8 MiB at 20,000) stayed in the rest
// until 2026-12-07. A save now costs what changed.
import type { Redis } from "../infra/redis.js";
import { isJsonObject } from "../domain/json-object.js";
import { FENCE_KEY } from "./lease.js";
import type { Stored } from "./persistence.js";
import type { DeviceSlot, NotifyState } from "./saved-state.js";

export const STATE_KEY = "campus:alerts:state";
export const DEVICES_KEY = "campus:alerts:devices";
export const NOTIFIED_KEY = "campus:alerts:notified";

/** The maps kept one field per entry: the engine's devices and the notifier's tracked alerts. */
export type MapName = "devices" | "notified";
export const MAP_NAMES: readonly MapName[] = ["devices", "notified"];
export const HASH_OF: Record<MapName, string> = { devices: DEVICES_KEY, notified: NOTIFIED_KEY };
export type Tracked = NotifyState["alerts"][string];

/** What a save changes in one hash: the ids to delete, the (id, JSON) pairs to set, and the entries they are. */
export interface HashChanges<V = unknown> {
  removed: string[];
  set: string[];
  entries: [string, V][];
}

/** One save: the rest's JSON and each hash's changes. */
export interface StatePayload {
  rest: string;
  devices: HashChanges<DeviceSlot>;
  notified: HashChanges<Tracked>;
}

/** Fields of a hash each call sets or deletes at most (Lua's `unpack` has a limit); even, for HSET's pairs. */
const CHUNK = 1_000;

// KEYS[1] fence, KEYS[2] the rest's key, KEYS[3..] the hashes; ARGV[1] token, ARGV[2] the rest, then for each
// hash: how many ids to delete, how many id/JSON values to set (twice the pairs), those ids, those values.
// 1 when written, 0 when refused (nothing written).
const FENCED_SAVE = `
if tonumber(redis.call('GET', KEYS[1])) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
local i = 3
for h = 3, #KEYS do
  local deletions = tonumber(ARGV[i])
  local values = tonumber(ARGV[i + 1])
  i = i + 2
  for _, command in ipairs({ { 'HDEL', deletions }, { 'HSET', values } }) do
    local last = i + command[2] - 1
    while i <= last do
      local j = math.min(i + ${CHUNK - 1}, last)
      redis.call(command[1], KEYS[h], unpack(ARGV, i, j))
      i = j + 1
    end
  end
end
return 1`;

/** Writes a save if the fence still holds `token`: false when refused (another instance took the lease). */
export async function fencedSave(redis: Redis, token: number, payload: StatePayload): Promise<boolean> {
  let args: string[] = [String(token), payload.rest];
  for (const name of MAP_NAMES) {
    const changes = payload[name];
    args = [...args, String(changes.removed.length), String(changes.set.length), ...changes.removed, ...changes.set];
  }
  const keys = MAP_NAMES.map((name) => HASH_OF[name]);
  // One array (ioredis flattens it), not a call with an argument per field: a storm's save has 40,000 and more.
  return (await redis.eval(FENCED_SAVE, 2 + keys.length, [FENCE_KEY, STATE_KEY, ...keys, ...args])) === 1;
}

/** The saved state as Redis holds it: the rest's text and each hash's fields. */
export interface StateInRedis {
  rest: string | null;
  devices: Record<string, string>;
  notified: Record<string, string>;
}

/** Reads the rest and every hash's fields in one transaction (a save between the reads is not seen half). */
export async function readState(redis: Redis): Promise<StateInRedis> {
  const replies = await redis.multi().get(STATE_KEY).hgetall(DEVICES_KEY).hgetall(NOTIFIED_KEY).exec();
  if (!replies) throw new Error("the read of the alert state was aborted");
  for (const [error] of replies) if (error) throw error;
  return { rest: replies[0]![1] as string | null, devices: replies[1]![1] as Record<string, string>, notified: replies[2]![1] as Record<string, string> };
}

/** Parses a hash's fields, a thousand a turn of the event loop: a takeover reads 20,000 devices (35 MB) while its lease must be renewed. */
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
 * The saved state as one value: the rest with the devices' parsed fields as `engine.devices` and the tracked
 * alerts' as `notify.state.alerts`. A value written whole by an earlier version (its maps inside) reads as it
 * was; the first save then moves its entries into the hashes. Tracked alerts without a notifier in the rest
 * (notifications since removed from the configuration) are dropped, and deleted by the first save. Null when
 * nothing was saved.
 */
export function assembleState(rest: string | null, devices: Record<string, unknown>, notified: Record<string, unknown> = {}): Stored | null {
  const ids = Object.keys(devices);
  if (rest === null && ids.length === 0 && Object.keys(notified).length === 0) return null;
  let value: unknown = {};
  if (rest !== null) {
    try {
      value = JSON.parse(rest);
    } catch {
      return rest; // the store reports it as not JSON and keeps it aside
    }
  }
  if (!isJsonObject(value)) return { value };
  const engine = isJsonObject(value.engine) ? value.engine : {};
  const withDevices = ids.length === 0 ? value : { ...value, engine: { ...engine, devices: { ...(isJsonObject(engine.devices) ? engine.devices : {}), ...devices } } };
  const notify = value.notify;
  if (Object.keys(notified).length === 0 || !isJsonObject(notify) || !isJsonObject(notify.state)) return { value: withDevices };
  const alerts = isJsonObject(notify.state.alerts) ? notify.state.alerts : {};
  return { value: { ...withDevices, notify: { ...notify, state: { ...notify.state, alerts: { ...alerts, ...notified } } } } };
}
