// Rule scenarios on the pure engine, in event time (domain.md §8 rows cited per test).
import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { RULE_IDS } from "../../../domain/alert.js";
import type { Reading } from "../../../domain/reading.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { Harness, s } from "./harness.js";
import { scenarioCampus } from "./scenario-campus.js";

const harness = () => new Harness(defaultRules(), undefined, scenarioCampus());
const feed = (h: Harness, device: string, fromS: number, toS: number, stepS: number, values: Reading["values"], phases?: Reading["phases"]) => {
  for (let t = fromS; t <= toS; t += stepS) h.reading({ device, ts: s(t), values, ...(phases ? { phases } : {}) });
};
const phases = (l1: number, l2: number, l3: number) => ({ L1: { voltage_v: l1 }, L2: { voltage_v: l2 }, L3: { voltage_v: l3 } });

describe("rule parameters", () => {
  it("has a rule for every rule id of CONTRACT §5, and no other", () => {
    expect(defaultRules().map((rule) => rule.id).sort()).toEqual([...RULE_IDS].sort());
  });

  it("gives every rule's parameters the defaults of reference/domain.md §8", () => {
    const defaults = Object.fromEntries(defaultRules().map((rule) => [rule.id, Value.Default(rule.params, {})]));
    expect(defaults).toEqual({
      overload: { pickup_ratio: 1.0, hold_s: 60, clear_ratio: 0.9, clear_hold_s: 120, severity: "major", max_gap_intervals: 3 }, // row 5
      "heavy-load": { pickup_ratio: 0.8, hold_s: 900, clear_ratio: 0.75, clear_hold_s: 300, severity: "warning", max_gap_intervals: 3 }, // row 4
      "predicted-trip": { pickup_ratio: 1.05, cool_s: 600, major_ttt_s: 600, critical_ttt_s: 120, major_damage: 0.5, critical_damage: 0.8, clear_damage: 0.3, clear_ratio: 1.05, max_step_s: 0 }, // row 6
      "power-limit": { limit_w: 1000, hold_s: 10, clear_ratio: 0.9, clear_hold_s: 60, severity: "warning", max_gap_intervals: 3 }, // row 7
      "malignant-load": { step_w: 300, incremental_pf: 0.95, hold_s: 10, clear_margin_w: 50, clear_hold_s: 60, severity: "warning", repeat_severity: "major", repeats_per_day: 3 }, // row 8
      leakage: {
        warning_ratio: 0.5, warning_hold_s: 60, major_ratio: 0.8, major_hold_s: 10, clear_ratio: 0.33, clear_hold_s: 600, // rows 9, 10
        feeder_rcd_ma: 300, feeder_alarm_ma: 300, feeder_alarm_samples: 2, feeder_prewarn_ma: 200, feeder_prewarn_hold_s: 300, feeder_clear_ma: 250, feeder_clear_hold_s: 600, // row 11
      },
      overtemperature: { warning_c: 65, major_c: 75, critical_c: 85, hold_s: 60, clear_delta_c: 5, clear_hold_s: 300 }, // row 12
      overvoltage: { warning_ratio: 1.07, warning_hold_s: 300, warning_severity: "info", major_ratio: 1.15, major_hold_s: 60, critical_ratio: 1.2, critical_hold_s: 5, clear_ratio: 1.059, clear_hold_s: 300 }, // rows 14, 15
      undervoltage: { warning_ratio: 0.9, warning_hold_s: 300, major_ratio: 0.85, major_hold_s: 60, clear_ratio: 0.918, clear_hold_s: 300, ignore_below_ratio: 0.5 }, // row 16
      "phase-loss": { lost_ratio: 0.5, healthy_v_ratio: 0.818, hold_s: 5, clear_ratio: 0.9, clear_hold_s: 60, severity: "major" }, // row 17
      offline: { silent_intervals: 3, severity: "warning", detector_severity: "major" }, // row 22
      "device-trip": { severity: "major", short_circuit_severity: "critical", repeat_severity: "critical", repeats_per_day: 3 }, // rows 1, 3
      "arc-fault": { severity: "critical" }, // row 2
      "after-hours": { baseline_margin: 0.2, min_w: 50, baseline_w: 0, hold_s: 1800, clear_hold_s: 900, severity: "info", night_from_h: 2, night_to_h: 4 }, // row 24
    });
  });

  it("applies device overrides over building-kind overrides over the defaults, and disables per device", () => {
    const h = harness();
    feed(h, "d1-103", 0, 20, 5, { power_w: 700, current_a: 20 }); // limit 600 W on this device; overload disabled
    expect(h.open("power-limit")).toHaveLength(1);
    feed(h, "d1-103", 25, 200, 5, { power_w: 700, current_a: 20 });
    expect(h.open("overload")).toEqual([]);
    feed(h, "d1-101", 0, 20, 5, { power_w: 900 }); // building kind limit 1000 W
    expect(h.open("power-limit").map((a) => a.device)).toEqual(["d1-103"]);
  });
});

describe("dormitory rules (rows 7, 8)", () => {
  it("raises power-limit after 10 s above the room limit and clears below 90 % for 60 s", () => {
    const h = harness();
    feed(h, "d1-101", 0, 5, 5, { power_w: 1200 });
    expect(h.open("power-limit")).toEqual([]);
    feed(h, "d1-101", 10, 10, 5, { power_w: 1200 });
    expect(h.open("power-limit")[0]).toMatchObject({ severity: "warning", value: 1200, threshold: 1000 });
    feed(h, "d1-101", 15, 100, 5, { power_w: 950 }); // hysteresis band: stays
    expect(h.open("power-limit")).toHaveLength(1);
    feed(h, "d1-101", 105, 170, 5, { power_w: 500 });
    expect(h.open("power-limit")).toEqual([]);
  });

  it("flags a resistive step (incremental PF ≥ 0.95) held 10 s as malignant-load, not an inductive one nor an allowed appliance", () => {
    const h = harness();
    feed(h, "d1-101", 0, 20, 5, { power_w: 100, power_factor: 0.6 });
    feed(h, "d1-101", 25, 40, 5, { power_w: 900, power_factor: 0.95 }); // +800 W nearly resistive
    const alert = h.open("malignant-load")[0];
    expect(alert).toMatchObject({ severity: "warning", threshold: 300 });
    expect(alert!.message).toContain("resistive load of 800 W");
    feed(h, "d1-101", 45, 120, 5, { power_w: 120, power_factor: 0.6 });
    expect(h.open("malignant-load")).toEqual([]);

    const inductive = harness();
    feed(inductive, "d1-101", 0, 20, 5, { power_w: 100, power_factor: 0.95 });
    feed(inductive, "d1-101", 25, 60, 5, { power_w: 500, power_factor: 0.6 });
    expect(inductive.open("malignant-load")).toEqual([]);

    const dispenser = harness();
    feed(dispenser, "d1-101", 0, 20, 5, { power_w: 50, power_factor: 1 });
    feed(dispenser, "d1-101", 25, 60, 5, { power_w: 550, power_factor: 1 }); // 500 W: the allowed water dispenser band
    expect(dispenser.open("malignant-load")).toEqual([]);
  });
});

describe("fire-related rules (rows 9–12)", () => {
  it("stages final-circuit leakage warning → major on one alert and clears after 10 min below 0.33 IΔn", () => {
    const h = harness();
    feed(h, "d1-101", 0, 60, 5, { leakage_ma: 16 });
    expect(h.open("leakage")[0]).toMatchObject({ severity: "warning", threshold: 15 });
    feed(h, "d1-101", 65, 80, 5, { leakage_ma: 26 });
    expect(h.open("leakage")[0]).toMatchObject({ severity: "major", threshold: 24 });
    expect(h.alertChanges("leakage").map((c) => c.change)).toEqual(expect.arrayContaining(["opened", "escalated"]));
    feed(h, "d1-101", 85, 700, 5, { leakage_ma: 5 });
    expect(h.open("leakage")).toEqual([]);
  });

  it("latches the feeder's residual-current fire alarm at ≥ 300 mA in 2 samples until acknowledged and cleared", () => {
    const h = harness();
    feed(h, "d1-main", 0, 0, 10, { leakage_ma: 320 });
    expect(h.open("leakage")).toEqual([]);
    feed(h, "d1-main", 10, 10, 10, { leakage_ma: 320 });
    const alert = h.open("leakage")[0]!;
    expect(alert).toMatchObject({ severity: "critical", latched: true });
    feed(h, "d1-main", 20, 700, 10, { leakage_ma: 120 }); // cleared for > 10 min
    expect(h.open("leakage")).toHaveLength(1);
    h.feed({ kind: "ack", request: { alert_id: alert.id, by: "op", request_id: "r1" } });
    expect(h.open("leakage")).toEqual([]);
  });

  it("stages overtemperature and latches at 85 °C", () => {
    const h = harness();
    feed(h, "d1-101", 0, 60, 5, { temperature_c: 70 });
    expect(h.open("overtemperature")[0]).toMatchObject({ severity: "warning" });
    feed(h, "d1-101", 65, 65, 5, { temperature_c: 86 });
    expect(h.open("overtemperature")[0]).toMatchObject({ severity: "critical", latched: true });
    feed(h, "d1-101", 70, 800, 5, { temperature_c: 30 });
    expect(h.open("overtemperature")).toHaveLength(1);
  });
});

describe("voltage rules (rows 14–17)", () => {
  it("raises overvoltage at 253 V after 60 s on the worst phase and undervoltage below 198 V after 5 min", () => {
    const h = harness();
    feed(h, "l1-main", 0, 60, 10, {}, phases(230, 255, 230));
    expect(h.open("overvoltage")[0]).toMatchObject({ severity: "major", value: 255 });
    const u = harness();
    feed(u, "d1-101", 0, 300, 5, { voltage_v: 195 });
    expect(u.open("undervoltage")[0]).toMatchObject({ severity: "warning", value: 195 });
  });

  it("raises phase-loss on a 3-phase device after 5 s, critical where the building kind says so", () => {
    const h = harness();
    feed(h, "l1-main", 0, 10, 10, {}, phases(60, 221, 219));
    expect(h.open("phase-loss")[0]).toMatchObject({ severity: "critical", value: 60, threshold: 110 });
    expect(h.open("undervoltage")).toEqual([]); // a lost phase is not an undervoltage
    feed(h, "l1-main", 20, 90, 10, {}, phases(220, 221, 219));
    expect(h.open("phase-loss")).toEqual([]);
  });
});

describe("device events (rows 1–3)", () => {
  it("latches device-trip until acknowledged and the breaker is closed again; short circuit is critical", () => {
    const h = harness();
    h.feed({ kind: "event", event: { device: "d1-101", ts: s(0), type: "trip", reason: "short_circuit" } });
    const alert = h.open("device-trip")[0]!;
    expect(alert).toMatchObject({ severity: "critical", latched: true });
    h.feed({ kind: "ack", request: { alert_id: alert.id, by: "op", request_id: "r1" } });
    expect(h.open("device-trip")[0]?.state).toBe("acknowledged"); // still open: breaker not closed yet
    feed(h, "d1-101", 60, 60, 5, { switch_on: true, current_a: 2 });
    expect(h.open("device-trip")).toEqual([]);
  });

  it("raises arc-fault at once and resolves it on acknowledgement", () => {
    const h = harness();
    h.feed({ kind: "event", event: { device: "d1-102", ts: s(0), type: "arc" } });
    const alert = h.open("arc-fault")[0]!;
    expect(alert).toMatchObject({ severity: "critical", latched: true });
    h.feed({ kind: "ack", request: { alert_id: alert.id, by: "op", request_id: "r1" } });
    expect(h.open("arc-fault")).toEqual([]);
  });
});

describe("after-hours (row 24)", () => {
  it("learns the night baseline and raises after 30 min above it outside the schedule; clears when the schedule resumes", () => {
    const h = harness();
    // 2026-11-29 is a Sunday; Asia/Shanghai = UTC+8. Night 02:00–04:00 local = 18:00–20:00 UTC the day before.
    const at = (iso: string) => Date.parse(iso);
    for (let t = at("2026-11-29T18:00:00Z"); t < at("2026-11-29T20:00:00Z"); t += 60_000) h.reading({ device: "t1-main", ts: t, values: { power_w: 200 } });
    // Monday 2026-11-30 20:00 local (12:00 UTC), after the 17:30 schedule end: 1500 W for 35 min.
    for (let t = at("2026-11-30T12:00:00Z"); t <= at("2026-11-30T12:35:00Z"); t += 60_000) h.reading({ device: "t1-main", ts: t, values: { power_w: 1500 } });
    expect(h.open("after-hours")[0]).toMatchObject({ severity: "info", threshold: 240 });
    // Tuesday 07:30 local: occupied again.
    h.reading({ device: "t1-main", ts: at("2026-11-30T23:30:00Z"), values: { power_w: 1500 } });
    expect(h.open("after-hours")).toEqual([]);
  });
});
