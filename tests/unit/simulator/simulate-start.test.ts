import { describe, expect, it } from "vitest";
import { simulationStart } from "../../../cli/simulate.js";

describe("simulate's campus clock (CONTRACT §7)", () => {
  const now = 1_800_000_000_000;
  it("starts now at 1×, and in the past above 1× so the run ends at the present", () => {
    expect(simulationStart(now, 1, undefined, undefined)).toBe(now);
    expect(simulationStart(now, 60, 10_000, undefined)).toBe(now - 600_000);
  });
  it("refuses a speed above 1 without a duration, and a start that would run into the future", () => {
    expect(() => simulationStart(now, 60, undefined, undefined)).toThrow(/needs --duration/);
    expect(() => simulationStart(now, 60, 10_000, now - 60_000)).toThrow(/future/);
    expect(simulationStart(now, 60, 10_000, now - 600_000)).toBe(now - 600_000);
  });
});
