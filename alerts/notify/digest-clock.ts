// When a daily digest is due (CONTRACT §14 "once a day at that site time"), pure: every instant is a parameter.
// A digest of local date D is due from the instant "HH:MM" names on D in the site's zone, once: the date last
// sent is kept (./digests.ts), so a restart at 08:01 does not send the 08:00 one again, and a service that was
// down at 08:00 sends it when it starts later that same day (not on the next: that day's own covers it).
// Daylight saving time follows the schedules' rule (domain/campus/schedule-times.ts, Temporal's "compatible"):
// a time the clocks skip fires when the gap ends, moved forward by its length (02:30 → 03:30), a time they
// pass twice fires once, at the first.
import { localDateOf } from "../../domain/calendar.js";
import { localTimeToEpochMs } from "../../domain/time-zone.js";

const DAY_MS = 86_400_000;

/** The local date before `date` ("YYYY-MM-DD"). */
export const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);

/** The instant "HH:MM" names on a local date in a zone, epoch ms. */
export const digestInstant = (date: string, time: string, timeZone: string) => localTimeToEpochMs(`${date}T${time}`, timeZone);

/** Local midnight at the start of a date, epoch ms. */
export const midnightOf = (date: string, timeZone: string) => localTimeToEpochMs(`${date}T00:00`, timeZone);

export interface DueDigest {
  /** The local date it is for. */
  date: string;
  /** Its scheduled instant, and the previous day's: the alerts' window [fromMs, atMs). */
  atMs: number;
  fromMs: number;
}

/** The digest due at `now`, or null (not yet today, or today's already sent; `lastSent`: a local date or null). */
export function dueDigest(time: string, timeZone: string, lastSent: string | null, now: number): DueDigest | null {
  const today = localDateOf(now, timeZone);
  const atMs = digestInstant(today, time, timeZone);
  // ISO dates compare as text; a clock set back never sends a day twice.
  if (now < atMs || (lastSent !== null && lastSent >= today)) return null;
  return { date: today, atMs, fromMs: digestInstant(dayBefore(today), time, timeZone) };
}

/**
 * The "last sent" date of a digest seen for the first time (a route just added): today's if its time has
 * passed already, so a new route's first digest comes at its next time rather than at once on start.
 */
export function firstLastSent(time: string, timeZone: string, now: number): string {
  const today = localDateOf(now, timeZone);
  return now >= digestInstant(today, time, timeZone) ? today : dayBefore(today);
}
