// The campus file's rule overrides against each rule's parameter schema (domain/rule-params.ts): one
// test per kind of bad override, each naming the place in the file, the rule and the parameter, and
// the same problems listed by the campus file's own check beside its other problems.
import { describe, expect, it } from "vitest";
import { createRuleBook, resolveParams } from "../../../alerts/rule-book.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { overloadRule } from "../../../alerts/rules/overload.js";
import { parseCampusText } from "../../../domain/campus.js";
import { checkRuleOverrides } from "../../../domain/rule-params.js";
import { scenarioCampus } from "../alerts/scenario-campus.js";

const problemsOf = (overrides: Record<string, unknown>) => checkRuleOverrides(overrides, "alerts.rules");

describe("rule overrides of the campus file", () => {
  it("accepts the scenario campus's overrides and resolves them over the schema's defaults, typed", () => {
    const campus = scenarioCampus();
    expect(problemsOf(campus.alerts.rules)).toEqual([]);
    const device = campus.deviceById.get("d1-103")!;
    const powerLimit = defaultRules().find((r) => r.id === "power-limit")!;
    expect(resolveParams(campus, device, powerLimit)).toEqual({ limit_w: 600, hold_s: 10, clear_ratio: 0.9, clear_hold_s: 60, severity: "warning", max_gap_intervals: 3 });
    expect(resolveParams(campus, device, overloadRule)).toBeNull(); // disabled on this device
    expect(() => createRuleBook(campus, defaultRules())).not.toThrow();
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

  it("refuses a disabled flag that is not true or false, and a rule the contract does not name", () => {
    expect(problemsOf({ offline: { disabled: "yes" }, overlaod: { hold_s: 1 } })).toEqual([
      { path: "alerts.rules.offline.disabled", message: 'must be true or false (got "yes")' },
      { path: "alerts.rules.overlaod", message: expect.stringMatching(/^unknown rule \(one of overload, /) },
    ]);
  });

  it("lists them with the campus file's other problems, under the building kind or the device they are written for", () => {
    const result = parseCampusText(`
site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: d1-101, kind: breaker, building: dorm-1, room: "101", parent: ghost, rating_a: 16, alerts: { power-limit: { limit_w: -5 } } }
alerts:
  building_kinds: { dormitory: { rules: { overload: { pickup_ratio: x } } } }
`);
    expect(result.ok ? [] : result.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "devices[0].parent" }),
        { path: "alerts.building_kinds.dormitory.rules.overload.pickup_ratio", message: 'must be a number > 0 (got "x")' },
        { path: "devices[0].alerts.power-limit.limit_w", message: "must be a number > 0 (got -5)" },
      ]),
    );
  });
});
