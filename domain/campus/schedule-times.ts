// When schedules run (CONTRACT §10: "run in the site's time zone"), pure: no clock, every instant is a
// parameter. A schedule runs once on each local date whose weekday it lists, at the instant its "HH:MM"
// names on that date. Daylight saving time (none in China, but a campus file may name any zone) follows
// Temporal's "compatible" disambiguation (../time-zone.ts localTimeToEpochMs): a time the clocks skip runs
// when the gap ends, moved forward by its length (02:30 → 03:30 on a spring-forward night); a time the
// clocks pass twice runs once, at the first (01:30 on a fall-back night). A `school_days_only` schedule
// runs on the site's school days only (CONTRACT §11, ../calendar.ts): Monday to Friday in a term, not on a
// holiday, and on a make-up workday (调休) as on a Monday.
import { WEEKDAY_NAMES } from "../campus-alerts.js";
import { isSchoolDay, type SchoolCalendar, timetableWeekday } from "../calendar.js";
import { localTimeToEpochMs, wallClock } from "../time-zone.js";
import type { Schedule } from "./schedules.js";

const DAY_MS = 86_400_000;

export interface ScheduleRun {
  schedule: Schedule;
  /** The instant it runs, epoch ms. */
  at: number;
  /** The local date it belongs to, "YYYY-MM-DD" (with `schedule.at`, what a person reads). */
  date: string;
}

/** The local date of an instant as an epoch ms at 00:00 UTC of that date (a day counter). */
function dayOf(epochMs: number, timeZone: string): number {
  const wall = wallClock(epochMs, timeZone);
  return Date.UTC(wall.year, wall.month - 1, wall.day);
}

/**
 * Every run in (afterMs, untilMs], by instant (the file's order at the same instant). A run of a local
 * date lies on that date or, moved forward by a gap, after it: so the dates from the day before
 * `afterMs`'s to `untilMs`'s cover every run in range. `calendar`: the schedules' site's (null: it has none,
 * and a school day is Monday to Friday).
 */
export function runsBetween(schedules: readonly Schedule[], timeZone: string, afterMs: number, untilMs: number, calendar: SchoolCalendar | null = null): ScheduleRun[] {
  if (!(untilMs > afterMs) || schedules.length === 0) return [];
  const runs: ScheduleRun[] = [];
  const seen = new Set<string>();
  for (let day = dayOf(afterMs, timeZone) - DAY_MS; day <= dayOf(untilMs, timeZone); day += DAY_MS) {
    const date = new Date(day).toISOString().slice(0, 10);
    const weekday = new Date(day).getUTCDay();
    for (const schedule of schedules) {
      const schoolDaysOnly = schedule.school_days_only === true;
      // A school-days schedule keeps the timetable's weekday: on a make-up Sunday, Monday's runs.
      if (!schedule.days.includes(WEEKDAY_NAMES[schoolDaysOnly ? timetableWeekday(calendar, date) : weekday]!)) continue;
      if (schoolDaysOnly && !isSchoolDay(calendar, date)) continue;
      const at = localTimeToEpochMs(`${date}T${schedule.at}`, timeZone);
      // A date the zone skipped whole (Pacific/Apia, 2011-12-30) lands on the next one's run: once only.
      const key = `${schedule.id} ${at}`;
      if (!(at > afterMs && at <= untilMs) || seen.has(key)) continue;
      seen.add(key);
      runs.push({ schedule, at, date });
    }
  }
  return runs.sort((a, b) => a.at - b.at);
}

/** The longest stretch without a school day a calendar may hold: a summer vacation, with room to spare, days. */
const LONGEST_BREAK_DAYS = 120;

/**
 * A schedule's next run after `afterMs`, or null: within the coming 8 days, as every schedule runs at least
 * weekly; with a calendar, a school-days-only one may wait out a vacation, so within the coming 120 days
 * (null past the calendar's last term).
 */
export function nextRun(schedule: Schedule, timeZone: string, afterMs: number, calendar: SchoolCalendar | null = null): ScheduleRun | null {
  const days = calendar !== null && schedule.school_days_only === true ? LONGEST_BREAK_DAYS : 8;
  return runsBetween([schedule], timeZone, afterMs, afterMs + days * DAY_MS, calendar)[0] ?? null;
}
