// The month a printable report covers (CONTRACT §11 `/reports/{site}/{YYYY-MM}`): its bounds at local midnight
// in the site's time zone, the month before it (the comparison), and its days with what the school calendar
// makes of each (domain/calendar.ts). Pure: the zone and the calendar are parameters.
import { isSchoolDay, type SchoolCalendar, weekdayOf } from "../../domain/calendar.js";
import { FIRST_YEAR, LAST_YEAR } from "../../domain/campus/calendar.js";
import { localTimeToEpochMs } from "../../domain/time-zone.js";

/** "YYYY-MM", month 01–12. */
export const MONTH_PATTERN = "^\\d{4}-(0[1-9]|1[0-2])$";

export interface ReportMonth {
  /** "YYYY-MM" */
  id: string;
  year: number;
  /** 1 … 12 */
  month: number;
  /** Local midnight of the 1st, epoch ms. */
  fromMs: number;
  /** Local midnight of the next month's 1st (exclusive), epoch ms. */
  toMs: number;
  previous: { id: string; fromMs: number; toMs: number };
  /** Its days, "YYYY-MM-DD". */
  days: string[];
}

const two = (n: number) => String(n).padStart(2, "0");
const monthId = (year: number, month: number) => `${year}-${two(month)}`;
/** Local midnight of the 1st of `month` (1 … 13; 13 is January of the next year). */
const firstOf = (year: number, month: number, timeZone: string) =>
  month === 13 ? localTimeToEpochMs(`${year + 1}-01-01T00:00`, timeZone) : localTimeToEpochMs(`${monthId(year, month)}-01T00:00`, timeZone);

/**
 * The month "YYYY-MM" in a zone, or null when the text is not a month of the years a calendar may name
 * (domain/campus/calendar.ts FIRST_YEAR–LAST_YEAR: the product's years).
 */
export function reportMonth(text: string, timeZone: string): ReportMonth | null {
  if (!new RegExp(MONTH_PATTERN).test(text)) return null;
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  if (year < FIRST_YEAR || year > LAST_YEAR) return null;
  const dayCount = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const before = month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 };
  const fromMs = firstOf(year, month, timeZone);
  return {
    id: text,
    year,
    month,
    fromMs,
    toMs: firstOf(year, month + 1, timeZone),
    previous: { id: monthId(before.year, before.month), fromMs: firstOf(before.year, before.month, timeZone), toMs: fromMs },
    days: Array.from({ length: dayCount }, (_, i) => `${text}-${two(i + 1)}`),
  };
}

/**
 * What a day is for the school (CONTRACT §11): a school day (`workday`: a make-up one on a weekend, 调休), or
 * not — a holiday, a day outside every term (the vacations: `vacation`), or a plain weekend.
 */
export type DayKind = "school" | "workday" | "weekend" | "holiday" | "vacation";

export function dayKind(calendar: SchoolCalendar | null, date: string): DayKind {
  const weekend = weekdayOf(date) === 0 || weekdayOf(date) === 6;
  if (isSchoolDay(calendar, date)) return weekend ? "workday" : "school";
  if (calendar === null) return "weekend";
  if (!calendar.terms.some((term) => date >= term.from && date <= term.to)) return "vacation";
  if (calendar.holidays.some((holiday) => date >= holiday.from && date <= holiday.to)) return "holiday";
  return "weekend";
}
