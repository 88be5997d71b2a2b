// A district of two schools for the alerts service's unit tests (CONTRACT §9): East in Shanghai at 220 V,
// listed first (so code reading the first site's settings for everyone is caught), West in Berlin at 230 V.
// East's `alerts:` section shortens overload's delay and has a maintenance window for overload; West's
// dormitories switch a malignant load off. Both have a lights-out at 23:00, each in its own zone.
import type { Campus } from "../../../domain/campus.js";
import { parseConfigText } from "../../../domain/district/parse.js";

const school = (id: string, name: string, zone: string, voltage: number, alerts: string) => `
site: { id: ${id}, name: ${name}, timezone: ${zone}, nominal_voltage_v: ${voltage} }
buildings:
  - { id: ${id}-teaching, name: Teaching, kind: classroom }
  - { id: ${id}-dorm, name: Dormitory, kind: dormitory }
devices:
  - { id: ${id}-feed, kind: breaker, building: ${id}-teaching, rating_a: 63, report_interval_s: 60 }
  - { id: ${id}-101, kind: breaker, building: ${id}-dorm, room: "101", rating_a: 16, report_interval_s: 5 }
schedules:
  - { id: ${id}-lights-out, name: Lights out, action: switch_off, at: "23:00", days: [sun, mon, tue, wed, thu, fri, sat], devices: [${id}-101] }
alerts:
${alerts}
`;

export const SCHOOLS: Record<string, string> = {
  "east.yaml": school("east", "East School", "Asia/Shanghai", 220, `  rules:
    overload: { hold_s: 10 }
    after-hours: { baseline_w: 100 }
  silences:
    - { id: east-rewiring, scope: { rules: [overload] }, ends_at: "2099-01-01T00:00:00Z", reason: rewiring }`),
  "west.yaml": school("west", "West School", "Europe/Berlin", 230, `  rules:
    after-hours: { baseline_w: 100 }
  building_kinds:
    dormitory: { actions: { malignant-load: { switch_off: true, restore_after: 5m } } }`),
};

export const DISTRICT_YAML = "district: { id: d, name: District }\nsites: [east.yaml, west.yaml]\n";

export function districtCampus(): Campus {
  const result = parseConfigText(DISTRICT_YAML, "district.yaml", (path) => (path in SCHOOLS ? { ok: true, text: SCHOOLS[path]! } : { ok: false, message: "no such file" }));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}
