// The per-device daily energy rollup: for every device and local day of its site, the kWh and the after-hours
// kWh, computed from `rollup_1h` with the same calendar-aware rule GET /api/energy applies hour by hour (the
// building kind's occupied periods on its site's school days, judged at the middle of each hour, CONTRACT §11).
// `/api/energy?by=device&every=1d` over 30 days of 2,000 devices read 1.44 million hourly rows to split them
// (4–5 s); from this rollup it reads 60,000 (docs/benchmarks.md "Reports").
// A continuous query cannot make it: a day starts at local midnight and the after-hours split needs the
// calendar. So the ingest writes it (it owns the rollups, ingest/retention.ts and ingest/rollup-catchup.ts):
// `fillDeviceDays` once a day is complete (and, in the background, every complete day it lacks), and
// `rollUpDeviceDays` over the days late points touched, after their hourly rollups were redone. A day is served
// only when its completeness mark is there and none of its hours is marked stale (infra/energy-rollup.ts),
// so a day not rolled up (yet) is read hour by hour as before: never a wrong figure, at worst a slower one.
// The measurement's name hashes what the split depends on (each device's site, building, room, zone, occupied
// periods and calendar): a campus file that changes any of it reads a new, empty rollup, never a stale one.
import { createHash } from "node:crypto";
import type { Campus, Device } from "../domain/campus.js";
import { dateOfClock } from "../domain/calendar.js";
import { toLines } from "../domain/line-protocol.js";
import { isOccupiedAt, type Occupancy, occupancyOf, onSchoolDays, SCHOOL_HOURS } from "../domain/occupancy.js";
import { localTimeToEpochMs, wallClock, zoneOffsetMs } from "../domain/time-zone.js";
import { HOUR_MS, ROLLUPS, readStaleHours } from "./energy-rollup.js";
import { type InfluxClient, quoteIdentifier, quoteString } from "./influx.js";

/** The rollup's retention policy: kept as long as the hourly rollup it is made of. */
export const DEVICE_DAY_RP = "rollup_1h";
const PREFIX = "energy_device_day_";
/** A day is rolled up once its last hour is trusted in rollup_1h (infra/energy-rollup.ts ROLLUPS). */
const HOURLY_LAG_MS = ROLLUPS.find((r) => r.rp === "rollup_1h")!.lagMs;

/** School hours week in, week out: the split of a key in no known building. */
export const WEEKDAY_SCHOOL_HOURS: Occupancy = Object.freeze({ periods: SCHOOL_HOURS, calendar: null });

/** Whether the hour starting at `hourStartMs` lies outside every occupied period (judged at its middle). */
export function isAfterHours(hourStartMs: number, timeZone: string, occupancy: Occupancy = WEEKDAY_SCHOOL_HOURS): boolean {
  return !isOccupiedAt(occupancy, wallClock(hourStartMs + 30 * 60_000, timeZone));
}

/**
 * The occupancy a building is judged by: its kind's schedule in its own site's campus file (`occupied`, else
 * the kind's default, as the `after-hours` rule uses; school hours for a kind with none), on its site's school
 * days (CONTRACT §9, §11: `campus.alerts` and `campus.calendar` of a district are the first site's only).
 */
export function occupancyOfBuilding(campus: Campus, id: string | undefined): Occupancy {
  const building = id === undefined ? undefined : campus.buildingById.get(id);
  const site = id === undefined ? undefined : campus.siteOfBuilding.get(id);
  if (building === undefined || site === undefined) return WEEKDAY_SCHOOL_HOURS;
  return occupancyOf(site, building.kind) ?? onSchoolDays(site, SCHOOL_HOURS);
}

/** Local midnight of the day holding `ms` (a midnight the zone skips: the day's first instant). */
export function localDayStart(ms: number, timeZone: string): number {
  return localTimeToEpochMs(`${dateOfClock(wallClock(ms, timeZone))}T00:00`, timeZone);
}

/** Local midnight after the one at `dayStartMs` (days of 23 or 25 hours included). */
export const nextLocalDay = (dayStartMs: number, timeZone: string) => localDayStart(dayStartMs + 36 * HOUR_MS, timeZone);

/**
 * The local days wholly inside [fromMs, toMs) of a zone whose offset is a whole number of hours at both ends
 * of each (rollup_1h's hours then never straddle a midnight), ascending.
 */
export function wholeDays(fromMs: number, toMs: number, timeZone: string): number[] {
  const days: number[] = [];
  let day = localDayStart(fromMs, timeZone);
  if (day < fromMs) day = nextLocalDay(day, timeZone);
  for (let next = nextLocalDay(day, timeZone); next <= toMs; day = next, next = nextLocalDay(day, timeZone)) {
    if (zoneOffsetMs(day, timeZone) % HOUR_MS === 0 && zoneOffsetMs(next, timeZone) % HOUR_MS === 0) days.push(day);
  }
  return days;
}

const MEASUREMENTS = new WeakMap<Campus, string>();

/** `energy_device_day_<8 hex of sha256 of what the split depends on>`. */
export function deviceDayMeasurement(campus: Campus): string {
  let name = MEASUREMENTS.get(campus);
  if (name === undefined) {
    const hash = createHash("sha256");
    for (const site of campus.sites) hash.update(JSON.stringify([site.site.id, site.site.timezone, site.calendar]));
    for (const device of [...campus.devices].sort((a, b) => a.id.localeCompare(b.id))) {
      hash.update(JSON.stringify([device.id, device.site, device.building, device.room ?? null, occupancyOfBuilding(campus, device.building).periods]));
    }
    MEASUREMENTS.set(campus, (name = `${PREFIX}${hash.digest("hex").slice(0, 8)}`));
  }
  return name;
}

/** The measurement marking (per site tag, at local midnight) the days rolled up. */
export const completeMeasurement = (measurement: string) => `${measurement}_complete`;

export interface HourOfDevice {
  device: string;
  hourStartMs: number;
  kwh: number;
}

export interface DeviceDay {
  device: string;
  /** Local midnight, epoch ms. */
  dayStartMs: number;
  kwh: number;
  afterHoursKwh: number;
}

/**
 * Each device's hourly kWh summed per local day, with the after-hours part (`isAfterHours` under its
 * building's occupancy), in the order the API's summing adds them (each device's hours ascending). Pure.
 */
export function sumDeviceDays(campus: Campus, hours: readonly HourOfDevice[], timeZone: string): DeviceDay[] {
  const days = new Map<string, DeviceDay>();
  const dayOf = new Map<number, number>();
  const afterHours = new Map<Occupancy, Map<number, boolean>>();
  for (const h of hours) {
    let dayStartMs = dayOf.get(h.hourStartMs);
    if (dayStartMs === undefined) dayOf.set(h.hourStartMs, (dayStartMs = localDayStart(h.hourStartMs, timeZone)));
    const key = `${h.device}@${dayStartMs}`;
    let day = days.get(key);
    if (day === undefined) days.set(key, (day = { device: h.device, dayStartMs, kwh: 0, afterHoursKwh: 0 }));
    day.kwh += h.kwh;
    const occupancy = occupancyOfBuilding(campus, campus.deviceById.get(h.device)?.building);
    let hoursOf = afterHours.get(occupancy);
    if (hoursOf === undefined) afterHours.set(occupancy, (hoursOf = new Map()));
    let after = hoursOf.get(h.hourStartMs);
    if (after === undefined) hoursOf.set(h.hourStartMs, (after = isAfterHours(h.hourStartMs, timeZone, occupancy)));
    if (after) day.afterHoursKwh += h.kwh;
  }
  return [...days.values()];
}

/** The sites of each zone (days start at midnight in it), in the campus's order. */
export function sitesByZone(sites: readonly Campus[]): Map<string, Campus[]> {
  const zones = new Map<string, Campus[]>();
  for (const site of sites) zones.set(site.site.timezone, [...(zones.get(site.site.timezone) ?? []), site]);
  return zones;
}

/** kWh per device and hour of [fromMs, toMs) from rollup_1h, as the API groups them (whole-hour zones: `time(1h)`). */
async function readHours(influx: InfluxClient, fromMs: number, toMs: number, devices: ReadonlyMap<string, Device>): Promise<HourOfDevice[]> {
  const series = await influx.query(
    `SELECT sum("energy_delta_kwh") AS "kwh" FROM ${quoteIdentifier(DEVICE_DAY_RP)}."electrical" WHERE time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY time(1h), "device" fill(none)`,
  );
  const hours: HourOfDevice[] = [];
  for (const s of series) {
    const device = s.tags?.device;
    if (device === undefined || !devices.has(device)) continue;
    const time = s.columns.indexOf("time");
    const kwh = s.columns.indexOf("kwh");
    for (const row of s.values) if (typeof row[kwh] === "number") hours.push({ device, hourStartMs: row[time] as number, kwh: row[kwh] as number });
  }
  return hours;
}

/**
 * Rolls up the complete days of [fromMs, toMs) (each zone's whole local days that ended at least the hourly
 * rollup's lag before `now`): reads their hours, writes each device's day and, in the same request, each
 * site's mark. A day holding an hour marked stale is left out, unless the caller has just rolled that hour up
 * again (`rolledUp`: the catch-up, before it clears its marks). Returns the days written.
 */
export async function rollUpDeviceDays(influx: InfluxClient, campus: Campus, range: { fromMs: number; toMs: number }, now: number, rolledUp: readonly number[] = []): Promise<number> {
  let written = 0;
  for (const [timeZone, sites] of sitesByZone(campus.sites)) {
    const days = wholeDays(localDayStart(range.fromMs, timeZone), now - HOURLY_LAG_MS, timeZone).filter((day) => day < range.toMs);
    written += await rollUpDays(influx, campus, timeZone, sites, days, rolledUp);
  }
  return written;
}

/** Rolls up `days` (local midnights of the zone, ascending) for the zone's sites; those with a stale hour not in `rolledUp` are left out. */
async function rollUpDays(influx: InfluxClient, campus: Campus, timeZone: string, sites: readonly Campus[], days: readonly number[], rolledUp: readonly number[]): Promise<number> {
  if (days.length === 0) return 0;
  const measurement = deviceDayMeasurement(campus);
  const devices = new Map(sites.flatMap((site) => site.devices.map((d) => [d.id, d] as const)));
  const fresh = new Set(rolledUp);
  const stale = (await readStaleHours(influx, days[0]!, nextLocalDay(days.at(-1)!, timeZone))).filter((hour) => !fresh.has(hour));
  let written = 0;
  for (const day of days) {
    const next = nextLocalDay(day, timeZone);
    if (stale.some((hour) => hour >= day && hour < next)) continue;
    const perSite = new Map<string, number>();
    const points = sumDeviceDays(campus, await readHours(influx, day, next, devices), timeZone).map((d) => {
      const device = devices.get(d.device)!;
      perSite.set(device.site, (perSite.get(device.site) ?? 0) + 1);
      return { measurement, tags: { site: device.site, device: d.device, building: device.building, room: device.room }, fields: { kwh: d.kwh, after_hours_kwh: d.afterHoursKwh }, ts: day };
    });
    const marks = sites.map((site) => ({ measurement: completeMeasurement(measurement), tags: { site: site.site.id }, fields: { devices: perSite.get(site.site.id) ?? 0 }, ts: day }));
    await influx.write(toLines([...points, ...marks]), DEVICE_DAY_RP);
    written++;
  }
  return written;
}

/** Local midnights in [fromMs, toMs) that every one of `sites` has marked rolled up. */
export async function readCompleteDays(influx: InfluxClient, measurement: string, sites: readonly string[], fromMs: number, toMs: number): Promise<Set<number>> {
  const series = await influx.query(
    `SELECT "devices" FROM ${quoteIdentifier(DEVICE_DAY_RP)}.${quoteIdentifier(completeMeasurement(measurement))} WHERE time >= ${fromMs}ms AND time < ${toMs}ms AND "site" =~ /^(${sites.join("|")})$/ GROUP BY "site"`,
  );
  const marks = new Map<number, number>();
  for (const s of series) for (const row of s.values) marks.set(row[0] as number, (marks.get(row[0] as number) ?? 0) + 1);
  return new Set([...marks].filter(([, n]) => n === sites.length).map(([day]) => day));
}

/**
 * Rolls up every complete day since `sinceMs` (default: the start of rollup_1h) that has no mark yet, newest
 * first (the days people look at first): what the ingest runs once a day has ended, and in the background
 * after a campus file changed what the split depends on. `givingUp` is asked between days (the catch-up
 * yields to late points). Returns the days written.
 */
export async function fillDeviceDays(influx: InfluxClient, campus: Campus, now: number, options: { sinceMs?: number; givingUp?: () => boolean } = {}): Promise<number> {
  let from = options.sinceMs;
  if (from === undefined) {
    const first = (await influx.query(`SELECT first("energy_delta_kwh") FROM ${quoteIdentifier(DEVICE_DAY_RP)}."electrical"`))[0]?.values?.[0]?.[0];
    if (typeof first !== "number") return 0;
    from = first;
  }
  const measurement = deviceDayMeasurement(campus);
  let written = 0;
  for (const [timeZone, sites] of sitesByZone(campus.sites)) {
    const start = localDayStart(from, timeZone);
    const done = await readCompleteDays(influx, measurement, sites.map((s) => s.site.id), start, now);
    const missing = wholeDays(start, now - HOURLY_LAG_MS, timeZone).filter((day) => !done.has(day));
    for (const day of missing.reverse()) {
      if (options.givingUp?.()) return written;
      written += await rollUpDays(influx, campus, timeZone, sites, [day], []);
    }
  }
  return written;
}

/**
 * The rolled-up days of `days` (local midnights, ascending) for the sites' devices (or one building's, or the
 * devices named: ids are [a-z0-9-], CONTRACT §2, nothing to escape). The
 * device comes as a column of one series rather than as a GROUP BY tag: 2,000 series of 30 rows each cost
 * InfluxDB 1.6 about twice the time of one series of 60,000 (measured, docs/benchmarks.md "Reports").
 */
export async function readDeviceDays(
  influx: InfluxClient,
  measurement: string,
  sites: readonly string[],
  days: readonly number[],
  timeZone: string,
  only: { building?: string; devices?: readonly string[] } = {},
): Promise<DeviceDay[]> {
  if (days.length === 0) return [];
  const wanted = new Set(days);
  const series = await influx.query(
    `SELECT "device", "kwh", "after_hours_kwh" FROM ${quoteIdentifier(DEVICE_DAY_RP)}.${quoteIdentifier(measurement)}` +
      ` WHERE time >= ${days[0]}ms AND time < ${nextLocalDay(days.at(-1)!, timeZone)}ms AND "site" =~ /^(${sites.join("|")})$/` +
      `${only.building === undefined ? "" : ` AND "building" = ${quoteString(only.building)}`}${only.devices === undefined ? "" : ` AND "device" =~ /^(${only.devices.join("|")})$/`}`,
  );
  const rows: DeviceDay[] = [];
  for (const s of series) {
    const [time, device, kwh, after] = ["time", "device", "kwh", "after_hours_kwh"].map((c) => s.columns.indexOf(c)) as [number, number, number, number];
    for (const row of s.values) {
      if (!wanted.has(row[time] as number) || typeof row[kwh] !== "number") continue;
      rows.push({ device: row[device] as string, dayStartMs: row[time] as number, kwh: row[kwh] as number, afterHoursKwh: Number(row[after] ?? 0) });
    }
  }
  return rows;
}
