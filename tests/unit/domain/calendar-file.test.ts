// The campus file's `calendar:` block (CONTRACT §11): each bad input listed with its path (nothing
// starts), a good block read into the site's calendar, each school of a district with its own.
import { describe, expect, it } from "vitest";
import { parseCampusText } from "../../../domain/campus.js";
import { parseConfigText, type ReadSiteFile } from "../../../domain/district/parse.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campusWith = (calendar: string, id = "s") => `
site: { id: ${id}, name: School ${id}, timezone: Asia/Shanghai }
buildings: [ { id: b-${id}, name: B, kind: classroom } ]
devices: []
${calendar}`;

const AUTUMN = "{ name: autumn, from: 2026-09-01, to: 2027-01-22 }";

/** The problems of a campus file with this calendar block, as "path: message". */
function problemsOf(calendar: string): string[] {
  const result = parseCampusText(campusWith(calendar));
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("a calendar's bad input", () => {
  it("refuses a term ending before it starts", () => {
    expect(problemsOf(`calendar: { terms: [ { name: autumn, from: 2026-09-01, to: 2026-08-31 } ] }`)).toEqual([
      "calendar.terms[0].to: the term ends (2026-08-31) before it starts (2026-09-01)",
    ]);
  });

  it("refuses overlapping terms, naming both", () => {
    expect(problemsOf(`calendar: { terms: [ ${AUTUMN}, { name: spring, from: 2027-01-22, to: 2027-07-09 } ] }`)).toEqual([
      'calendar.terms[1]: term "spring" (2027-01-22 to 2027-07-09) overlaps terms[0] "autumn" (2026-09-01 to 2027-01-22)',
    ]);
    // Terms that meet end to start do not overlap: the spring term may start the day after.
    expect(problemsOf(`calendar: { terms: [ ${AUTUMN}, { name: spring, from: 2027-01-23, to: 2027-07-09 } ] }`)).toEqual([]);
  });

  it("refuses a holiday, term or workday outside the years 2000–2099", () => {
    expect(problemsOf(`calendar: { terms: [ { name: typo, from: 1999-09-01, to: 2027-01-22 } ], holidays: [ 2126-10-01, { from: 2026-10-01, to: 2100-10-07 } ], workdays: [ 2206-10-10 ] }`)).toEqual([
      "calendar.terms[0].from: 1999-09-01 is outside the years 2000–2099 a calendar may name",
      "calendar.holidays[0]: 2126-10-01 is outside the years 2000–2099 a calendar may name",
      "calendar.holidays[1].to: 2100-10-07 is outside the years 2000–2099 a calendar may name",
      "calendar.workdays[0]: 2206-10-10 is outside the years 2000–2099 a calendar may name",
    ]);
  });

  it("refuses a make-up workday that is not a Saturday or Sunday, or that is also a holiday", () => {
    expect(problemsOf(`calendar: { terms: [ ${AUTUMN} ], holidays: [ { from: 2026-10-01, to: 2026-10-07 } ], workdays: [ 2026-09-21, 2026-10-04, 2026-10-10 ] }`)).toEqual([
      "calendar.workdays[0]: 2026-09-21 is a Monday: a make-up workday (调休) must be a Saturday or Sunday",
      "calendar.workdays[1]: 2026-10-04 is also a holiday (holidays[0]): a day is one or the other",
    ]);
  });

  it("refuses a date that does not exist, and one not written YYYY-MM-DD", () => {
    expect(problemsOf(`calendar: { terms: [ ${AUTUMN} ], holidays: [ 2026-02-30, 2027-2-1, { from: 2026-10-01 } ], workdays: [ "10 October" ] }`)).toEqual([
      'calendar.holidays[1]: must be a date "YYYY-MM-DD" or a range {from: DATE, to: DATE} (got "2027-2-1")',
      'calendar.holidays[2]: must be a date "YYYY-MM-DD" or a range {from: DATE, to: DATE} (got {"from":"2026-10-01"})',
      'calendar.workdays[0]: must be a date "YYYY-MM-DD" (got "10 October")',
      "calendar.holidays[0]: 2026-02-30 is not a date of the calendar",
    ]);
  });

  it("refuses a holiday range whose to is before its from", () => {
    expect(problemsOf(`calendar: { terms: [ ${AUTUMN} ], holidays: [ { from: 2026-10-07, to: 2026-10-01 } ] }`)).toEqual([
      "calendar.holidays[0].to: the holiday ends (2026-10-01) before it starts (2026-10-07)",
    ]);
  });

  it("refuses a calendar without terms, and unknown keys", () => {
    expect(problemsOf(`calendar: { terms: [], vacations: [] }`)).toEqual(["calendar.vacations: unknown key", "calendar.terms: expected array length to be greater or equal to 1"]);
  });

  it("lists every problem of one block at once", () => {
    const problems = problemsOf(`calendar: { terms: [ { name: a, from: 2026-09-01, to: 2026-08-01 }, ${AUTUMN}, { name: b, from: 2026-12-01, to: 2027-02-01 } ], holidays: [ 2026-02-30, 1900-01-01 ], workdays: [ 2026-09-22 ] }`);
    expect(problems.map((p) => p.slice(0, p.indexOf(":")))).toEqual(["calendar.terms[0].to", "calendar.terms[2]", "calendar.holidays[0]", "calendar.holidays[1]", "calendar.workdays[0]"]);
  });
});

describe("a calendar read", () => {
  it("gives a site without a calendar none: every Monday–Friday stays a school day", () => {
    const result = parseCampusText(campusWith(""));
    expect(result.ok && result.campus.calendar).toBeNull();
  });

  it("gives each school of a district its own calendar", () => {
    const files: Record<string, string> = {
      "a.yaml": campusWith(`calendar: { terms: [ ${AUTUMN} ], holidays: [ 2026-09-25 ] }`, "a"),
      "b.yaml": campusWith("", "b"),
    };
    const read: ReadSiteFile = (path) => (path in files ? { ok: true, text: files[path]! } : { ok: false, message: "no such file" });
    const result = parseConfigText("district: { id: d, name: D }\nsites: [ a.yaml, b.yaml ]\n", "district.yaml", read);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.campus.siteOfBuilding.get("b-a")!.calendar).toEqual({ terms: [{ name: "autumn", from: "2026-09-01", to: "2027-01-22" }], holidays: [{ from: "2026-09-25", to: "2026-09-25" }], workdays: [] });
    expect(result.campus.siteOfBuilding.get("b-b")!.calendar).toBeNull();
  });

  it("gives every school of the demo district the school year 2026–27", () => {
    const district = loadCampus("config/demo-district.yaml");
    expect(district.sites.map((s) => [s.site.id, s.calendar?.terms.at(0)?.from, s.calendar?.terms.at(-1)?.to])).toEqual([
      ["xinwu-exp", "2026-09-01", "2027-07-09"],
      ["meicun-primary", "2026-09-01", "2027-07-09"],
      ["sunflower-kindergarten", "2026-09-01", "2027-07-09"],
    ]);
  });
});
