// The notifier's planner in a district's storm: one tracked entry per paged open alert (before 2026-12-07, per
// open alert: 20,000 when a district falls silent), so a copy of them per change was quadratic. Within the notifier's own runs (alerts/owned-map.ts) its
// maps are updated in place; called as a pure function it never changes what it was given.
import { describe, expect, it } from "vitest";
import { createStateOwner, withoutEntry } from "../../../alerts/owned-map.js";
import { due, emptyNotifyState, noteChange } from "../../../alerts/notify/planner.js";
import type { Alert } from "../../../domain/alert.js";

const T0 = Date.parse("2026-12-07T12:00:00Z");
const alertOf = (device: string, state: Alert["state"] = "firing"): Alert => ({
  id: `${device}.offline.${T0}.1`, rule: "offline", device, building: "b1", site: "s", severity: "major", state,
  value: 31, threshold: 30, message: `no data from ${device}`, started_at: new Date(T0).toISOString(), updated_at: new Date(T0).toISOString(),
});
const CFG = { groupWindowMs: 30_000, repeatMs: { major: 3_600_000 }, escalateMs: {}, secondary: false };

describe("the notifier's planner", () => {
  it("called as a pure function, leaves the state it was given as it was", () => {
    const empty = emptyNotifyState();
    const one = noteChange(empty, "opened", alertOf("brk-1"), T0);
    const two = noteChange(one, "opened", alertOf("brk-2"), T0);
    expect(empty).toEqual(emptyNotifyState());
    expect(Object.keys(one.alerts)).toEqual([alertOf("brk-1").id]);
    const before = structuredClone(two);
    const { state, messages } = due(two, T0 + 30_000, CFG);
    expect(messages).toHaveLength(1); // the building's group: both alerts in one message
    expect(two).toEqual(before);
    expect(state.groups).toEqual({});
    expect(state.alerts[alertOf("brk-2").id]).toMatchObject({ notified: true, firstSentAt: T0 + 30_000 });
    const resolved = noteChange(state, "resolved", alertOf("brk-1", "resolved"), T0 + 40_000);
    expect(Object.keys(state.alerts)).toHaveLength(2);
    expect(Object.keys(resolved.alerts)).toEqual([alertOf("brk-2").id]);
  });

  it("within its owner's runs, updates the maps it made in place, and puts back what a failed run changed", () => {
    const owner = createStateOwner();
    let state = owner.run(() => noteChange(emptyNotifyState(), "opened", alertOf("brk-1"), T0));
    const tracked = state.alerts;
    const groups = state.groups;
    for (const device of ["brk-2", "brk-3"]) state = owner.run(() => noteChange(state, "opened", alertOf(device), T0));
    expect(state.alerts).toBe(tracked); // no copy of the tracked alerts per change
    expect(state.groups).toBe(groups);
    expect(Object.keys(state.alerts)).toHaveLength(3);
    state = owner.run(() => due(state, T0 + 30_000, CFG).state);
    expect(state.alerts).toBe(tracked);
    expect(state.groups).toEqual({});

    const kept = structuredClone(state);
    expect(() =>
      owner.run(() => {
        noteChange(state, "resolved", alertOf("brk-1", "resolved"), T0 + 40_000);
        throw new Error("a failure after the change");
      }),
    ).toThrow("a failure after the change");
    expect(state).toEqual(kept);
  });

  it("keeps no entry for an alert it never paged: a storm of inhibited alerts leaves nothing to save, and one paged once its parent is back", () => {
    const owner = createStateOwner();
    const inhibited = (device: string): Alert => ({ ...alertOf(device), inhibited_by: "feeder-1.offline.1.1" });
    let state = emptyNotifyState();
    for (let i = 0; i < 1_000; i++) state = owner.run(() => noteChange(state, "opened", inhibited(`brk-${i}`), T0));
    expect(state.alerts).toEqual({});
    expect(state.groups).toEqual({});
    // The feeder came back and brk-7 stayed silent past its grace: its offline alert is no longer inhibited, and is paged like a new one.
    state = owner.run(() => noteChange(state, "updated", alertOf("brk-7"), T0 + 5_000));
    expect(Object.keys(state.alerts)).toEqual([alertOf("brk-7").id]);
    const { messages } = due(state, T0 + 35_000, CFG);
    expect(messages.map((m) => m.body.event)).toEqual(["opened"]);
    // Still inhibited when it resolves: nothing to say, nothing kept.
    state = owner.run(() => noteChange(state, "resolved", { ...inhibited("brk-8"), state: "resolved" }, T0 + 40_000));
    expect(Object.keys(state.alerts)).toEqual([alertOf("brk-7").id]);
  });

  it("withoutEntry: the map itself when the key is absent, a copy outside a run", () => {
    const map = { a: 1, b: 2 };
    expect(withoutEntry(map, "c")).toBe(map);
    expect(withoutEntry(map, "a")).toEqual({ b: 2 });
    expect(map).toEqual({ a: 1, b: 2 });
  });
});
