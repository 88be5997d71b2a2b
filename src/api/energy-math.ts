// Pure parts of GET /api/energy: which devices count for a group without double counting, the
// after-hours classification of an hour, and the summing of hourly kWh into the asked interval
// (days, ISO weeks and calendar months start at local midnight in the site's time zone).
import type { Campus, Device } from "../domain/campus.js";
import { wallClock, zoneOffsetMs } from "../domain/time-zone.js";
import { bucketStart, type Every } from "./time.js";

export { ENERGY_EVERY, ENERGY_GROUPS, type EnergyEvery, type EnergyGroup, groupKey, meteringDevices } from "../domain/metering.js";
import { type EnergyEvery, type EnergyGroup, groupKey } from "../domain/metering.js";

/** Occupied hours: a weekly schedule in local time (days 0 = Sunday … 6 = Saturday, minutes of the day). */
export interface OccupiedPeriod {
  days: number[];
  fromMin: number;
  toMin: number;
}

/** School hours when the campus file gives none: Monday to Friday, 07:00–18:00 local time. */
export const DEFAULT_OCCUPIED: readonly OccupiedPeriod[] = [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60, toMin: 18 * 60 }];

/** Whether the hour starting at `hourStartMs` lies outside every occupied period (judged at its middle). */
export function isAfterHours(hourStartMs: number, timeZone: string, occupied: readonly OccupiedPeriod[] = DEFAULT_OCCUPIED): boolean {
  const clock = wallClock(hourStartMs + 30 * 60_000, timeZone);
  const minute = clock.hour * 60 + clock.minute;
  return !occupied.some((p) => p.days.includes(clock.weekday) && minute >= p.fromMin && minute < p.toMin);
}

/** Start of the local calendar month holding `ms`. */
export function monthStart(ms: number, timeZone: string): number {
  const clock = wallClock(ms, timeZone);
  const guess = Date.UTC(clock.year, clock.month - 1, 1);
  return guess - zoneOffsetMs(guess - zoneOffsetMs(guess, timeZone), timeZone);
}

export function energyBucket(ms: number, every: EnergyEvery, timeZone: string): number {
  if (every === "1mo") return monthStart(ms, timeZone);
  return bucketStart(ms, every as Every, timeZone);
}

export interface HourlyKwh {
  key: string;
  hourStartMs: number;
  kwh: number;
}

export interface EnergySeries {
  key: string;
  name?: string;
  points: [number, number][];
  total_kwh: number;
  after_hours_kwh: number | null;
  after_hours_share: number | null;
}

const round = (kwh: number) => Math.round(kwh * 1e6) / 1e6;
export const share = (part: number, total: number) => (total > 0 ? Math.round((part / total) * 1e4) / 1e4 : null);

/**
 * Sums hourly kWh into `every` buckets per key, with each key's after-hours kWh and share. With
 * `split` false the input may be daily or weekly sums already (`hourStartMs` = bucket start) and
 * after-hours is left null.
 */
export function summarise(hours: readonly HourlyKwh[], every: EnergyEvery, timeZone: string, occupied?: readonly OccupiedPeriod[], split = true): EnergySeries[] {
  const byKey = new Map<string, { buckets: Map<number, number>; total: number; after: number }>();
  const afterCache = new Map<number, boolean>();
  // Every key has the same hours: the bucket of an hour (a time-zone conversion) is worked out once, not per key.
  const bucketCache = new Map<number, number>();
  for (const h of hours) {
    let entry = byKey.get(h.key);
    if (!entry) byKey.set(h.key, (entry = { buckets: new Map(), total: 0, after: 0 }));
    let bucket = every === "1h" ? h.hourStartMs : bucketCache.get(h.hourStartMs);
    if (bucket === undefined) bucketCache.set(h.hourStartMs, (bucket = energyBucket(h.hourStartMs, every, timeZone)));
    entry.buckets.set(bucket, (entry.buckets.get(bucket) ?? 0) + h.kwh);
    entry.total += h.kwh;
    if (!split) continue;
    let after = afterCache.get(h.hourStartMs);
    if (after === undefined) afterCache.set(h.hourStartMs, (after = isAfterHours(h.hourStartMs, timeZone, occupied)));
    if (after) entry.after += h.kwh;
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, e]) => ({
      key,
      points: [...e.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, kwh]) => [t, round(kwh)] as [number, number]),
      total_kwh: round(e.total),
      after_hours_kwh: split ? round(e.after) : null,
      after_hours_share: split ? share(e.after, e.total) : null,
    }));
}

