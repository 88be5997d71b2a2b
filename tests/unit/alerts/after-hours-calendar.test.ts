// `after-hours` judged against the school calendar (CONTRACT §11): a classroom block left on over the
// National Day holiday is after hours all day; a make-up Saturday keeps a weekday's hours; each school of a
// district by its own calendar. On the pure engine, in event time.
import { describe, expect, it } from "vitest";
import { defaultRules } from "../../../alerts/rules/index.js";
import { type Campus, parseCampusText } from "../../../domain/campus.js";
import { parseConfigText } from "../../../domain/district/parse.js";
import { Harness } from "./harness.js";

const CALENDAR = `calendar:
  terms: [ { name: autumn, from: 2026-09-01, to: 2027-01-22 } ]
  holidays: [ { from: 2026-10-01, to: 2026-10-07 } ]
  workdays: [ 2026-09-20, 2026-10-10 ]
`;

const school = (id: string, calendar: string) => `
site: { id: ${id}, name: School ${id}, timezone: Asia/Shanghai }
buildings: [ { id: ${id}-teach, name: Teaching, kind: classroom } ]
devices:
  - { id: ${id}-main, kind: meter, building: ${id}-teach, phases: 3, report_interval_s: 60 }
alerts: { rules: { after-hours: { baseline_w: 200 } } }
${calendar}`;

function campusOf(text: string): Campus {
  const result = parseCampusText(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}

const local = (iso: string) => Date.parse(`${iso}+08:00`);

/** A classroom feeder drawing 1500 W (baseline 200 W) for 35 min from a local time: is after-hours open? */
function leftOnFor35Min(campus: Campus, device: string, fromLocal: string): boolean {
  const h = new Harness(defaultRules(), undefined, campus);
  const from = local(fromLocal);
  for (let t = from; t <= from + 35 * 60_000; t += 60_000) h.reading({ device, ts: t, values: { power_w: 1500 } });
  return h.open("after-hours").some((a) => a.device === device);
}

describe("after-hours and the school calendar", () => {
  const withCalendar = campusOf(school("a", CALENDAR));
  const without = campusOf(school("a", ""));

  it("finds a classroom block left on over the National Day holiday, in the middle of a weekday", () => {
    expect(leftOnFor35Min(withCalendar, "a-main", "2026-10-01T10:00:00")).toBe(true); // Thursday, a holiday
    expect(leftOnFor35Min(withCalendar, "a-main", "2026-10-07T14:00:00")).toBe(true); // Wednesday, last day of it
    expect(leftOnFor35Min(without, "a-main", "2026-10-01T10:00:00")).toBe(false); // no calendar: a Thursday is a Thursday
  });

  it("leaves a school day's lessons alone and keeps a make-up Saturday's", () => {
    expect(leftOnFor35Min(withCalendar, "a-main", "2026-10-08T10:00:00")).toBe(false); // Thursday after the holiday
    expect(leftOnFor35Min(withCalendar, "a-main", "2026-10-10T10:00:00")).toBe(false); // make-up Saturday
    expect(leftOnFor35Min(without, "a-main", "2026-10-10T10:00:00")).toBe(true); // an ordinary Saturday
  });

  it("finds one left on in the vacation, outside every term", () => {
    expect(leftOnFor35Min(withCalendar, "a-main", "2027-02-03T10:00:00")).toBe(true); // a Wednesday of the winter vacation
  });

  it("judges each school of a district by its own calendar, not the first school's", () => {
    const files: Record<string, string> = { "a.yaml": school("a", ""), "b.yaml": school("b", CALENDAR) };
    const result = parseConfigText("district: { id: d, name: D }\nsites: [ a.yaml, b.yaml ]\n", "district.yaml", (path) => ({ ok: true, text: files[path]! }));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(leftOnFor35Min(result.campus, "b-main", "2026-10-01T10:00:00")).toBe(true);
    expect(leftOnFor35Min(result.campus, "a-main", "2026-10-01T10:00:00")).toBe(false);
  });
});
