// Pure helpers for the history queries (CONTRACT §6 "Query conventions"): time parsing, the
// `every` durations, their buckets in the site's time zone (days and weeks from local midnight, also
// across a daylight-saving change) and the InfluxQL GROUP BY clause that makes them.
import { ISO_WITH_ZONE, localTimeToEpochMs, wallClock, zoneOffsetMs } from "../domain/time-zone.js";
import { apiError } from "./errors.js";

export const DAY_MS = 86_400_000;
export const DEFAULT_RANGE_MS = DAY_MS;

const EPOCH_MS = /^-?\d{1,15}$/;

/** Epoch ms of an ISO 8601 time with offset or of epoch milliseconds; null when it is neither. */
export function parseInstant(raw: string): number | null {
  const text = raw.trim();
  if (EPOCH_MS.test(text)) return Number(text);
  if (!ISO_WITH_ZONE.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

/** `from`/`to` of a query; defaults to the 24 h before `now`. Throws BAD_TIME on garbage or from ≥ to. */
export function resolveRange(query: { from?: string; to?: string }, now: number): { fromMs: number; toMs: number } {
  const toMs = query.to === undefined || query.to === "" ? now : parseInstant(query.to);
  if (toMs === null) throw apiError("BAD_TIME", `"to" must be ISO 8601 with an offset or epoch milliseconds (got "${query.to}")`);
  const fromMs = query.from === undefined || query.from === "" ? toMs - DEFAULT_RANGE_MS : parseInstant(query.from);
  if (fromMs === null) throw apiError("BAD_TIME", `"from" must be ISO 8601 with an offset or epoch milliseconds (got "${query.from}")`);
  if (fromMs >= toMs) throw apiError("BAD_TIME", `"from" must be before "to"`);
  return { fromMs, toMs };
}

/** The `every` values of CONTRACT §6 with their length in ms (1mo has no fixed length). */
export const EVERY_MS = { "1m": 60_000, "15m": 900_000, "1h": 3_600_000, "1d": DAY_MS, "1w": 7 * DAY_MS } as const;
export type Every = keyof typeof EVERY_MS;
export const EVERY_VALUES = [...(Object.keys(EVERY_MS) as Every[]), "1mo"] as const;

export function parseEvery(raw: string): Every {
  if (raw === "1mo") {
    // InfluxQL has no calendar months in GROUP BY time(); it needs a query per month. Planned.
    throw apiError("NOT_SUPPORTED", `every=1mo is not supported yet; use 1w or 1d`);
  }
  // Own keys only: `in` also finds Object.prototype's (every=constructor was a 500, found by tests/fuzz/http-api.test.ts).
  if (!Object.hasOwn(EVERY_MS, raw)) throw apiError("VALIDATION_FAILED", `"every" must be one of ${EVERY_VALUES.join(", ")}`);
  return raw as Every;
}

// InfluxQL buckets are aligned to the Unix epoch, 1970-01-01T00:00Z, a Thursday. ISO weeks start on
// Monday, 4 days later.
const MONDAY_AFTER_EPOCH_MS = 4 * DAY_MS;
const WEEK_SAMPLE_MS = 7 * DAY_MS;

/**
 * The InfluxQL `time(interval, offset)` for an `every` whose buckets start at local boundaries with the
 * zone's offset at the start of the bucket holding `atMs`: days at local midnight, weeks at Monday 00:00
 * local, hours at the local hour (matters for +05:30). For a range in which the offset may change,
 * partsInZone gives each part its clause.
 */
export function groupByTime(every: Every, timeZone: string, atMs: number): string {
  const interval = EVERY_MS[every];
  const anchor = every === "1w" ? MONDAY_AFTER_EPOCH_MS : 0;
  const offsetMs = mod(anchor - zoneOffsetMs(bucketStart(atMs, every, timeZone), timeZone), interval);
  return offsetMs === 0 ? `time(${every})` : `time(${every}, ${offsetMs / 60_000}m)`;
}

/**
 * Start of the bucket holding `ms`: local midnight of its day (1d) or of its week's Monday (1w, ISO 8601),
 * a 23- or 25-hour day on a daylight-saving change included; shorter buckets on the local clock at `ms`.
 */
export function bucketStart(ms: number, every: Every, timeZone: string): number {
  if (every === "1d" || every === "1w") {
    const clock = wallClock(ms, timeZone);
    const daysSinceMonday = every === "1w" ? (clock.weekday + 6) % 7 : 0;
    const day = new Date(Date.UTC(clock.year, clock.month - 1, clock.day - daysSinceMonday)).toISOString().slice(0, 10);
    // A midnight the zone skips becomes the first instant of the day ("compatible", as Temporal).
    return localTimeToEpochMs(`${day}T00:00`, timeZone);
  }
  const interval = EVERY_MS[every];
  return ms - mod(ms + zoneOffsetMs(ms, timeZone), interval);
}

/**
 * The instants in (fromMs, toMs] at which the zone's offset changes (the first millisecond of the new one).
 * Sampled a week apart: no zone changes its offset twice within a week (tzdata; the closest, Morocco's
 * Ramadan pauses, are weeks apart).
 */
export function offsetChanges(fromMs: number, toMs: number, timeZone: string): { atMs: number; deltaMs: number }[] {
  const changes: { atMs: number; deltaMs: number }[] = [];
  let at = fromMs;
  let offset = zoneOffsetMs(at, timeZone);
  while (at < toMs) {
    const next = Math.min(at + WEEK_SAMPLE_MS, toMs);
    const nextOffset = zoneOffsetMs(next, timeZone);
    if (nextOffset !== offset) {
      let before = at;
      let after = next;
      while (after - before > 1) {
        const middle = before + Math.floor((after - before) / 2);
        if (zoneOffsetMs(middle, timeZone) === offset) before = middle;
        else after = middle;
      }
      changes.push({ atMs: after, deltaMs: nextOffset - offset });
      offset = nextOffset;
    }
    at = next;
  }
  return changes;
}

/** A part of a range with the `GROUP BY time(...)` clause that makes its buckets. */
export type Grouped<R> = R & { groupBy: string };

/**
 * A range cut where the zone's offset changes, each part with the GROUP BY clause that makes its buckets
 * start at local boundaries: around a change, the bucket holding it (a 23- or 25-hour day, the week around
 * it) is a part of its own, grouped as one bucket of twice the nominal length from its start (so it holds
 * the whole changed day and is labelled with its local midnight; the part's end bounds its points); the
 * parts between use groupByTime with the offset of their start. A change by a whole number of buckets
 * (an hour under 1m/15m/1h buckets) leaves the range whole.
 */
export function partsInZone<R extends { fromMs: number; toMs: number }>(range: R, every: Every, timeZone: string): Grouped<R>[] {
  const interval = EVERY_MS[every];
  const parts: Grouped<R>[] = [];
  const steady = (fromMs: number, toMs: number) => parts.push({ ...range, fromMs, toMs, groupBy: groupByTime(every, timeZone, fromMs) });
  let start = range.fromMs;
  // From the start of the first bucket: a change before `fromMs` in its bucket moves that bucket too.
  for (const change of offsetChanges(bucketStart(range.fromMs, every, timeZone), range.toMs, timeZone)) {
    if (mod(change.deltaMs, interval) === 0) continue;
    const changedStart = bucketStart(change.atMs, every, timeZone);
    // Half a bucket past the next nominal start is inside the next bucket, however long this one is.
    const changedTo = Math.min(range.toMs, bucketStart(changedStart + 1.5 * interval, every, timeZone));
    if (changedTo <= start) continue;
    const changedFrom = Math.max(start, changedStart);
    if (changedFrom > start) steady(start, changedFrom);
    const twice = 2 * interval;
    parts.push({ ...range, fromMs: changedFrom, toMs: changedTo, groupBy: `time(${twice / 60_000}m, ${mod(changedStart, twice) / 60_000}m)` });
    start = changedTo;
  }
  if (start < range.toMs) steady(start, range.toMs);
  return parts;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;
