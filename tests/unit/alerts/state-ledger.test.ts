// The alert state's save to Redis per entry (alerts/state-ledger.ts): in slices, a storm's 20,000 changed devices
// are stringified a thousand a turn, and the save is still the state of the moment it was asked for; the
// notifier's tracked alerts are written per alert the same way, never as part of the rest.
import { describe, expect, it } from "vitest";
import { assembleState, type Tracked } from "../../../alerts/redis-state.js";
import type { DeviceSlot, SavedState } from "../../../alerts/saved-state.js";
import type { Alert } from "../../../domain/alert.js";
import { createStateLedger } from "../../../alerts/state-ledger.js";

const slot = (lastReadingTs: number): DeviceSlot => ({ track: { lastReadingTs, lastStatusTs: null, lastSeenAt: 1 }, rules: {} });
const saved = (devices: Record<string, DeviceSlot>, tracked?: Record<string, Tracked>): SavedState =>
  ({
    version: 1,
    saved_at: "2026-12-07T12:00:00.000Z",
    engine: { version: 1, devices },
    pending_writes: [],
    ...(tracked ? { notify: { state: { alerts: tracked, groups: {} }, outbox: [], seq: 3 } } : {}),
  }) as unknown as SavedState;
const tracked = (id: string, notified: boolean): Tracked => ({ alert: { id, device: "a", rule: "offline" } as unknown as Alert, notified });

describe("a save of the alert state in slices", () => {
  it("writes what a save in one go writes, taking the state when asked, a slice a turn of the event loop", async () => {
    const devices = { a: slot(1), b: slot(2), c: slot(3), d: slot(4) };
    const whole = createStateLedger().encode(saved(devices));
    const ledger = createStateLedger();
    const turns: string[] = [];
    const encoding = ledger.encodeInSlices(saved(devices), 1).then((encoded) => (turns.push("done"), encoded));
    // The engine goes on between slices: it replaces slots (never changes one) and adds devices.
    devices.b = slot(20);
    (devices as Record<string, DeviceSlot>).e = slot(5);
    setImmediate(() => turns.push("another turn"));
    const { payload, busyMs } = await encoding;
    expect(payload).toEqual(whole);
    expect(payload.devices.set).toEqual(["a", JSON.stringify(slot(1)), "b", JSON.stringify(slot(2)), "c", JSON.stringify(slot(3)), "d", JSON.stringify(slot(4))]);
    expect(turns).toEqual(["another turn", "done"]);
    expect(busyMs).toBeGreaterThan(0);

    // Redis took it: the next save writes only what changed since.
    ledger.written(payload);
    const next = await ledger.encodeInSlices(saved(devices), 1);
    expect(next.payload.devices.set).toEqual(["b", JSON.stringify(slot(20)), "e", JSON.stringify(slot(5))]);
  });
});

describe("which device slots a save writes", () => {
  it("not one whose only change is the watchdog's clock, but one whose parent-return grace began or ended", () => {
    const ledger = createStateLedger();
    const a = slot(1);
    ledger.written(ledger.encode(saved({ a })));
    const seen = { ...a, track: { ...a.track, lastSeenAt: 99 } };
    expect(ledger.encode(saved({ a: seen })).devices.set).toEqual([]);
    const returned = { ...seen, track: { ...seen.track, returned: { alert: "al-9", until: 130_000 } } };
    expect(ledger.encode(saved({ a: returned })).devices.set).toEqual(["a", JSON.stringify(returned)]);
  });
});

describe("the notifier's tracked alerts", () => {
  it("go to their own hash per alert, the rest keeping the notifier without them; a later save writes what changed and deletes what resolved", async () => {
    const devices = { a: slot(1) };
    const alerts: Record<string, Tracked> = { "al-1": tracked("al-1", true), "al-2": tracked("al-2", false) };
    const ledger = createStateLedger();
    const first = (await ledger.encodeInSlices(saved(devices, alerts), 1)).payload;
    expect(first.notified.set).toEqual(["al-1", JSON.stringify(alerts["al-1"]), "al-2", JSON.stringify(alerts["al-2"])]);
    expect(JSON.parse(first.rest).notify).toEqual({ state: { alerts: {}, groups: {} }, outbox: [], seq: 3 });
    ledger.written(first);

    const { "al-1": _resolved, ...open } = alerts;
    const later = { ...open, "al-2": tracked("al-2", true), "al-3": tracked("al-3", false) };
    const second = ledger.encode(saved(devices, later));
    expect(second.notified.removed).toEqual(["al-1"]);
    expect(second.notified.set).toEqual(["al-2", JSON.stringify(later["al-2"]), "al-3", JSON.stringify(later["al-3"])]);
    expect(second.devices.set).toEqual([]);
  });

  it("read back: the rest and the fields make the state that was saved, and a takeover's first save writes none of them again", () => {
    const state = saved({ a: slot(1) }, { "al-1": tracked("al-1", true) });
    const payload = createStateLedger().encode(state);
    const fields = (set: string[]) => Object.fromEntries(set.flatMap((value, i) => (i % 2 === 0 ? [[value, JSON.parse(set[i + 1]!)]] : [])));
    const read = assembleState(payload.rest, fields(payload.devices.set), fields(payload.notified.set));
    expect(read).toEqual({ value: JSON.parse(JSON.stringify(state)) });

    const loaded = (read as { value: SavedState }).value;
    const takeover = createStateLedger({ devices: ["a"], notified: ["al-1"] });
    takeover.loaded(loaded);
    const firstSave = takeover.encode(loaded);
    expect([firstSave.devices.set, firstSave.notified.set, firstSave.notified.removed]).toEqual([[], [], []]);
  });

  it("an earlier version's rest with the tracked alerts inside reads as it was; the first save moves them to the hash", () => {
    const state = saved({}, { "al-1": tracked("al-1", true) });
    const read = assembleState(JSON.stringify(state), {}, {});
    expect(read).toEqual({ value: JSON.parse(JSON.stringify(state)) });
    const ledger = createStateLedger();
    ledger.loaded((read as { value: SavedState }).value);
    expect(ledger.encode((read as { value: SavedState }).value).notified.set).toEqual(["al-1", JSON.stringify(state.notify!.state.alerts["al-1"])]);
  });

  it("fields left after notifications were removed from the configuration are not read into the state, and the first save deletes them", () => {
    const read = assembleState(JSON.stringify(saved({ a: slot(1) })), {}, { "al-1": tracked("al-1", true) });
    const value = (read as { value: SavedState }).value;
    expect(value.notify).toBeUndefined();
    const ledger = createStateLedger({ notified: ["al-1"] });
    ledger.loaded(value);
    expect(ledger.encode(value).notified.removed).toEqual(["al-1"]);
  });
});
