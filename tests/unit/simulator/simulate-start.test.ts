import { describe, expect, it } from "vitest";
import { campusClockStart } from "../../../simulator/campus-clock.js";

describe("simulate's campus clock (CONTRACT §7)", () => {
  const now = 1_800_000_000_000;
  it("starts now at 1×, and in the past above 1× so the run ends at the present", () => {
    expect(campusClockStart(now, 1, undefined, undefined)).toEqual({ ok: true, startMs: now });
    expect(campusClockStart(now, 60, 10_000, undefined)).toEqual({ ok: true, startMs: now - 600_000 });
  });
  it("refuses a speed above 1 without a duration, and a start that would run into the future", () => {
    expect(campusClockStart(now, 60, undefined, undefined)).toEqual({ ok: false, problem: expect.stringMatching(/needs --duration/) });
    expect(campusClockStart(now, 60, undefined, now - 600_000)).toEqual({ ok: false, problem: expect.stringMatching(/--start with --speed above 1 needs --duration/) });
    expect(campusClockStart(now, 60, 10_000, now - 60_000)).toEqual({ ok: false, problem: expect.stringMatching(/540 s in the future/) });
    expect(campusClockStart(now, 60, 10_000, now - 600_000)).toEqual({ ok: true, startMs: now - 600_000 });
  });
});
