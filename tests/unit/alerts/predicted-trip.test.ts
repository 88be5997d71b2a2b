import { describe, expect, it } from "vitest";
import { defaultRules } from "../../../alerts/rules/index.js";
import { EARLIEST_K, iecEnvelope, LATEST_K, tableCurve } from "../../../alerts/rules/curves.js";
import { accumulate } from "../../../alerts/rules/predicted-trip.js";
import { Harness, s } from "./harness.js";
import { scenarioCampus } from "./scenario-campus.js";

/** Seconds until the accumulator reaches 1 at a constant multiple m of In (1 s steps), or Infinity within `limitS`. */
function secondsToTrip(tripS: (m: number) => number, m: number, limitS = 7200, stepS = 0.25): number {
  let damage = 0;
  for (let t = stepS; t <= limitS; t += stepS) {
    damage = accumulate(damage, m, stepS, tripS(m), 1.05, 600);
    if (damage >= 1) return t;
  }
  return Infinity;
}

describe("IEC 60898-1 time–current table for predicted-trip (domain.md §2.1, §3.2)", () => {
  for (const curve of ["B", "C", "D"] as const) {
    const { earliest, latest } = iecEnvelope(curve);
    it(`curve ${curve}: 1.13 In never trips within an hour on the latest curve (test a)`, () => {
      expect(secondsToTrip(latest.tripS, 1.13)).toBeGreaterThan(3600);
      expect(secondsToTrip(earliest.tripS, 1.13)).toBeGreaterThanOrEqual(3600 - 1);
    });
    it(`curve ${curve}: 1.45 In trips within an hour on both curves (test b)`, () => {
      expect(secondsToTrip(earliest.tripS, 1.45)).toBeLessThan(3600);
      expect(secondsToTrip(latest.tripS, 1.45)).toBeLessThanOrEqual(3600);
    });
    it(`curve ${curve}: 2.55 In trips between 1 s and 60 s on both curves (test c)`, () => {
      for (const c of [earliest, latest]) {
        const t = secondsToTrip(c.tripS, 2.55);
        expect(t).toBeGreaterThanOrEqual(1);
        expect(t).toBeLessThanOrEqual(60 + 0.5); // one integration step of tolerance
      }
    });
  }

  it("uses the envelope slopes of domain.md (≈ 10.1 and ≈ 7.25) and its worked example at 1.53 In (≈ 3 min to ≈ 41 min)", () => {
    expect(EARLIEST_K).toBeCloseTo(10.06, 1);
    expect(LATEST_K).toBeCloseTo(7.25, 1);
    const { earliest, latest } = iecEnvelope("C");
    expect(earliest.tripS(1.53) / 60).toBeGreaterThan(2.5);
    expect(earliest.tripS(1.53) / 60).toBeLessThan(3.5);
    expect(latest.tripS(1.53) / 60).toBeGreaterThan(38);
    expect(latest.tripS(1.53) / 60).toBeLessThan(44);
  });

  it("trips instantly in the magnetic band of its curve letter (tests d, e)", () => {
    expect(iecEnvelope("B").earliest.tripS(3)).toBeLessThan(0.1);
    expect(iecEnvelope("D").earliest.tripS(3)).toBeGreaterThan(iecEnvelope("B").earliest.tripS(3));
    expect(iecEnvelope("C").latest.tripS(10)).toBeLessThanOrEqual(0.1);
  });

  it("reads a per-model table log–log and never trips below its first point", () => {
    const c = tableCurve([[1.1, 7200], [1.5, 600], [2.55, 20]]);
    expect(c.tripS(1.05)).toBe(Infinity);
    expect(c.tripS(1.5)).toBeCloseTo(600);
    expect(c.tripS(1.3)).toBeGreaterThan(600);
    expect(c.tripS(1.3)).toBeLessThan(7200);
  });
});

describe("predicted-trip rule (domain.md §8 row 6)", () => {
  it("opens major with the time to trip and its range, then escalates the same alert to critical as it shortens", () => {
    const h = new Harness(defaultRules(), undefined, scenarioCampus());
    // 24.5 A on a C16 (1.53 In, domain.md §3.1 example: 2 heaters + a kettle), every 5 s.
    for (let t = 0; t <= 200; t += 5) h.current("d1-101", s(t), 24.5);
    const changes = h.alertChanges("predicted-trip");
    expect(changes[0]).toMatchObject({ change: "opened", alert: { severity: "major", threshold: 600 } });
    const opened = changes[0]!.alert;
    expect(opened.ttt_s).toBeLessThanOrEqual(600);
    expect(opened.ttt_max_s).toBeGreaterThan(opened.ttt_s!);
    expect(opened.message).toMatch(/estimated time to trip .* \(range .*IEC 60898-1 envelope, curve C/);
    const escalated = changes.find((c) => c.change === "escalated");
    expect(escalated).toMatchObject({ alert: { id: opened.id, severity: "critical", threshold: 120 } });
    expect(escalated!.alert.value).toBeLessThanOrEqual(120);
    expect(h.open("predicted-trip")).toHaveLength(1);
  });

  it("cools down below pickup and resolves once the damage is below 0.3 and the load below 1.05 In", () => {
    const h = new Harness(defaultRules(), undefined, scenarioCampus());
    for (let t = 0; t <= 120; t += 5) h.current("d1-101", s(t), 24.5);
    expect(h.open("predicted-trip")).toHaveLength(1);
    for (let t = 125; t <= 1000; t += 5) h.current("d1-101", s(t), 4);
    const resolved = h.alertChanges("predicted-trip").find((c) => c.change === "resolved");
    expect(resolved).toBeDefined();
    expect(resolved!.at).toBeGreaterThan(s(200));
  });

  it("uses the breaker's per-model curve table when it names one", () => {
    const h = new Harness(defaultRules(), undefined, scenarioCampus());
    for (let t = 0; t <= 60; t += 5) h.current("d1-102", s(t), 24);
    const alert = h.open("predicted-trip")[0];
    expect(alert?.message).toContain("curve table acme-b16");
  });

  it("stays quiet at 1.1 In for a minute", () => {
    const h = new Harness(defaultRules(), undefined, scenarioCampus());
    for (let t = 0; t <= 60; t += 5) h.current("d1-101", s(t), 17.6);
    expect(h.open("predicted-trip")).toEqual([]);
  });
});
