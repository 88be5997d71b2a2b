import { describe, expect, it } from "vitest";
import { INFLUX_BACKOFF, backoffDelayMs } from "../../../infra/backoff.js";
import { createRng } from "../../../simulator/random.js";

describe("the one retry policy", () => {
  it("grows exponentially from the base with jitter between half and all of the ceiling", () => {
    expect(backoffDelayMs(0, 0, INFLUX_BACKOFF)).toBe(125);
    expect(backoffDelayMs(0, 0.999, INFLUX_BACKOFF)).toBe(250);
    expect(backoffDelayMs(3, 0, INFLUX_BACKOFF)).toBe(1_000);
    expect(backoffDelayMs(3, 0.999, INFLUX_BACKOFF)).toBe(1_999);
  });

  it("never exceeds the cap, however many attempts, and never waits 0", () => {
    expect(backoffDelayMs(20, 0.999, INFLUX_BACKOFF)).toBeLessThanOrEqual(30_000);
    expect(backoffDelayMs(10_000, 0.5, INFLUX_BACKOFF)).toBe(22_500);
    expect(backoffDelayMs(-1, 0, { baseMs: 2, capMs: 10 })).toBe(1);
  });

  it("spreads a fleet that lost its server together instead of bringing it back in lock-step", () => {
    const rng = createRng(1);
    const first = Array.from({ length: 1000 }, () => backoffDelayMs(0, rng(), { baseMs: 1_000, capMs: 30_000 }));
    expect(Math.min(...first)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...first)).toBeLessThanOrEqual(1000);
    expect(new Set(first).size).toBeGreaterThan(300); // spread, not one period
  });
});
