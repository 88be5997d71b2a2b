import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { createRuleBook, defaultRules, evaluate, evaluateBatch, initialState } from "../../../alerts/index.js";
import type { EngineInput, EngineState } from "../../../alerts/index.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const book = createRuleBook(campus, defaultRules());
const T0 = Date.parse("2026-11-29T08:00:00Z");

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** 4 minutes of readings from three breakers, one of them overloaded, interleaved as a batch would carry them. */
function readings(): EngineInput[] {
  const inputs: EngineInput[] = [];
  for (let i = 0; i < 48; i++) {
    const ts = T0 + i * 5_000;
    inputs.push({ kind: "reading", reading: { device: "brk-d1-101", ts, values: { current_a: 20, power_w: 900 } }, live: true } as EngineInput);
    inputs.push({ kind: "reading", reading: { device: "brk-d1-102", ts, values: { current_a: 3, power_w: 600 } }, live: true } as EngineInput);
    inputs.push({ kind: "reading", reading: { device: "brk-c1-main", ts, values: { current_a: i > 30 ? 2 : 40, power_w: 500 } }, live: true } as EngineInput);
  }
  return inputs;
}

describe("evaluating a batch of inputs", () => {
  it("gives the same state and effects as evaluating them one by one, without touching its input", () => {
    const start = evaluate(book, initialState(), { kind: "start" } as EngineInput, T0).state;
    let oneByOne: EngineState = start;
    const effectsOneByOne: unknown[] = [];
    for (const input of readings()) {
      const result = evaluate(book, oneByOne, input, T0 + 300_000);
      oneByOne = result.state;
      effectsOneByOne.push(...result.effects);
    }
    const frozen = deepFreeze(structuredClone(start));
    const batch = evaluateBatch(book, frozen, readings(), T0 + 300_000);
    expect(batch.state).toEqual(oneByOne);
    expect(batch.effects).toEqual(effectsOneByOne);
    expect(effectsOneByOne.length).toBeGreaterThan(0); // the overloads opened: the comparison is not of two empty lists
    // The state handed in is untouched, and a later batch on the result does not change that result.
    expect(frozen).toEqual(start);
    const after = structuredClone(batch.state);
    evaluateBatch(book, batch.state, readings().map((r) => ({ ...r, reading: { ...(r as { reading: object }).reading, ts: T0 + 600_000 } }) as EngineInput), T0 + 700_000);
    expect(batch.state).toEqual(after);
  });
});
