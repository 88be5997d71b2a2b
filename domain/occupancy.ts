// When a building is occupied: the weekly schedules in the site's time zone that both the `after-hours`
// alert rule and the after-hours share of GET /api/energy judge by, so the two never disagree.
// The campus file sets one per building kind (`alerts.building_kinds.<kind>.occupied`, docs/alerts.md);
// the site's school calendar (CONTRACT §11, ./calendar.ts) says on which days they apply.
import type { AlertsConfig, OccupiedPeriod } from "./campus-alerts.js";
import type { Campus } from "./campus/parse.js";
import { dateOfClock, isSchoolDay, type SchoolCalendar, timetableWeekday } from "./calendar.js";
import type { WallClock } from "./time-zone.js";

/** Defaults of the kinds with lessons or office hours, Monday to Friday. */
export const DEFAULT_SCHEDULES: Readonly<Record<string, readonly OccupiedPeriod[]>> = {
  classroom: [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60, toMin: 22 * 60 }],
  office: [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60 + 30, toMin: 18 * 60 + 30 }],
};

/** School hours, Monday to Friday 07:00–18:00: the energy split of a kind with no schedule of its own. */
export const SCHOOL_HOURS: readonly OccupiedPeriod[] = [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60, toMin: 18 * 60 }];

/** The campus file's schedule for a building kind, else the kind's default; null when it has neither. */
export function scheduleOf(alerts: AlertsConfig, kind: string): readonly OccupiedPeriod[] | null {
  return alerts.buildingKinds[kind]?.occupied ?? DEFAULT_SCHEDULES[kind] ?? null;
}

/** Whether a local weekday (0 = Sunday) + minute of the day falls in one of the periods ([from, to); to ≤ from spans midnight). */
export function isOccupied(periods: readonly OccupiedPeriod[], weekday: number, minute: number): boolean {
  return periods.some((p) =>
    p.toMin > p.fromMin
      ? p.days.includes(weekday) && minute >= p.fromMin && minute < p.toMin
      : (p.days.includes(weekday) && minute >= p.fromMin) || (p.days.includes((weekday + 6) % 7) && minute < p.toMin),
  );
}

/** What a building's occupancy is judged by: its kind's weekly periods and its site's school calendar. */
export interface Occupancy {
  periods: readonly OccupiedPeriod[];
  /** null: the site has no calendar, and the periods apply week in, week out (as before CONTRACT §11). */
  calendar: SchoolCalendar | null;
}

/**
 * Whether a local wall clock is inside an occupied period. With a calendar (CONTRACT §11) the periods apply
 * on school days only and the whole of any other day is after hours, even the small hours after a school
 * day's overnight period; a make-up workday, a Saturday or Sunday, keeps a Monday's hours.
 */
export function isOccupiedAt(occupancy: Occupancy, clock: WallClock): boolean {
  const minute = clock.hour * 60 + clock.minute;
  const { calendar, periods } = occupancy;
  if (calendar === null) return isOccupied(periods, clock.weekday, minute);
  const date = dateOfClock(clock);
  if (!isSchoolDay(calendar, date)) return false;
  return isOccupied(periods, timetableWeekday(calendar, date), minute);
}

// One `Occupancy` per site and schedule, so callers may cache by identity (the energy split judges each
// hour once per occupancy, not once per series). A site's Campus is frozen: its entries never go stale.
const OCCUPANCIES = new WeakMap<Campus, Map<readonly OccupiedPeriod[], Occupancy>>();

/** Weekly periods on a site's school days (`site`: the site's own campus, CONTRACT §9). */
export function onSchoolDays(site: Campus, periods: readonly OccupiedPeriod[]): Occupancy {
  let byPeriods = OCCUPANCIES.get(site);
  if (byPeriods === undefined) OCCUPANCIES.set(site, (byPeriods = new Map()));
  let occupancy = byPeriods.get(periods);
  if (occupancy === undefined) byPeriods.set(periods, (occupancy = Object.freeze({ periods, calendar: site.calendar })));
  return occupancy;
}

/**
 * A building kind's occupancy at a site (`site`: the building's own site's campus, CONTRACT §9): its
 * `occupied` schedule or the kind's default, on the site's school days; null when the kind has no schedule.
 */
export function occupancyOf(site: Campus, kind: string): Occupancy | null {
  const periods = scheduleOf(site.alerts, kind);
  return periods === null ? null : onSchoolDays(site, periods);
}
