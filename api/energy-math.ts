// Pure parts of GET /api/energy: which devices count for a group without double counting, the
// after-hours classification of an hour (the building kind's occupied hours on its site's school days,
// CONTRACT §11; the rule itself is infra/device-energy-rollup.ts's, which the per-device daily rollup the
// ingest writes shares), and the summing of hourly kWh into the asked interval (days, ISO weeks and calendar
// months start at local midnight in the site's time zone; one zone per call).
import type { Campus } from "../domain/campus.js";
import type { Occupancy } from "../domain/occupancy.js";
import { wallClock, zoneOffsetMs } from "../domain/time-zone.js";
import { isAfterHours, occupancyOfBuilding, WEEKDAY_SCHOOL_HOURS } from "../infra/device-energy-rollup.js";
import { bucketStart, type Every } from "./time.js";

export { ENERGY_EVERY, ENERGY_GROUPS, type EnergyEvery, type EnergyGroup, groupKey, meteringDevices } from "../domain/metering.js";
import type { EnergyEvery, EnergyGroup } from "../domain/metering.js";
export { isAfterHours } from "../infra/device-energy-rollup.js";

/**
 * The occupancy each series key is judged by: its building's (infra/device-energy-rollup.ts
 * occupancyOfBuilding: its kind's schedule on its own site's school days, CONTRACT §9, §11), the same rule
 * the per-device daily rollup splits by.
 */
export function schedulesByKey(campus: Campus, by: EnergyGroup): (key: string) => Occupancy {
  if (by === "building") return (key) => occupancyOfBuilding(campus, key);
  if (by === "room") return (key) => occupancyOfBuilding(campus, key.slice(0, key.indexOf("/")));
  return (key) => occupancyOfBuilding(campus, campus.deviceById.get(key)?.building);
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
  /** Set on a whole day already split (the per-device daily rollup): its after-hours kWh, taken as it is. */
  afterHoursKwh?: number;
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
export function summarise(hours: readonly HourlyKwh[], every: EnergyEvery, timeZone: string, scheduleFor: (key: string) => Occupancy = () => WEEKDAY_SCHOOL_HOURS, split = true): EnergySeries[] {
  const byKey = new Map<string, { buckets: Map<number, number>; total: number; after: number; schedule: Occupancy }>();
  // Per occupancy (most keys share one): whether each hour is after hours.
  const afterCache = new Map<Occupancy, Map<number, boolean>>();
  // Every key has the same hours: the bucket of an hour (a time-zone conversion) is worked out once, not per key.
  const bucketCache = new Map<number, number>();
  for (const h of hours) {
    let entry = byKey.get(h.key);
    if (!entry) byKey.set(h.key, (entry = { buckets: new Map(), total: 0, after: 0, schedule: scheduleFor(h.key) }));
    let bucket = every === "1h" ? h.hourStartMs : bucketCache.get(h.hourStartMs);
    if (bucket === undefined) bucketCache.set(h.hourStartMs, (bucket = energyBucket(h.hourStartMs, every, timeZone)));
    entry.buckets.set(bucket, (entry.buckets.get(bucket) ?? 0) + h.kwh);
    entry.total += h.kwh;
    if (!split) continue;
    if (h.afterHoursKwh !== undefined) {
      entry.after += h.afterHoursKwh;
      continue;
    }
    let hoursOf = afterCache.get(entry.schedule);
    if (!hoursOf) afterCache.set(entry.schedule, (hoursOf = new Map()));
    let after = hoursOf.get(h.hourStartMs);
    if (after === undefined) hoursOf.set(h.hourStartMs, (after = isAfterHours(h.hourStartMs, timeZone, entry.schedule)));
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

