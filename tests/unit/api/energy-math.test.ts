import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isAfterHours, meteringDevices, monthStart, schedulesByKey, summarise } from "../../../api/energy-math.js";
import { planSegments } from "../../../api/history-source.js";
import { paginate } from "../../../api/routes/alerts.js";
import type { Alert } from "../../../domain/alert.js";
import { parseCampusText } from "../../../domain/campus.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { isOccupied } from "../../../domain/occupancy.js";

const TZ = "Asia/Shanghai";
const at = (iso: string) => Date.parse(iso);
const campus = loadCampus("tests/fixtures/test-campus.yaml");

describe("energy grouping", () => {
  it("counts only each group's root devices, so a breaker and its sockets are not added twice", () => {
    expect(meteringDevices(campus, "building").map((d) => d.id)).toEqual(["feeder-d1", "brk-c1-main"]);
    expect(meteringDevices(campus, "room").map((d) => d.id)).toEqual(["brk-d1-101", "brk-d1-102"]);
    expect(meteringDevices(campus, "device")).toHaveLength(campus.devices.length);
  });

  it("tells school hours from after hours in the site's time zone", () => {
    expect(isAfterHours(at("2026-11-30T09:00:00+08:00"), TZ)).toBe(false); // Monday 09:00
    expect(isAfterHours(at("2026-11-30T18:00:00+08:00"), TZ)).toBe(true); // Monday 18:00–19:00
    expect(isAfterHours(at("2026-11-30T06:00:00+08:00"), TZ)).toBe(true);
    expect(isAfterHours(at("2026-11-29T10:00:00+08:00"), TZ)).toBe(true); // Sunday
  });

  it("starts months at local midnight of the 1st", () => {
    expect(monthStart(at("2026-11-01T03:00:00+08:00"), TZ)).toBe(at("2026-11-01T00:00:00+08:00"));
    expect(monthStart(at("2026-10-31T23:30:00+08:00"), TZ)).toBe(at("2026-10-01T00:00:00+08:00"));
  });

  it("sums hours into local days with the after-hours share", () => {
    const hours = [
      { key: "b", hourStartMs: at("2026-11-30T09:00:00+08:00"), kwh: 3 },
      { key: "b", hourStartMs: at("2026-11-30T22:00:00+08:00"), kwh: 1 },
      { key: "b", hourStartMs: at("2026-12-01T00:00:00+08:00"), kwh: 0.5 },
    ];
    expect(summarise(hours, "1d", TZ)).toEqual([
      { key: "b", points: [[at("2026-11-30T00:00:00+08:00"), 4], [at("2026-12-01T00:00:00+08:00"), 0.5]], total_kwh: 4.5, after_hours_kwh: 1.5, after_hours_share: 0.3333 },
    ]);
    expect(summarise(hours, "1mo", TZ)[0]!.points).toEqual([[at("2026-11-01T00:00:00+08:00"), 4], [at("2026-12-01T00:00:00+08:00"), 0.5]]);
  });

  it("judges each series by its building kind's schedule, the one the after-hours rule uses", () => {
    // Monday 19:00–20:00: after school hours, within a classroom's default 07:00–22:00.
    const hours = [
      { key: "dorm-1", hourStartMs: at("2026-11-30T19:00:00+08:00"), kwh: 2 },
      { key: "class-1", hourStartMs: at("2026-11-30T19:00:00+08:00"), kwh: 5 },
    ];
    const series = summarise(hours, "1d", TZ, schedulesByKey(campus, "building"));
    expect(series.map((s) => [s.key, s.after_hours_kwh])).toEqual([["class-1", 0], ["dorm-1", 2]]);
    // Rooms and devices take their building's schedule.
    expect(schedulesByKey(campus, "room")("dorm-1/101")).toBe(schedulesByKey(campus, "building")("dorm-1"));
    expect(schedulesByKey(campus, "device")("plug-c1-own")).toBe(schedulesByKey(campus, "building")("class-1"));
  });

  it("takes the campus file's occupied schedule for a kind, across midnight too", () => {
    const text = readFileSync("tests/fixtures/test-campus.yaml", "utf8");
    const evening = parseCampusText(`${text}\nalerts:\n  building_kinds:\n    dormitory:\n      occupied: [ { days: [mon], from: "18:00", to: "02:00" } ]\n`);
    expect(evening.ok).toBe(true);
    if (!evening.ok) return;
    const schedule = schedulesByKey(evening.campus, "building")("dorm-1");
    expect(isAfterHours(at("2026-11-30T19:00:00+08:00"), TZ, schedule)).toBe(false); // Monday evening
    expect(isAfterHours(at("2026-12-01T01:00:00+08:00"), TZ, schedule)).toBe(false); // the same night, past midnight
    expect(isAfterHours(at("2026-12-01T03:00:00+08:00"), TZ, schedule)).toBe(true);
    expect(isOccupied(schedule.periods, 2, 1 * 60 + 30)).toBe(true); // Tuesday 01:30 belongs to Monday's period
  });
});

describe("after-hours share and the school calendar (CONTRACT §11)", () => {
  const text = readFileSync("tests/fixtures/test-campus.yaml", "utf8");
  const calendar = "calendar:\n  terms: [ { name: autumn, from: 2026-09-01, to: 2027-01-22 } ]\n  holidays: [ { from: 2026-10-01, to: 2026-10-07 } ]\n  workdays: [ 2026-10-10 ]\n";
  const parsed = parseCampusText(`${text}\n${calendar}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const school = parsed.campus;
  /** kWh in every hour of a local day, for each building. */
  const dayOfHours = (date: string) =>
    ["class-1", "dorm-1"].flatMap((key) => Array.from({ length: 24 }, (_, hour) => ({ key, hourStartMs: at(`${date}T00:00:00+08:00`) + hour * 3_600_000, kwh: 1 })));
  const shares = (campus: typeof school, date: string) => summarise(dayOfHours(date), "1d", TZ, schedulesByKey(campus, "building")).map((s) => [s.key, s.after_hours_share]);

  it("counts the whole of a holiday after hours, for a classroom building and a kind on school hours alike", () => {
    expect(shares(school, "2026-10-01")).toEqual([["class-1", 1], ["dorm-1", 1]]); // National Day, a Thursday
    // The same Thursday without a calendar: classroom 07:00–22:00 and school hours 07:00–18:00 occupied.
    expect(shares(campus, "2026-10-01")).toEqual([["class-1", 0.375], ["dorm-1", 0.5417]]);
  });

  it("counts a make-up Saturday's hours as a school day's, and a school day's as before", () => {
    expect(shares(school, "2026-10-10")).toEqual([["class-1", 0.375], ["dorm-1", 0.5417]]);
    expect(shares(school, "2026-10-08")).toEqual(shares(campus, "2026-10-08"));
  });

  it("counts a vacation day after hours all day", () => {
    expect(shares(school, "2027-02-03")).toEqual([["class-1", 1], ["dorm-1", 1]]); // a Wednesday of the winter vacation
  });

  it("judges an hour of a building with a calendar by its site's calendar", () => {
    const classroom = schedulesByKey(school, "building")("class-1");
    expect(classroom.calendar).toBe(school.calendar);
    expect(isAfterHours(at("2026-10-01T10:00:00+08:00"), TZ, classroom)).toBe(true);
    expect(isAfterHours(at("2026-10-10T10:00:00+08:00"), TZ, classroom)).toBe(false);
  });
});

describe("history sources", () => {
  const now = at("2026-11-29T10:30:00Z");
  const day = 86_400_000;

  it("reads old hours from rollup_1h and the newest, not yet rolled up, from raw points", () => {
    const segments = planSegments({ fromMs: now - 30 * day, toMs: now }, 3_600_000, new Set(["rollup_1h", "rollup_1m"]), now);
    expect(segments).toEqual([
      { rp: "rollup_1h", fromMs: now - 30 * day, toMs: at("2026-11-29T09:00:00Z") },
      { rp: "raw", fromMs: at("2026-11-29T09:00:00Z"), toMs: now },
    ]);
  });

  it("falls back to raw points when the rollup does not exist or the bucket is shorter", () => {
    expect(planSegments({ fromMs: 0, toMs: now }, 3_600_000, new Set(), now).map((s) => s.rp)).toEqual(["raw"]);
    expect(planSegments({ fromMs: 0, toMs: now }, 15_000, new Set(["rollup_1m"]), now).map((s) => s.rp)).toEqual(["raw"]);
    expect(planSegments({ fromMs: now - 60_000, toMs: now }, 60_000, new Set(["rollup_1m"]), now).map((s) => s.rp)).toEqual(["raw"]);
  });
});

describe("alert pages", () => {
  const alert = (id: string, minute: number): Alert => ({ id, rule: "r", device: "d", building: "b", site: "s", severity: "info", state: "resolved", value: 0, threshold: 0, message: "", started_at: new Date(minute * 60_000).toISOString(), updated_at: new Date(minute * 60_000).toISOString() });

  it("walks a newest-first list page by page without repeating or skipping", () => {
    const list = [alert("e", 5), alert("d", 4), alert("c", 3), alert("b", 3), alert("a", 1)].sort((x, y) => y.started_at.localeCompare(x.started_at) || x.id.localeCompare(y.id));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { items, next } = paginate(list, 2, cursor);
      seen.push(...items.map((a) => a.id));
      if (next === null) break;
      cursor = next;
    }
    expect(seen).toEqual(list.map((a) => a.id));
    expect(() => paginate(list, 2, "not-a-cursor")).toThrow();
  });
});
