// Pure helpers for the history queries (CONTRACT §6 "Query conventions"): time parsing, the
// `every` durations and their InfluxQL GROUP BY clause aligned to the site's time zone.
import { ISO_WITH_ZONE, zoneOffsetMs } from "../domain/time-zone.js";
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
  if (!(raw in EVERY_MS)) throw apiError("VALIDATION_FAILED", `"every" must be one of ${EVERY_VALUES.join(", ")}`);
  return raw as Every;
}

// InfluxQL buckets are aligned to the Unix epoch, 1970-01-01T00:00Z, a Thursday. ISO weeks start on
// Monday, 4 days later.
const MONDAY_AFTER_EPOCH_MS = 4 * DAY_MS;

/**
 * The InfluxQL `time(interval, offset)` for an `every`, so that buckets start at local boundaries:
 * days at local midnight, weeks at Monday 00:00 local, hours at the local hour (matters for +05:30).
 * The zone's offset is taken at `atMs` (the query's start): in a zone with daylight saving time,
 * a range crossing the change keeps the offset it started with (the site's zone, Asia/Shanghai, has none).
 */
export function groupByTime(every: Every, timeZone: string, atMs: number): string {
  const interval = EVERY_MS[every];
  const anchor = every === "1w" ? MONDAY_AFTER_EPOCH_MS : 0;
  const offsetMs = mod(anchor - zoneOffsetMs(atMs, timeZone), interval);
  return offsetMs === 0 ? `time(${every})` : `time(${every}, ${offsetMs / 60_000}m)`;
}

/** Start of the bucket holding `ms`, with the same alignment as groupByTime (for range checks and tests). */
export function bucketStart(ms: number, every: Every, timeZone: string): number {
  const interval = EVERY_MS[every];
  const anchor = every === "1w" ? MONDAY_AFTER_EPOCH_MS : 0;
  const offsetMs = mod(anchor - zoneOffsetMs(ms, timeZone), interval);
  return ms - mod(ms - offsetMs, interval);
}

const mod = (a: number, n: number) => ((a % n) + n) % n;
