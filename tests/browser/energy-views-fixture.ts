// The school of the energy views' browser test: two buildings with one meter each, a calendar written
// around the day the test runs (a vacation that ends 20 days ago, a term since, a holiday on a recent
// weekday), and 35 days of hourly energy whose every figure the test can work out: `kwhAt`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Point } from "../../domain/line-protocol.js";

export const SITE = { id: "views-school", name: "Views School", timezone: "Asia/Shanghai", nominal_voltage_v: 220 };
/** Asia/Shanghai has no daylight-saving time: its local clock is UTC + 8 h all year. */
const OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const BUILDINGS = [
  { id: "class-a", name: "Classroom A", kind: "classroom", meter: "meter-class-a" },
  { id: "dorm-a", name: "Dormitory A", kind: "dormitory", meter: "meter-dorm-a" },
] as const;
export type BuildingId = (typeof BUILDINGS)[number]["id"];

/** The local date ("YYYY-MM-DD") of an instant, and the instant a local date starts. */
export const localDate = (ms: number) => new Date(ms + OFFSET_MS).toISOString().slice(0, 10);
export const midnight = (date: string) => Date.parse(`${date}T00:00:00Z`) - OFFSET_MS;
export const addDays = (date: string, days: number) => localDate(midnight(date) + days * DAY_MS);
const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

/** The calendar of the test's school, from the day the test runs. */
export function calendarAround(today: string) {
  // The last Monday–Friday at least two days back: a holiday that is not a weekend anyway.
  let holiday = addDays(today, -2);
  while (weekday(holiday) === 0 || weekday(holiday) === 6) holiday = addDays(holiday, -1);
  return { terms: [{ name: "test term", from: addDays(today, -20), to: addDays(today, 60) }], holidays: [holiday], workdays: [] as string[] };
}
export type TestCalendar = ReturnType<typeof calendarAround>;

/** CONTRACT §11: inside a term, Monday–Friday (no workdays here), not a holiday. */
export const isSchoolDay = (calendar: TestCalendar, date: string) =>
  date >= calendar.terms[0]!.from && date <= calendar.terms[0]!.to && !calendar.holidays.includes(date) && weekday(date) !== 0 && weekday(date) !== 6;

/**
 * kWh in an hour: the classroom block 3–4.5 kWh an hour from 08:00 to 17:00 on school days (a different
 * level each day of a 4-day cycle, so weekdays' averages differ from the day), 0.5 otherwise; the
 * dormitory 2 kWh an hour at night (22:00–06:00), 1 by day, every day.
 */
export function kwhAt(calendar: TestCalendar, building: BuildingId, date: string, hour: number): number {
  if (building === "dorm-a") return hour >= 22 || hour < 6 ? 2 : 1;
  const dayNumber = Math.round(midnight(date) / DAY_MS);
  return isSchoolDay(calendar, date) && hour >= 8 && hour < 17 ? 3 + (dayNumber % 4) * 0.5 : 0.5;
}

/** A day's kWh of a building (hours before `untilMs` only). */
export const dayKwh = (calendar: TestCalendar, building: BuildingId, date: string, untilMs = Infinity) =>
  Array.from({ length: 24 }, (_, hour) => hour).filter((hour) => midnight(date) + hour * HOUR_MS < untilMs).reduce((sum, hour) => sum + kwhAt(calendar, building, date, hour), 0);

/**
 * The ingest's points (CONTRACT §4, with `site`) of every hour from the one starting at `fromMs` to the one
 * under way at `nowMs`: one a hour, mid-hour (the running hour's at `nowMs` at the latest), a delta and the counter.
 */
export function energyPoints(calendar: TestCalendar, fromMs: number, nowMs: number): Point[] {
  const points: Point[] = [];
  for (const b of BUILDINGS) {
    let counter = 1000;
    for (let hourStart = fromMs; hourStart <= nowMs; hourStart += HOUR_MS) {
      const kwh = kwhAt(calendar, b.id, localDate(hourStart), new Date(hourStart + OFFSET_MS).getUTCHours());
      counter += kwh;
      points.push({ measurement: "electrical", tags: { site: SITE.id, device: b.meter, kind: "meter", building: b.id }, fields: { energy_delta_kwh: kwh, energy_kwh: counter, power_w: kwh * 1000 }, ts: Math.min(hourStart + 30 * 60_000, nowMs) });
    }
  }
  return points;
}

/** Writes the campus file (JSON is YAML) into `dir`; its path. */
export function writeCampusFile(dir: string, calendar: TestCalendar): string {
  const file = join(dir, "energy-views-campus.yaml");
  const campus = {
    site: SITE,
    buildings: BUILDINGS.map(({ id, name, kind }) => ({ id, name, kind })),
    devices: BUILDINGS.map((b) => ({ id: b.meter, kind: "meter", building: b.id, report_interval_s: 3600 })),
    calendar,
  };
  writeFileSync(file, JSON.stringify(campus, null, 1));
  return file;
}
