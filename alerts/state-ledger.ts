// Which entry of the alert state each field in Redis holds (./redis-state.ts), so a save writes only the
// entries that changed. An entry that changed is a new object (the engine and the notifier are copy-on-write
// below their maps, ./owned-map.ts), so an entry is known unchanged by identity, without comparing or
// serialising it; a device slot whose only change is the watchdog's clock is not written either (`sameButSeen`).
import type { HashChanges, MapName, StatePayload, Tracked } from "./redis-state.js";
import type { DeviceSlot, SavedState } from "./saved-state.js";

/**
 * A slot whose rules are the very same object and whose track differs at most in `lastSeenAt` is not written:
 * that is the watchdog's wall clock, which every start sets anew for every device (engine.ts `start`), so its
 * saved value is never read. A takeover's start thus writes nothing per device, where it wrote all 20,000.
 */
const sameButSeen = (a: DeviceSlot, b: DeviceSlot) =>
  a.rules === b.rules && a.track.lastReadingTs === b.track.lastReadingTs && a.track.lastStatusTs === b.track.lastStatusTs && a.track.intervalMs === b.track.intervalMs && a.track.gaps === b.track.gaps && a.track.returned === b.track.returned;

/** Entries a save stringifies a turn of the event loop (`encodeInSlices`), over both maps. */
export const ENCODE_SLICE = 1_000;

/** The fields of one hash: which entry each holds; null for a field read at the start until `loaded` says which entry it became. */
function mapLedger<V>(fieldsInRedis: Iterable<string>, unchanged: (before: V, now: V) => boolean = () => false) {
  const written = new Map<string, V | null>();
  for (const id of fieldsInRedis) written.set(id, null);
  return {
    /** The entries of `map` that differ from their fields, and the fields `map` no longer has. */
    collect(map: Record<string, V>): Omit<HashChanges<V>, "set"> {
      const entries: [string, V][] = [];
      let kept = 0;
      for (const id in map) {
        const entry = map[id]!;
        const before = written.get(id);
        if (before !== undefined) kept++;
        if (before === entry) continue;
        if (before && unchanged(before, entry)) {
          written.set(id, entry); // what the field holds still stands for it
          continue;
        }
        entries.push([id, entry]);
      }
      // Fields of entries the map no longer has (a device gone from the campus file, an alert resolved).
      const removed = kept === written.size ? [] : [...written.keys()].filter((id) => !Object.hasOwn(map, id));
      return { removed, entries };
    },
    loaded(map: Record<string, V>) {
      for (const [id, entry] of Object.entries(map)) if (written.get(id) === null) written.set(id, entry);
    },
    written(changes: HashChanges<V>) {
      for (const id of changes.removed) written.delete(id);
      for (const [id, entry] of changes.entries) written.set(id, entry);
    },
  };
}

/** The two maps of a saved state kept per entry, and its rest without them (`alerts: {}` in its place: the schema's shape). */
function split(saved: SavedState): { rest: unknown; devices: Record<string, DeviceSlot>; notified: Record<string, Tracked> } {
  const { engine, notify, ...others } = saved;
  const { devices, ...engineRest } = engine;
  if (!notify) return { rest: { ...others, engine: engineRest }, devices, notified: {} };
  return { rest: { ...others, engine: engineRest, notify: { ...notify, state: { ...notify.state, alerts: {} } } }, devices, notified: notify.state.alerts };
}

/** Remembers which entry each field in Redis holds; a save puts in only the entries that differ. */
export function createStateLedger(fieldsInRedis: Partial<Record<MapName, Iterable<string>>> = {}) {
  const maps = { devices: mapLedger<DeviceSlot>(fieldsInRedis.devices ?? [], sameButSeen), notified: mapLedger<Tracked>(fieldsInRedis.notified ?? []) };

  /** The save of `saved` but its entries' JSON: which entries differ from their fields, the deleted fields, the rest's JSON. */
  const collect = (saved: SavedState) => {
    const { rest, devices, notified } = split(saved);
    return { rest: JSON.stringify(rest), devices: maps.devices.collect(devices), notified: maps.notified.collect(notified) };
  };
  const payloadOf = (collected: ReturnType<typeof collect>): StatePayload => ({
    rest: collected.rest,
    devices: { ...collected.devices, set: [] },
    notified: { ...collected.notified, set: [] },
  });

  return {
    /** The state the store loaded: the entries the fields read at the start hold (as checked and upgraded). */
    loaded(saved: SavedState) {
      const { devices, notified } = split(saved);
      maps.devices.loaded(devices);
      maps.notified.loaded(notified);
    },
    /** The save of `saved`, in one go. */
    encode(saved: SavedState): StatePayload {
      const payload = payloadOf(collect(saved));
      for (const changes of [payload.devices, payload.notified] as HashChanges[]) for (const [id, entry] of changes.entries) changes.set.push(id, JSON.stringify(entry));
      return payload;
    },
    /**
     * The same save, its entries stringified ENCODE_SLICE a turn of the event loop (a storm changes all 20,000
     * devices, and the alerts the notifier paged besides: 333 ms for the devices in one go,
     * bench:alerts-state), with the time it kept the loop busy. Which entries, the deletions and the rest are
     * taken at once, so it is the state of this moment: an entry is never changed, only replaced
     * (./owned-map.ts), so stringifying one later gives what it held then.
     */
    async encodeInSlices(saved: SavedState, size = ENCODE_SLICE): Promise<{ payload: StatePayload; busyMs: number }> {
      let started = performance.now();
      const payload = payloadOf(collect(saved));
      let busyMs = 0;
      let inTurn = 0;
      for (const changes of [payload.devices, payload.notified] as HashChanges[]) {
        for (const [id, entry] of changes.entries) {
          if (inTurn === size) {
            busyMs += performance.now() - started;
            await new Promise((resolve) => setImmediate(resolve));
            started = performance.now();
            inTurn = 0;
          }
          changes.set.push(id, JSON.stringify(entry));
          inTurn++;
        }
      }
      return { payload, busyMs: busyMs + performance.now() - started };
    },
    /** Redis took `payload`: its entries are what the fields hold now. */
    written(payload: StatePayload) {
      maps.devices.written(payload.devices);
      maps.notified.written(payload.notified);
    },
  };
}
