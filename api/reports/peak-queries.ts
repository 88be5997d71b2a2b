// The InfluxQL of peak demand (./peak-demand.ts) and the folding of its answers into periods. Two kinds of
// read: the power rollup (infra/power-rollup.ts, each group's 15-minute mean power) asked for each period's
// largest window with `max()` and no GROUP BY time(), a selector that then answers the time of the point it
// selects (the earliest of equal ones; checked on InfluxDB 1.6.7), so the peak comes with its window — one
// query per period, because under GROUP BY time() a selector answers the bucket's start, and `top()`, which
// keeps the point's time there, took 8–11 s for a month of 1,000 rooms where `max()` took 1–2 s; and, for the
// windows the rollup does not hold (the newest, and hours late points made stale), every window's group power
// computed from rollup_1m or raw points the way the rollup computes it. Pure.
import { powerPeakQuery } from "../../infra/peak-day-rollup.js";
import { DEMAND_WINDOW_MS, POWER_ROLLUP_RP } from "../../infra/power-rollup.js";
import { type Series, quoteIdentifier, quoteString } from "../../infra/influx.js";
import { fromClause, RAW, type Segment } from "../history-source.js";
import { periodStart, type ReportEvery, type ReportGroup } from "./periods.js";

/** The tags that make a group's key. */
const GROUP_TAGS: Record<ReportGroup, string> = { site: `"site"`, building: `"building"`, room: `"building", "room"` };

const timeRange = (range: { fromMs: number; toMs: number }) => `time >= ${Math.floor(range.fromMs)}ms AND time < ${Math.ceil(range.toMs)}ms`;
/** Site and building ids are [a-z0-9-] (CONTRACT §2): nothing to escape in the regex. */
const siteFilter = (sites: readonly string[]) => `"site" =~ /^(${sites.join("|")})$/`;
const buildingFilter = (building: string | undefined) => (building === undefined ? "" : ` AND "building" = ${quoteString(building)}`);

/**
 * The largest 15-minute mean power per group in one period (or the part of it the rollup serves), with the
 * start of its window as the row's time. A site's power is the sum of its buildings' in each window.
 */
export function rollupPeakQuery(measurement: string, by: ReportGroup, range: { fromMs: number; toMs: number }, sites: readonly string[], building?: string): string {
  if (by !== "site") return powerPeakQuery(measurement, by, range, sites, building);
  const from = `${quoteIdentifier(POWER_ROLLUP_RP)}.${quoteIdentifier(measurement)}`;
  const where = `${timeRange(range)} AND ${siteFilter(sites)}${buildingFilter(building)}`;
  return `SELECT max("power_w") AS "power_w" FROM (SELECT sum("power_w") AS "power_w" FROM ${from} WHERE ${where} GROUP BY time(15m), "site") WHERE ${where} GROUP BY ${GROUP_TAGS[by]}`;
}

/**
 * Every 15-minute window's power per group over one segment (rollup_1m or raw), as the rollup computes it:
 * each counted device's mean, summed per group. `deviceFilter` picks the counted devices (` AND "device" =~ …`).
 */
export function windowPowerQuery(segment: Segment, by: ReportGroup, deviceFilter: string, building?: string): string {
  const field = segment.rp === RAW ? "power_w" : "power_w_mean";
  return (
    `SELECT sum("power_w") AS "power_w" FROM (SELECT mean(${quoteIdentifier(field)}) AS "power_w" FROM ${fromClause(segment)}` +
    ` WHERE ${timeRange(segment)} AND "phase" = ''${deviceFilter}${buildingFilter(building)} GROUP BY time(15m), "site", "building", "room", "device")` +
    ` WHERE ${timeRange(segment)} GROUP BY time(15m), ${GROUP_TAGS[by]} fill(none)`
  );
}

/** A device filter on the shorter list: the counted devices, or all the others (device ids are [a-z0-9-]). */
export function deviceFilter(counted: readonly string[], others: readonly string[]): string {
  if (others.length === 0) return "";
  return counted.length <= others.length ? ` AND "device" =~ /^(${counted.join("|")})$/` : ` AND "device" !~ /^(${others.join("|")})$/`;
}

/** A window's group power (W) as InfluxDB answered it. */
export interface WindowPower {
  key: string;
  atMs: number;
  powerW: number;
}

/** The key of a series: the site, the building, or `building/room`; null for points without the tags. */
function keyOf(tags: Record<string, string> | undefined, by: ReportGroup): string | null {
  if (by === "room") return tags?.building && tags.room ? `${tags.building}/${tags.room}` : null;
  return tags?.[by] || null;
}

/** The windows of an answer of either query, with their group key. */
export function windowsOf(series: readonly Series[], by: ReportGroup): WindowPower[] {
  const out: WindowPower[] = [];
  for (const s of series) {
    const key = keyOf(s.tags, by);
    if (key === null) continue;
    const time = s.columns.indexOf("time");
    const power = s.columns.indexOf("power_w");
    for (const row of s.values) if (typeof row[power] === "number") out.push({ key, atMs: row[time] as number, powerW: row[power] as number });
  }
  return out;
}

export interface PeriodPeak {
  key: string;
  periodStartMs: number;
  powerW: number;
  /** Start of the 15-minute window of the peak. */
  atMs: number;
}

/**
 * The largest window per group and period (periods start at local midnight in `timeZone`); of equal ones the
 * earliest. Only windows starting in [fromMs, toMs) count.
 */
export function foldPeaks(windows: readonly WindowPower[], every: ReportEvery, timeZone: string, fromMs: number, toMs: number): PeriodPeak[] {
  const best = new Map<string, PeriodPeak>();
  const periodOf = new Map<number, number>();
  for (const w of windows) {
    if (w.atMs < fromMs || w.atMs >= toMs) continue;
    // Every group has the same windows: the zone conversion is worked out once per window, not per group.
    let start = periodOf.get(w.atMs);
    if (start === undefined) periodOf.set(w.atMs, (start = periodStart(w.atMs, every, timeZone)));
    const id = `${w.key}\u0000${start}`;
    const current = best.get(id);
    if (current === undefined || w.powerW > current.powerW || (w.powerW === current.powerW && w.atMs < current.atMs)) {
      best.set(id, { key: w.key, periodStartMs: start, powerW: w.powerW, atMs: w.atMs });
    }
  }
  return [...best.values()].sort((a, b) => a.key.localeCompare(b.key) || a.periodStartMs - b.periodStartMs);
}

/** Windows [fromMs, toMs) widened to whole 15-minute windows: those starting in the range. */
export const windowRange = (fromMs: number, toMs: number) => ({
  fromMs: Math.ceil(fromMs / DEMAND_WINDOW_MS) * DEMAND_WINDOW_MS,
  toMs: Math.ceil(toMs / DEMAND_WINDOW_MS) * DEMAND_WINDOW_MS,
});
