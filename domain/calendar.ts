// The school calendar of a site (CONTRACT §11): terms, holidays and make-up workdays (调休), and whether a
// local date is a school day. Pure: dates are "YYYY-MM-DD" strings local to the site, instants and zones
// are parameters. The campus file's `calendar:` block (its schema and checks: ./campus/calendar.ts) becomes
// one `SchoolCalendar`; without the block a site has none (null) and a school day is Monday to Friday.
import { wallClock, type WallClock } from "./time-zone.js";

export interface SchoolTerm {
  name: string;
  /** First and last day of the term, "YYYY-MM-DD", both inclusive. */
  from: string;
  to: string;
}

export interface SchoolCalendar {
  /** In the file's order; they never overlap (a campus file with overlapping terms is refused). */
  terms: readonly SchoolTerm[];
  /** Days off inside the terms, `to` inclusive; a single day of the file becomes `{from: d, to: d}`. */
  holidays: readonly { from: string; to: string }[];
  /** Saturdays and Sundays worked in exchange for a holiday's bridge day (调休). */
  workdays: readonly string[];
}

/** 0 = Sunday … 6 = Saturday, of a "YYYY-MM-DD" date (a day of the proleptic Gregorian calendar). */
export function weekdayOf(localDate: string): number {
  return new Date(`${localDate}T00:00:00Z`).getUTCDay();
}

const isWeekend = (weekday: number) => weekday === 0 || weekday === 6;

/** "YYYY-MM-DD" dates compare as text in calendar order (fixed widths, most significant first). */
const within = (date: string, range: { from: string; to: string }) => date >= range.from && date <= range.to;

/**
 * CONTRACT §11: a school day is a day inside a term that is a Monday–Friday or a listed workday, and not
 * a holiday. Without a calendar (a campus file with no `calendar:` block) every Monday–Friday is one.
 */
export function isSchoolDay(calendar: SchoolCalendar | null, localDate: string): boolean {
  const weekday = weekdayOf(localDate);
  if (calendar === null) return !isWeekend(weekday);
  if (!calendar.terms.some((term) => within(localDate, term))) return false;
  if (calendar.holidays.some((holiday) => within(localDate, holiday))) return false;
  return !isWeekend(weekday) || calendar.workdays.includes(localDate);
}

/** Whether a school day is a make-up workday (调休): a Saturday or Sunday the calendar makes a school day. */
export function isMakeUpWorkday(calendar: SchoolCalendar | null, localDate: string): boolean {
  return calendar !== null && isWeekend(weekdayOf(localDate)) && isSchoolDay(calendar, localDate);
}

/** The weekday whose hours a make-up workday keeps: a Monday's, the first of a school week. */
export const MAKE_UP_WORKDAY_AS = 1;

/**
 * The weekday (0 = Sunday) whose timetable a date follows: its own, or Monday on a make-up workday (调休:
 * the State Council moves a working day onto the weekend, and a school then keeps a weekday's hours).
 */
export function timetableWeekday(calendar: SchoolCalendar | null, localDate: string): number {
  return isMakeUpWorkday(calendar, localDate) ? MAKE_UP_WORKDAY_AS : weekdayOf(localDate);
}

/** The local date "YYYY-MM-DD" a wall clock reads. */
export function dateOfClock(clock: Pick<WallClock, "year" | "month" | "day">): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(clock.year).padStart(4, "0")}-${two(clock.month)}-${two(clock.day)}`;
}

/** The local date "YYYY-MM-DD" of an instant (epoch ms) in an IANA zone. */
export function localDateOf(instantMs: number, timeZone: string): string {
  return dateOfClock(wallClock(instantMs, timeZone));
}
