import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { DEMO_CAMPUS_FILE } from "../../../domain/env.js";
import { advanceTo, createCampusModel } from "../../../simulator/model.js";
import { DEFAULT_OVERLOAD, overloadAt, pickOverloadDevice } from "../../../simulator/overload.js";
import { nativeReading } from "../../../simulator/payloads.js";
import { classifyLoad } from "../../../simulator/profiles.js";

const campus = loadCampus(DEMO_CAMPUS_FILE);

/** Runs of consecutive seconds where `test` holds, as [startS, endS) pairs. */
function runs(samples: number[], test: (value: number) => boolean): [number, number][] {
  const found: [number, number][] = [];
  let start = -1;
  samples.forEach((value, second) => {
    if (test(value) && start < 0) start = second;
    if (!test(value) && start >= 0) found.push([start, second]), (start = -1);
  });
  if (start >= 0) found.push([start, samples.length]);
  return found;
}

describe("demo overload episode", () => {
  const device = pickOverloadDevice(campus)!;
  const rating = device.rating_a!;

  it("picks a 16 A dorm-room breaker", () => {
    expect(device.id).toBe("brk-d3-301");
    expect(rating).toBe(16);
  });

  for (const localStart of ["2026-11-25T21:00:00+08:00", "2026-11-25T03:00:00+08:00"]) {
    it(`exceeds 1.0 × rating for at least 60 s of event time and drops below 0.9 × afterwards (start ${localStart.slice(11, 16)})`, () => {
      const startMs = Date.parse(localStart);
      const model = createCampusModel(campus, { seed: 11, startMs, overload: { ...DEFAULT_OVERLOAD, deviceId: device.id } });
      const current: number[] = [];
      const feederPhase: number[] = [];
      for (let s = 0; s < 640; s++) {
        advanceTo(model, startMs + s * 1000);
        const reading = nativeReading(model, device.id);
        current.push(reading.current_a!);
        feederPhase.push(Math.max(...Object.values(nativeReading(model, "brk-d3-main").phases!).map((p) => p.current_a)));
      }
      const above = runs(current, (i) => i >= rating);
      // First episode within 60–90 s of start, then every 5 minutes: two in the first 640 s.
      expect(above).toHaveLength(2);
      expect(Math.abs(above[1]![0] - above[0]![0] - 300)).toBeLessThanOrEqual(2);
      const [first] = above;
      expect(first![0]).toBeGreaterThanOrEqual(60);
      expect(first![0]).toBeLessThanOrEqual(90);
      for (const [start, end] of above) {
        expect(end - start).toBeGreaterThanOrEqual(60 + 20); // the rule's 60 s plus reporting slack
        expect(end - start).toBeLessThanOrEqual(120);
        const hold = current.slice(start + 5, end - 5);
        expect(Math.max(...hold)).toBeLessThanOrEqual(1.3 * rating);
        expect(Math.min(...hold)).toBeGreaterThanOrEqual(1.15 * rating);
      }
      // After each episode: below 0.9 × within 10 s, and long enough (> 2 min) for the alert to clear.
      const below = runs(current, (i) => i < 0.9 * rating);
      for (const [, end] of above) {
        const quiet = below.find(([start]) => start >= end);
        expect(quiet![0] - end).toBeLessThanOrEqual(10);
        expect(quiet![1] - quiet![0]).toBeGreaterThan(120 + 30); // the 2 min clear, with slack
      }
      // The board upstream carries it too: its worst phase is at least the room's current.
      current.forEach((i, s) => expect(feederPhase[s]!).toBeGreaterThanOrEqual(i - 0.01));
      expect(Math.max(...feederPhase)).toBeLessThan(100); // the 100 A building breaker is far from overload
    });
  }

  it("is off outside episodes and ramps in and out", () => {
    const plan = { ...DEFAULT_OVERLOAD, deviceId: "x" };
    expect(overloadAt(plan, 0)).toBeNull();
    expect(overloadAt(plan, plan.firstStartMs + 5_000)?.weight).toBeCloseTo(0.5);
    expect(overloadAt(plan, plan.firstStartMs + 60_000)?.weight).toBe(1);
    expect(overloadAt(plan, plan.firstStartMs + 200_000)).toBeNull();
    expect(overloadAt(plan, plan.firstStartMs + plan.periodMs + 60_000)?.weight).toBe(1);
  });
});

describe("load classification", () => {
  const kindOf = (id: string) => {
    const device = campus.deviceById.get(id)!;
    return classifyLoad(device, campus.buildingById.get(device.building)!.kind);
  };

  it("reads the circuit's purpose from its id and building", () => {
    expect(kindOf("brk-ta-light-1f")).toBe("lighting");
    expect(kindOf("brk-ls-fridge")).toBe("always-on");
    expect(kindOf("brk-ad-server")).toBe("always-on");
    expect(kindOf("brk-ad-ac")).toBe("hvac");
    expect(kindOf("brk-ls-hood")).toBe("lab-motor");
    expect(kindOf("brk-d3-305")).toBe("dorm-room");
    expect(kindOf("plug-d3-302-a")).toBe("dorm-socket");
    expect(kindOf("brk-ad-sock-2f")).toBe("office");
  });
});
