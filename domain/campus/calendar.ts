// The campus file's `calendar:` block (CONTRACT §11): its schema, the checks a schema cannot make (every
// problem with its path, as the rest of the file), and the block → the `SchoolCalendar` the services use
// (../calendar.ts). The checks run on whatever parts of the block are well typed, even when the schema
// failed, so one run of `check-config` lists every problem.
import { type Static, Type as T } from "@sinclair/typebox";
import { type SchoolCalendar, weekdayOf } from "../calendar.js";
import type { Problem } from "../errors.js";
import { isJsonObject, jsonObjectOrEmpty } from "../json-object.js";

/** A local date as the file writes it; whether it exists (no 30 February) is checked in `checkCalendar`. */
export const DATE_PATTERN = "^\\d{4}-\\d{2}-\\d{2}$";
const DateSchema = T.String({ pattern: DATE_PATTERN, description: '"YYYY-MM-DD", a local date of the site' });
const RangeSchema = T.Object({ from: DateSchema, to: DateSchema }, { additionalProperties: false });

export const CalendarSchema = T.Object(
  {
    terms: T.Array(T.Object({ name: T.String({ minLength: 1 }), from: DateSchema, to: DateSchema }, { additionalProperties: false }), { minItems: 1 }),
    /** A single day, or a range with `to` inclusive. */
    holidays: T.Optional(T.Array(T.Union([DateSchema, RangeSchema]))),
    /** Make-up working days (调休): Saturdays or Sundays that are school days. */
    workdays: T.Optional(T.Array(DateSchema)),
  },
  { additionalProperties: false },
);
export type CalendarInFile = Static<typeof CalendarSchema>;

/**
 * The years a calendar may name. Dates are plain Gregorian days and work far beyond, but a school calendar
 * is about this year and the next: a year outside this range is a typo (2206 for 2026), refused at start.
 */
export const FIRST_YEAR = 2000;
export const LAST_YEAR = 2099;

const DATE = new RegExp(DATE_PATTERN);
const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

/** Why a "YYYY-MM-DD" text cannot be a calendar date, or null when it is one the product handles. */
function dateProblem(date: string): string | null {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over to 2026-03-02: a date exists when it reads back the same.
  if (utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== day) return `${date} is not a date of the calendar`;
  if (year < FIRST_YEAR || year > LAST_YEAR) return `${date} is outside the years ${FIRST_YEAR}–${LAST_YEAR} a calendar may name`;
  return null;
}

type Range = { from: string; to: string; path: string };

/**
 * Every problem of a `calendar:` block, with paths from `calendar`: a malformed or impossible date, a
 * year outside 2000–2099, a term or holiday range ending before it starts, terms that overlap, a make-up
 * workday that is not a Saturday or Sunday, a workday that is also a holiday. Absent block: none.
 */
export function checkCalendar(raw: unknown): Problem[] {
  if (raw === undefined || !isJsonObject(raw)) return []; // absent, or the schema reports its type
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path: `calendar.${path}`, message });
  /** A date at `path` when it is a sound one; the schema reports a non-string or one not "YYYY-MM-DD". */
  const date = (value: unknown, path: string): string | null => {
    if (typeof value !== "string" || !DATE.test(value)) return null;
    const problem = dateProblem(value);
    if (problem !== null) add(path, problem);
    return problem === null ? value : null;
  };
  /** A `{from, to}` whose two dates are sound, or null (reported when `to` is before `from`). */
  const range = (value: unknown, path: string, what: string): Range | null => {
    const entry = jsonObjectOrEmpty(value);
    const from = date(entry.from, `${path}.from`);
    const to = date(entry.to, `${path}.to`);
    if (from === null || to === null) return null;
    if (to < from) {
      add(`${path}.to`, `${what} ends (${to}) before it starts (${from})`);
      return null;
    }
    return { from, to, path };
  };
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

  const terms = list(raw.terms).map((term, i) => ({ name: String(jsonObjectOrEmpty(term).name ?? i), range: range(term, `terms[${i}]`, "the term") }));
  terms.forEach((a, i) => {
    terms.slice(0, i).forEach((b, j) => {
      if (a.range !== null && b.range !== null && a.range.from <= b.range.to && b.range.from <= a.range.to) {
        add(`terms[${i}]`, `term "${a.name}" (${a.range.from} to ${a.range.to}) overlaps terms[${j}] "${b.name}" (${b.range.from} to ${b.range.to})`);
      }
    });
  });

  const holidays = list(raw.holidays).flatMap((holiday, i): Range[] => {
    if (typeof holiday === "string") {
      const day = date(holiday, `holidays[${i}]`);
      return day === null ? [] : [{ from: day, to: day, path: `holidays[${i}]` }];
    }
    const days = range(holiday, `holidays[${i}]`, "the holiday");
    return days === null ? [] : [days];
  });

  list(raw.workdays).forEach((value, i) => {
    const day = date(value, `workdays[${i}]`);
    if (day === null) return;
    const weekday = weekdayOf(day);
    if (weekday !== 0 && weekday !== 6) add(`workdays[${i}]`, `${day} is a ${WEEKDAY_NAMES[weekday]}: a make-up workday (调休) must be a Saturday or Sunday`);
    const clash = holidays.find((h) => day >= h.from && day <= h.to);
    if (clash !== undefined) add(`workdays[${i}]`, `${day} is also a holiday (${clash.path}): a day is one or the other`);
  });
  return problems;
}

/** A valid block → the services' calendar: single-day holidays as one-day ranges; absent block → null. */
export function calendarFromFile(file: CalendarInFile | undefined): SchoolCalendar | null {
  if (file === undefined) return null;
  return Object.freeze({
    terms: Object.freeze(file.terms.map((term) => Object.freeze({ ...term }))),
    holidays: Object.freeze((file.holidays ?? []).map((h) => Object.freeze(typeof h === "string" ? { from: h, to: h } : { ...h }))),
    workdays: Object.freeze([...(file.workdays ?? [])]),
  });
}
