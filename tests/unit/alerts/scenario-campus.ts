// A campus for the rule and lifecycle tests: a dormitory with a 3-phase feeder (300 mA fire detector)
// and rooms, a classroom building with a schedule, a lab where phase loss is critical, a breaker model.
import { parseCampusText, type Campus } from "../../../domain/campus.js";

export const SCENARIO_YAML = `
site: { id: s, name: Test School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }
buildings:
  - { id: dorm-1, name: Dormitory 1, kind: dormitory }
  - { id: teach-1, name: Teaching 1, kind: classroom }
  - { id: lab-1, name: Lab 1, kind: lab }
devices:
  - { id: d1-main, kind: breaker, building: dorm-1, room: board, rating_a: 100, curve: C, phases: 3, rcd_ma: 300, report_interval_s: 10 }
  - { id: d1-101, kind: breaker, building: dorm-1, room: "101", parent: d1-main, rating_a: 16, curve: C, rcd_ma: 30, report_interval_s: 5 }
  - { id: d1-102, kind: breaker, building: dorm-1, room: "102", parent: d1-main, rating_a: 16, curve: B, report_interval_s: 5, breaker_model: acme-b16 }
  - { id: d1-103, kind: breaker, building: dorm-1, room: "103", parent: d1-main, rating_a: 16, curve: C, report_interval_s: 5,
      alerts: { power-limit: { limit_w: 600 }, overload: { disabled: true } } }
  - { id: t1-main, kind: meter, building: teach-1, phases: 3, report_interval_s: 10 }
  - { id: t1-light, kind: breaker, building: teach-1, parent: t1-main, rating_a: 16, curve: B, report_interval_s: 10 }
  - { id: l1-main, kind: breaker, building: lab-1, rating_a: 63, curve: C, phases: 3, report_interval_s: 10 }
alerts:
  rules:
    heavy-load: { hold_s: 600 }
  building_kinds:
    dormitory:
      rules: { power-limit: { limit_w: 1000 } }
    lab:
      rules: { phase-loss: { severity: critical } }
    classroom:
      occupied: [ { days: [mon, tue, wed, thu, fri], from: "07:30", to: "17:30" } ]
  allowed_appliances:
    - { name: water dispenser, min_w: 400, max_w: 600 }
  breaker_models:
    acme-b16: { earliest: [[1.1, 7200], [1.5, 600], [2.55, 20], [5, 0.05]] }
  silences:
    - { id: lab-works, scope: { buildings: [lab-1] }, starts_at: "2020-01-01T00:00:00Z", ends_at: "2099-01-01T00:00:00Z", reason: rewiring }
`;

export function scenarioCampus(yaml = SCENARIO_YAML): Campus {
  const result = parseCampusText(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}
