// The alert state's save to Redis per device (alerts/redis-state.ts): in slices, a storm's 20,000 changed devices
// are stringified a thousand a turn, and the save is still the state of the moment it was asked for.
import { describe, expect, it } from "vitest";
import { createSlotLedger } from "../../../alerts/redis-state.js";
import type { DeviceSlot, SavedState } from "../../../alerts/saved-state.js";

const slot = (lastReadingTs: number): DeviceSlot => ({ track: { lastReadingTs, lastStatusTs: null, lastSeenAt: 1 }, rules: {} });
const saved = (devices: Record<string, DeviceSlot>): SavedState => ({ version: 1, saved_at: "2026-12-07T12:00:00.000Z", engine: { version: 1, devices }, pending_writes: [] }) as unknown as SavedState;

describe("a save of the alert state in slices", () => {
  it("writes what a save in one go writes, taking the state when asked, a slice a turn of the event loop", async () => {
    const devices = { a: slot(1), b: slot(2), c: slot(3), d: slot(4) };
    const whole = createSlotLedger([]).encode(saved(devices));
    const ledger = createSlotLedger([]);
    const turns: string[] = [];
    const encoding = ledger.encodeInSlices(saved(devices), 1).then((encoded) => (turns.push("done"), encoded));
    // The engine goes on between slices: it replaces slots (never changes one) and adds devices.
    devices.b = slot(20);
    (devices as Record<string, DeviceSlot>).e = slot(5);
    setImmediate(() => turns.push("another turn"));
    const { payload, busyMs } = await encoding;
    expect(payload).toEqual(whole);
    expect(payload.set).toEqual(["a", JSON.stringify(slot(1)), "b", JSON.stringify(slot(2)), "c", JSON.stringify(slot(3)), "d", JSON.stringify(slot(4))]);
    expect(turns).toEqual(["another turn", "done"]);
    expect(busyMs).toBeGreaterThan(0);

    // Redis took it: the next save writes only what changed since.
    ledger.written(payload);
    const next = await ledger.encodeInSlices(saved(devices), 1);
    expect(next.payload.set).toEqual(["b", JSON.stringify(slot(20)), "e", JSON.stringify(slot(5))]);
  });
});
