// The daily peak-demand rollup: for every building and room and local day of its site, the largest 15-minute
// mean power of the day (W, field `power_w`) and the start of that window (field `at_ms`, epoch ms), taken from
// the power rollups (./power-rollup.ts). A daily report per room over 30 days of 2,000 devices asked InfluxDB one
// `max()` per day over the power rollup (30 queries, 1.96 M points: 4.0 s); from this rollup it reads one
// query of rooms × days rows (docs/benchmarks.md "Reports"). Weeks and months fold from the days: the largest
// of the days' largest windows is the period's largest window (of equal ones the earliest, as InfluxDB's max()).
// A continuous query cannot make it: a day starts at local midnight in each site's zone (CONTRACT §9, §11), and
// InfluxDB's max() under GROUP BY time(1d) answers the bucket's start, not the peak window's. So the ingest
// writes it, as the per-device daily energy rollup (./device-energy-rollup.ts): `fillPeakDays` once a day is
// complete (its windows POWER_ROLLUP_LAG_MS old), `rollUpPeakDays` over the days late points touched, after the
// catch-up redid their power windows. A day is served only when its site's completeness mark is there and none
// of its hours is marked stale (./energy-rollup.ts readStaleHours); any other day is computed as before.
// The measurement's name hashes what a day's peak depends on (the power rollup it is read from, whose name
// hashes the counted devices, and each site's zone): another tree, other reporters or another zone read a new,
// empty rollup, never a stale one.
import { createHash } from "node:crypto";
import type { Campus } from "../domain/campus.js";
import { toLines } from "../domain/line-protocol.js";
import { completeMeasurement, localDayStart, nextLocalDay, readCompleteDays, sitesByZone, wholeDays } from "./device-energy-rollup.js";
import { readStaleHours } from "./energy-rollup.js";
import { type InfluxClient, quoteIdentifier, quoteString, type Series } from "./influx.js";
import { POWER_ROLLUP_LAG_MS, POWER_ROLLUP_RP, type PowerRollupGroup, powerRollupMeasurement } from "./power-rollup.js";

/** Kept as long as the power rollup it is made of. */
export const PEAK_DAY_RP = POWER_ROLLUP_RP;

/** `peak_day_<by>_<8 hex of sha256 of the power rollup's name and each site's id and zone>`. */
export function peakDayMeasurement(campus: Campus, by: PowerRollupGroup, reporting: ReadonlySet<string> | null): string {
  const hash = createHash("sha256").update(powerRollupMeasurement(campus, by, reporting));
  for (const site of campus.sites) hash.update(JSON.stringify([site.site.id, site.site.timezone]));
  return `peak_day_${by}_${hash.digest("hex").slice(0, 8)}`;
}

/** The tags that make a group's key in the power rollup and in this one. */
const GROUP_TAGS: Record<PowerRollupGroup, string> = { building: `"building"`, room: `"building", "room"` };
const timeRange = (range: { fromMs: number; toMs: number }) => `time >= ${Math.floor(range.fromMs)}ms AND time < ${Math.ceil(range.toMs)}ms`;
/** Site and building ids are [a-z0-9-] (CONTRACT §2): nothing to escape in the regex. */
const inSites = (sites: readonly string[]) => `"site" =~ /^(${sites.join("|")})$/`;
const inBuilding = (building: string | undefined) => (building === undefined ? "" : ` AND "building" = ${quoteString(building)}`);

/**
 * The largest window per group of the power rollup `measurement` in [fromMs, toMs). `max()` without GROUP BY
 * time() is a selector that answers the time of the point it selects (the earliest of equal ones; InfluxDB
 * 1.6.7), so each row is the peak window's start and power.
 */
export function powerPeakQuery(measurement: string, by: PowerRollupGroup, range: { fromMs: number; toMs: number }, sites: readonly string[], building?: string): string {
  const where = `${timeRange(range)} AND ${inSites(sites)}${inBuilding(building)}`;
  return `SELECT max("power_w") AS "power_w" FROM ${quoteIdentifier(POWER_ROLLUP_RP)}.${quoteIdentifier(measurement)} WHERE ${where} GROUP BY ${GROUP_TAGS[by]}`;
}

/** A group's peak in one local day. */
export interface DayPeak {
  /** The building, or `building/room`. */
  key: string;
  tags: { site: string; building: string; room?: string };
  dayStartMs: number;
  powerW: number;
  /** Start of the peak's 15-minute window, epoch ms. */
  atMs: number;
}

/** The day's peaks of a powerPeakQuery answer, each group's site from the campus file (groups it does not know are left out). Pure. */
export function dayPeaksOf(campus: Campus, series: readonly Series[], by: PowerRollupGroup, dayStartMs: number): DayPeak[] {
  const peaks: DayPeak[] = [];
  for (const s of series) {
    const building = s.tags?.building;
    const room = s.tags?.room;
    const site = building ? campus.siteOfBuilding.get(building)?.site.id : undefined;
    if (building === undefined || site === undefined || (by === "room" && !room)) continue;
    const [time, power] = [s.columns.indexOf("time"), s.columns.indexOf("power_w")];
    for (const row of s.values) {
      if (typeof row[power] !== "number") continue;
      const tags = by === "room" ? { site, building, room: room! } : { site, building };
      peaks.push({ key: by === "room" ? `${building}/${room}` : building, tags, dayStartMs, powerW: row[power] as number, atMs: row[time] as number });
    }
  }
  return peaks;
}

/** The parts of [fromMs, toMs) outside the local days `days` (ascending, each wholly inside the range). Pure. */
export function rangesOutside(range: { fromMs: number; toMs: number }, days: readonly number[], timeZone: string): { fromMs: number; toMs: number }[] {
  const rest: { fromMs: number; toMs: number }[] = [];
  let at = range.fromMs;
  for (const day of days) {
    if (day > at) rest.push({ fromMs: at, toMs: day });
    at = nextLocalDay(day, timeZone);
  }
  if (at < range.toMs) rest.push({ fromMs: at, toMs: range.toMs });
  return rest;
}

/** The local days a group's peak may be taken from the rollup for: marked complete for every site, and no hour of them stale. Pure. */
export function servedDays(whole: readonly number[], complete: ReadonlySet<number>, staleHours: readonly number[], timeZone: string): number[] {
  return whole.filter((day) => complete.has(day) && !staleHours.some((hour) => hour >= day && hour < nextLocalDay(day, timeZone)));
}

/** What a peak-day write needs: which grouping, from which power rollup (the counted devices: `reporting`). */
export interface PeakDaySource {
  by: PowerRollupGroup;
  reporting: ReadonlySet<string> | null;
}

/** Rolls up `days` (local midnights of the zone, ascending); those with a stale hour not in `rolledUp` are left out. Returns the days written. */
async function rollUpDays(influx: InfluxClient, campus: Campus, source: PeakDaySource, timeZone: string, sites: readonly Campus[], days: readonly number[], rolledUp: readonly number[]): Promise<number> {
  if (days.length === 0) return 0;
  const power = powerRollupMeasurement(campus, source.by, source.reporting);
  const measurement = peakDayMeasurement(campus, source.by, source.reporting);
  const siteIds = sites.map((s) => s.site.id);
  const fresh = new Set(rolledUp);
  const stale = (await readStaleHours(influx, days[0]!, nextLocalDay(days.at(-1)!, timeZone))).filter((hour) => !fresh.has(hour));
  let written = 0;
  for (const day of servedDays(days, new Set(days), stale, timeZone)) {
    const peaks = dayPeaksOf(campus, await influx.query(powerPeakQuery(power, source.by, { fromMs: day, toMs: nextLocalDay(day, timeZone) }, siteIds)), source.by, day);
    const perSite = new Map<string, number>();
    const points = peaks.map((peak) => {
      perSite.set(peak.tags.site, (perSite.get(peak.tags.site) ?? 0) + 1);
      return { measurement, tags: peak.tags, fields: { power_w: peak.powerW, at_ms: peak.atMs }, ts: day };
    });
    // The mark's field is named as the device days' (readCompleteDays reads it): here, the groups with a peak.
    const marks = siteIds.map((site) => ({ measurement: completeMeasurement(measurement), tags: { site }, fields: { devices: perSite.get(site) ?? 0 }, ts: day }));
    await influx.write(toLines([...points, ...marks]), PEAK_DAY_RP);
    written++;
  }
  return written;
}

/** The zone's complete days from `fromMs` on: whole local days whose windows the power rollup trusts at `now`. */
const completeDays = (fromMs: number, now: number, timeZone: string) => wholeDays(localDayStart(fromMs, timeZone), now - POWER_ROLLUP_LAG_MS, timeZone);

/**
 * Rolls up the complete days of [fromMs, toMs) again for both groupings: what the catch-up runs after it redid
 * the power windows of late hours (`rolledUp`: those hours, whose stale marks it is about to clear). Returns the days written.
 */
export async function rollUpPeakDays(influx: InfluxClient, campus: Campus, reporting: ReadonlySet<string> | null, range: { fromMs: number; toMs: number }, now: number, rolledUp: readonly number[] = []): Promise<number> {
  let written = 0;
  for (const [timeZone, sites] of sitesByZone(campus.sites)) {
    const days = completeDays(range.fromMs, now, timeZone).filter((day) => day < range.toMs);
    for (const by of ["building", "room"] as const) written += await rollUpDays(influx, campus, { by, reporting }, timeZone, sites, days, rolledUp);
  }
  return written;
}

/**
 * Rolls up every complete day since the power rollup's first window that has no mark yet, newest first (the
 * days people look at first): what the ingest runs once a day has ended, and in the background after the
 * counted devices or a zone changed. `givingUp` is asked between days. Returns the days written.
 */
export async function fillPeakDays(influx: InfluxClient, campus: Campus, reporting: ReadonlySet<string> | null, now: number, options: { givingUp?: () => boolean } = {}): Promise<number> {
  let written = 0;
  for (const by of ["building", "room"] as const) {
    const power = powerRollupMeasurement(campus, by, reporting);
    const first = (await influx.query(`SELECT first("power_w") FROM ${quoteIdentifier(POWER_ROLLUP_RP)}.${quoteIdentifier(power)}`))[0]?.values?.[0]?.[0];
    if (typeof first !== "number") continue;
    const measurement = peakDayMeasurement(campus, by, reporting);
    for (const [timeZone, sites] of sitesByZone(campus.sites)) {
      const start = localDayStart(first, timeZone);
      const done = await readCompleteDays(influx, measurement, sites.map((s) => s.site.id), start, now);
      for (const day of completeDays(start, now, timeZone).filter((d) => !done.has(d)).reverse()) {
        if (options.givingUp?.()) return written;
        written += await rollUpDays(influx, campus, { by, reporting }, timeZone, sites, [day], []);
      }
    }
  }
  return written;
}

/** A day's peak as the reader folds it: the group's key, the window's start and its power (W). */
export interface PeakWindow {
  key: string;
  atMs: number;
  powerW: number;
}

/**
 * The peaks of `days` (local midnights of one zone, ascending) for the sites' groups (or one building's), in
 * one query. The group comes as columns of one series rather than as GROUP BY tags (fewer series for
 * InfluxDB 1.6 to merge, as readDeviceDays).
 */
export async function readPeakDays(influx: InfluxClient, measurement: string, by: PowerRollupGroup, sites: readonly string[], days: readonly number[], timeZone: string, building?: string): Promise<PeakWindow[]> {
  if (days.length === 0) return [];
  const wanted = new Set(days);
  const columns = by === "room" ? `"building", "room"` : `"building"`;
  const series = await influx.query(
    `SELECT ${columns}, "power_w", "at_ms" FROM ${quoteIdentifier(PEAK_DAY_RP)}.${quoteIdentifier(measurement)}` +
      ` WHERE ${timeRange({ fromMs: days[0]!, toMs: nextLocalDay(days.at(-1)!, timeZone) })} AND ${inSites(sites)}${inBuilding(building)}`,
  );
  const peaks: PeakWindow[] = [];
  for (const s of series) {
    const [time, b, room, power, at] = ["time", "building", "room", "power_w", "at_ms"].map((c) => s.columns.indexOf(c)) as [number, number, number, number, number];
    for (const row of s.values) {
      if (!wanted.has(row[time] as number) || typeof row[power] !== "number" || typeof row[at] !== "number") continue;
      peaks.push({ key: by === "room" ? `${row[b]}/${row[room]}` : String(row[b]), atMs: row[at] as number, powerW: row[power] as number });
    }
  }
  return peaks;
}
