import { describe, expect, it } from "vitest";
import { type Anomaly, type EnergyState, GLITCH_WINDOW_MS, observeCounter } from "../../../ingest/energy.js";

const MIN = 60_000;
/** Feeds readings [minute, kWh] in the given order; returns the final delta per timestamp and the anomalies. */
function run(readings: [number, number][], state: EnergyState = {}) {
  const deltas = new Map<number, number>();
  const anomalies: Anomaly[] = [];
  for (const [minute, kwh] of readings) {
    for (const out of observeCounter(state, "dev", minute * MIN, kwh, anomalies)) deltas.set(out.ts / MIN, out.delta);
  }
  const total = [...deltas.values()].reduce((a, b) => a + b, 0);
  return { deltas: Object.fromEntries(deltas), total: Math.round(total * 1e6) / 1e6, anomalies, state };
}

describe("energy deltas from a cumulative counter", () => {
  it("gives no delta to the first reading and the increase to each next one", () => {
    const { deltas, total } = run([[0, 100], [1, 100.5], [2, 101.25]]);
    expect(deltas).toEqual({ 1: 0.5, 2: 0.75 });
    expect(total).toBe(1.25);
  });

  it("starts a new cycle on a decrease: delta 0, never negative, then counts from the new value", () => {
    const { deltas, anomalies } = run([[0, 500], [1, 501], [2, 0.2], [3, 0.7]]);
    expect(deltas).toEqual({ 1: 1, 2: 0, 3: 0.5 });
    expect(anomalies).toContain("decrease");
  });

  it("does not book the whole register again when a zero is a glitch and the old value returns", () => {
    const { deltas, total, anomalies } = run([[0, 1500], [1, 0], [2, 0], [3, 1500.1]]);
    expect(deltas).toEqual({ 1: 0, 2: 0, 3: 0.1 });
    expect(total).toBe(0.1);
    expect(anomalies).toContain("glitch");
  });

  it("treats a zero after a reboot as a new cycle without resetting what was counted before", () => {
    const { total } = run([[0, 10], [1, 12], [2, 0], [3, 1], [4, 3]]);
    expect(total).toBe(2 + 0 + 1 + 2);
  });

  it("only treats the old value returning as a glitch within the glitch window", () => {
    const late = GLITCH_WINDOW_MS / MIN + 5;
    const { deltas } = run([[0, 5], [1, 0], [2, 1], [late, 6]]);
    expect(deltas[late]).toBe(5); // a real new cycle that grew past the old level: counted from 1
  });

  it("books what the meter counted across a gap on the first reading after it, writing nothing for the gap", () => {
    const { deltas } = run([[0, 100], [1, 100.1], [181, 103.1]]); // 3 h silent, 3 kWh counted meanwhile
    expect(Object.keys(deltas).map(Number)).toEqual([1, 181]);
    expect(deltas[181]).toBe(3);
  });

  it("refuses an implausible jump (above 500 kW on average) as a counter jump", () => {
    const { deltas, anomalies } = run([[0, 100], [1, 5100]]); // 5,000 kWh in a minute
    expect(deltas[1]).toBe(0);
    expect(anomalies).toContain("implausible");
  });

  it("keeps the sum right when a reading arrives out of order, by correcting its successor", () => {
    const { deltas, total } = run([[0, 10], [2, 14], [1, 11]]);
    expect(deltas).toEqual({ 1: 1, 2: 3 });
    expect(total).toBe(4);
  });

  it("gives the same delta to the same reading again (redelivery, replay)", () => {
    const state: EnergyState = {};
    run([[0, 10], [1, 11]], state);
    const again = observeCounter(state, "dev", 1 * MIN, 11);
    expect(again).toEqual([{ key: "dev", ts: MIN, delta: 1 }]);
  });

  it("gives the same deltas in any arrival order", () => {
    const ordered = run([[0, 1], [1, 2], [2, 0], [3, 0.5], [4, 1.5]]);
    const shuffled = run([[0, 1], [2, 0], [1, 2], [4, 1.5], [3, 0.5]]);
    expect(shuffled.deltas).toEqual(ordered.deltas);
  });
});
