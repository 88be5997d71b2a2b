// The dormitory power rule's switches in the campus file (CONTRACT §10): `alerts.building_kinds.<kind>.actions`,
// opt-in for malignant-load and power-limit; refused for fire-related rules (GB 50116 §9.1.6) and for the rest.
import { describe, expect, it } from "vitest";
import { parseCampusText } from "../../../domain/campus.js";

const campus = (actions: string) => parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", rating_a: 16 }
alerts:
  building_kinds:
    dormitory:
      actions: ${actions}
`);
const problemsOf = (actions: string) => {
  const result = campus(actions);
  return result.ok ? [] : result.problems;
};
const AT = "alerts.building_kinds.dormitory.actions";

describe("switching actions per building kind", () => {
  it("accepts malignant-load and power-limit, with restore_after in ms and 3 restores a day unless told", () => {
    const result = campus("{ malignant-load: { switch_off: true, restore_after: 5m, max_restores_per_day: 2 }, power-limit: { switch_off: true } }");
    if (!result.ok) return expect.unreachable(JSON.stringify(result.problems));
    expect(result.campus.alerts.buildingKinds.dormitory!.actions).toEqual({
      "malignant-load": { restoreAfterMs: 300_000, maxRestoresPerDay: 2 },
      "power-limit": { restoreAfterMs: null, maxRestoresPerDay: 3 },
    });
  });

  it("keeps no action for switch_off: false", () => {
    const result = campus("{ malignant-load: { switch_off: false, restore_after: 5m } }");
    expect(result.ok && result.campus.alerts.buildingKinds.dormitory!.actions).toEqual({});
  });

  it("refuses an action for every fire-related rule, whatever it says", () => {
    const problems = problemsOf("{ leakage: { switch_off: true }, overtemperature: { switch_off: true }, arc-fault: { switch_off: false }, device-trip: { switch_off: true, restore_after: 1m } }");
    const message = "a fire-related alarm never switches anything: it calls people (GB 50116 §9.1.6); remove this action";
    expect(problems).toEqual(["leakage", "overtemperature", "arc-fault", "device-trip"].map((rule) => ({ path: `${AT}.${rule}`, message })));
  });

  it("refuses an action for another rule and for an unknown one", () => {
    expect(problemsOf("{ overload: { switch_off: true }, heater: { switch_off: true } }")).toEqual([
      { path: `${AT}.overload`, message: "only malignant-load and power-limit may switch a room's circuit off (CONTRACT §10)" },
      { path: `${AT}.heater`, message: expect.stringMatching(/^unknown rule \(one of overload, /) },
    ]);
  });

  it("says what a bad restore_after or max_restores_per_day is", () => {
    expect(problemsOf("{ malignant-load: { switch_off: true, restore_after: 5 minutes, max_restores_per_day: -1 }, power-limit: { switch_off: true, restore_after: 2d } }")).toEqual([
      { path: `${AT}.malignant-load.max_restores_per_day`, message: "expected integer to be greater or equal to 0" },
      { path: `${AT}.malignant-load.restore_after`, message: 'must be a duration such as 5m or 30s (got "5 minutes")' },
      { path: `${AT}.power-limit.restore_after`, message: "must be at most 1d: leave it out to keep the room off until an operator switches it on" },
    ]);
    expect(problemsOf("{ malignant-load: { switch_off: true, restore_after: 300 } }")).toEqual([{ path: `${AT}.malignant-load.restore_after`, message: "expected string" }]);
    expect(problemsOf('{ malignant-load: { switch_off: true, restore_after: "300" } }')).toEqual([{ path: `${AT}.malignant-load.restore_after`, message: 'must be a duration such as 5m or 30s (got "300")' }]);
  });
});
