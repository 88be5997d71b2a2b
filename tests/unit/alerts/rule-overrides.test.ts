// The campus file's rule overrides against each rule's parameter schema (alerts/rule-overrides.ts):
// one test per kind of bad override, each naming the place in the file, the rule and the parameter.
// Wrong types and unknown names are refused earlier by the campus file's own check (domain/), so those
// campuses are built from a valid one with the override swapped in, as a file read another way would be.
import { describe, expect, it } from "vitest";
import { createRuleBook, resolveParams } from "../../../alerts/rule-book.js";
import { checkRuleOverrides } from "../../../alerts/rule-overrides.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { offlineRule } from "../../../alerts/rules/offline.js";
import { overloadRule } from "../../../alerts/rules/overload.js";
import type { Campus } from "../../../domain/campus.js";
import type { RuleOverrides } from "../../../domain/campus-alerts.js";
import { CampusError } from "../../../domain/errors.js";
import { testCampus } from "./harness.js";
import { scenarioCampus } from "./scenario-campus.js";

const campusWith = (rules: RuleOverrides, campus: Campus = scenarioCampus()): Campus => ({ ...campus, alerts: { ...campus.alerts, rules } });
const problemsOf = (rules: RuleOverrides) => checkRuleOverrides(campusWith(rules));

describe("rule overrides of the campus file", () => {
  it("accepts the scenario campus's overrides and resolves them over the schema's defaults, typed", () => {
    const campus = scenarioCampus();
    expect(checkRuleOverrides(campus)).toEqual([]);
    const device = campus.deviceById.get("d1-103")!;
    const powerLimit = defaultRules().find((r) => r.id === "power-limit")!;
    expect(resolveParams(campus, device, powerLimit)).toEqual({ limit_w: 600, hold_s: 10, clear_ratio: 0.9, clear_hold_s: 60, severity: "warning", max_gap_intervals: 3 });
    expect(resolveParams(campus, device, overloadRule)).toBeNull(); // disabled on this device
  });

  it("refuses a value of the wrong type", () => {
    expect(problemsOf({ overload: { pickup_ratio: "high" } })).toEqual([{ path: "alerts.rules.overload.pickup_ratio", message: 'must be a number > 0 (got "high")' }]);
  });

  it("refuses a number outside its range", () => {
    expect(problemsOf({ overload: { pickup_ratio: 0 }, "malignant-load": { incremental_pf: 1.5 }, "after-hours": { night_to_h: 25 } })).toEqual([
      { path: "alerts.rules.overload.pickup_ratio", message: "must be a number > 0 (got 0)" },
      { path: "alerts.rules.malignant-load.incremental_pf", message: "must be a number from 0 to 1 (got 1.5)" },
      { path: "alerts.rules.after-hours.night_to_h", message: "must be a whole number from 0 to 24 (got 25)" },
    ]);
  });

  it("refuses a fractional count", () => {
    expect(problemsOf({ leakage: { feeder_alarm_samples: 1.5 } })).toEqual([{ path: "alerts.rules.leakage.feeder_alarm_samples", message: "must be a whole number ≥ 1 (got 1.5)" }]);
  });

  it("refuses a severity that is not one of the contract's", () => {
    expect(problemsOf({ "phase-loss": { severity: "urgent" } })).toEqual([
      { path: "alerts.rules.phase-loss.severity", message: 'must be one of critical, major, minor, warning, info (got "urgent")' },
    ]);
  });

  it("refuses a parameter the rule does not have, listing those it has", () => {
    expect(problemsOf({ offline: { silent_minutes: 5 } })).toEqual([
      { path: "alerts.rules.offline.silent_minutes", message: "unknown parameter of offline (one of disabled, silent_intervals, severity, detector_severity)" },
    ]);
  });

  it("refuses a disabled flag that is not true or false", () => {
    expect(problemsOf({ offline: { disabled: "yes" } })).toEqual([{ path: "alerts.rules.offline.disabled", message: 'must be true or false (got "yes")' }]);
  });

  it("refuses a rule the service does not run", () => {
    const problems = checkRuleOverrides(campusWith({ overload: { hold_s: 30 } }, testCampus()), [offlineRule]);
    expect(problems).toEqual([{ path: "alerts.rules.overload", message: "unknown rule (one of offline)" }]);
  });

  it("names the building kind or the device the bad override is written under", () => {
    const campus = scenarioCampus();
    const devices = campus.devices.map((d) => (d.id === "d1-103" ? { ...d, alerts: { "power-limit": { limit_w: -5 } } } : d));
    const buildingKinds = { ...campus.alerts.buildingKinds, dormitory: { rules: { overload: { pickup_ratio: "x" } } } };
    const problems = checkRuleOverrides({ ...campus, devices, alerts: { ...campus.alerts, buildingKinds } });
    expect(problems).toEqual([
      { path: "alerts.building_kinds.dormitory.rules.overload.pickup_ratio", message: 'must be a number > 0 (got "x")' },
      { path: "devices[3].alerts.power-limit.limit_w", message: "must be a number > 0 (got -5)" },
    ]);
  });

  it("stops the rule book with a CampusError that lists every problem", () => {
    const campus = campusWith({ overload: { pickup_ratio: 0, hold_s: -1 }, offline: { severity: "loud" } });
    const thrown = (() => {
      try {
        createRuleBook(campus, defaultRules());
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(CampusError);
    expect(thrown instanceof CampusError && thrown.problems.map((p) => p.path)).toEqual(["alerts.rules.overload.pickup_ratio", "alerts.rules.overload.hold_s", "alerts.rules.offline.severity"]);
  });
});
