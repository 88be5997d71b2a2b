// Days and hours of the school in view, for the energy views: a site's local dates ("YYYY-MM-DD"), its
// local midnights as instants, the hour of an instant on its clock, and what kind of day a date is by its
// calendar (GET /api/sites `calendar`, CONTRACT §11). Dates are handled as plain "YYYY-MM-DD" strings and
// shown with Intl in UTC, so no conversion through the browser's own zone can shift a day.
const DAY_MS = 86_400_000;
const clocks = new Map();

/** The wall clock of an IANA zone (cached: building an Intl formatter costs far more than using one). */
function clockOf(timeZone) {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    clocks.set(timeZone, clock);
  }
  return clock;
}

/** `{date: "YYYY-MM-DD", hour: 0–23, clockAsUtcMs}` of an instant (epoch ms) on the site's clock; `clockAsUtcMs`: that reading taken as UTC (less the instant: the zone's offset). */
export function wallClock(ms, timeZone) {
  const part = Object.fromEntries(clockOf(timeZone).formatToParts(ms).map((p) => [p.type, p.value]));
  return { date: `${part.year}-${part.month}-${part.day}`, hour: Number(part.hour) % 24, clockAsUtcMs: Date.UTC(+part.year, part.month - 1, +part.day, Number(part.hour) % 24, +part.minute, +part.second) };
}

/** The instant (epoch ms) a local date starts in a zone: UTC midnight less the zone's offset then (checked twice for a change of offset). */
export function midnightOf(date, timeZone) {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  const offsetAt = (ms) => wallClock(ms, timeZone).clockAsUtcMs - Math.floor(ms / 1000) * 1000;
  const first = utcMidnight - offsetAt(utcMidnight);
  return utcMidnight - offsetAt(first);
}

/** The date `days` after (or before, negative) a "YYYY-MM-DD" date. */
export const addDays = (date, days) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** `count` dates ending with `last`, oldest first. */
export const datesEndingAt = (last, count) => Array.from({ length: count }, (_, i) => addDays(last, i - count + 1));

/** 0 = Sunday … 6 = Saturday. */
export const weekdayOf = (date) => new Date(`${date}T00:00:00Z`).getUTCDay();

const within = (date, range) => date >= range.from && date <= range.to;

/**
 * What a date is for the school: "school", "workday" (a make-up Saturday or Sunday, 调休), "weekend",
 * "holiday" or "vacation" (outside every term). The same rule as domain/calendar.ts isSchoolDay (this page
 * cannot import TypeScript): inside a term, Monday–Friday or a listed workday, and not a holiday. Without
 * a calendar every Monday–Friday is a school day.
 */
export function dayKind(calendar, date) {
  const weekend = weekdayOf(date) === 0 || weekdayOf(date) === 6;
  if (!calendar) return weekend ? "weekend" : "school";
  if (!calendar.terms.some((term) => within(date, term))) return "vacation";
  if (calendar.holidays.some((holiday) => within(date, holiday))) return "holiday";
  if (!weekend) return "school";
  return calendar.workdays.includes(date) ? "workday" : "weekend";
}

/** Whether the school has its day off: everything of such a day is after hours (CONTRACT §11). */
export const isDayOff = (kind) => kind !== "school" && kind !== "workday";
