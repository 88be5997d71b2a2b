// The alerts service's way of running the engine (alerts/owned-map.ts createStateOwner): in place, yet the
// same states and effects as the pure engine, and a step that throws leaves the state as it found it.
import { Type as T } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { createStateOwner } from "../../../alerts/owned-map.js";
import { evaluate, initialState } from "../../../alerts/engine.js";
import { createRuleBook } from "../../../alerts/rule-book.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { defineRule, type EngineInput, type EngineState } from "../../../alerts/types.js";
import { testCampus, T0 } from "./harness.js";

const reading = (device: string, ts: number, current: number): EngineInput => ({ kind: "reading", reading: { device, ts, values: { current_a: current, power_w: current * 220 } }, live: true });

/** Two minutes of readings, brk-101 overloaded, then silence long enough for the watchdogs. */
function inputs(): Array<{ input: EngineInput; at: number }> {
  const list: Array<{ input: EngineInput; at: number }> = [{ input: { kind: "start" }, at: T0 }];
  for (let i = 0; i < 24; i++) {
    list.push({ input: reading("brk-101", T0 + i * 5_000, 30), at: T0 + i * 5_000 });
    list.push({ input: reading("brk-main", T0 + i * 5_000, 10), at: T0 + i * 5_000 });
  }
  for (let s = 0; s < 5; s++) list.push({ input: { kind: "tick" }, at: T0 + 200_000 + s * 30_000 });
  return list;
}

describe("the engine run by the state's one owner", () => {
  it("gives the pure engine's states and effects, step by step", () => {
    const book = createRuleBook(testCampus(), defaultRules());
    const owner = createStateOwner();
    let pure: EngineState = initialState();
    let owned: EngineState = initialState();
    let opened = 0;
    for (const { input, at } of inputs()) {
      const expected = evaluate(book, pure, input, at);
      const got = owner.run(() => evaluate(book, owned, input, at));
      expect(got.effects).toEqual(expected.effects);
      expect(got.state).toEqual(expected.state);
      expect(got.state === owned).toBe(expected.state === pure); // "nothing happened" is still the same object
      pure = expected.state;
      owned = got.state;
      opened += got.effects.filter((e) => e.type === "alert" && e.change === "opened").length;
    }
    expect(opened).toBeGreaterThanOrEqual(2); // overload, then the watchdogs' offline: not a comparison of nothing
  });

  it("puts back every in-place change of a step that throws, and goes on from there", () => {
    // A watchdog that fails on brk-main after the tick has already changed the devices before it.
    const failing = defineRule({
      id: "fails-on-main",
      params: T.Object({}),
      appliesTo: () => true,
      initial: () => ({ ticks: 0 }),
      onTick: (state, ctx) => {
        if (ctx.device.id === "brk-main" && state.ticks >= 1) throw new Error("a bug in a rule");
        return { state: { ticks: state.ticks + 1 } };
      },
    });
    const book = createRuleBook(testCampus(), [...defaultRules(), failing]);
    const owner = createStateOwner();
    let state = owner.run(() => evaluate(book, initialState(), { kind: "start" }, T0)).state;
    state = owner.run(() => evaluate(book, state, { kind: "tick" }, T0 + 1_000)).state; // every device ticks once
    const before = structuredClone(state);
    expect(() => owner.run(() => evaluate(book, state, { kind: "tick" }, T0 + 2_000))).toThrow("a bug in a rule");
    expect(state).toEqual(before); // brk-101 (before brk-main in the file) ticked in place, and was put back
    const next = owner.run(() => evaluate(book, state, reading("brk-101", T0 + 3_000, 5), T0 + 3_000)).state;
    expect(next.devices["brk-101"]?.track.lastReadingTs).toBe(T0 + 3_000);
  });

  it("cannot be nested in another step", () => {
    const owner = createStateOwner();
    expect(() => owner.run(() => owner.run(() => 1))).toThrow("nested");
  });
});
