// Query side of an hourly per-building energy rollup (docs/api.md "Energy"). InfluxDB 1.6 pays per
// series × time bucket: `by=building&every=1h` over 30 days reads 720 buckets of every counted device
// (720,000 cells for 1,000 top-level devices, ~1 s), while a rollup already summed per building is
// 20 series × 720. The rollup is written by a continuous query of the ingest (which owns the
// retention policies and CQs; `buildingRollupContinuousQuery` is its exact text). Its measurement
// name carries a hash of the counted devices, so a campus file with another electrical tree never
// reads a rollup summed over the wrong devices: the API then finds no such measurement and falls back
// to summing the devices itself. Pure, except `BuildingRollups.available`.
import { createHash } from "node:crypto";
import type { Campus } from "../domain/campus.js";
import { type InfluxClient, quoteIdentifier, quoteString } from "../infra/influx.js";
import { meteringDevices } from "./energy-math.js";
import { type Every, groupByTime } from "./time.js";

const HOUR_MS = 3_600_000;
/**
 * An hour of the building rollup is taken as complete this long after it ends: the ingest's
 * `cq_electrical_1h` rewrites `rollup_1h` hours up to 2 h back every 15 min, and the building CQ
 * (FOR 3h) runs after it at least once more.
 */
export const BUILDING_ROLLUP_LAG_MS = 3 * HOUR_MS;
export const BUILDING_ROLLUP_RP = "rollup_1h";

/** The devices summed per building (each building's root devices), sorted. */
export const buildingRollupDevices = (campus: Campus): string[] => meteringDevices(campus, "building").map((d) => d.id).sort();

/** `energy_building_<8 hex of sha256 of the counted device ids>`. */
export function buildingRollupMeasurement(campus: Campus): string {
  return `energy_building_${createHash("sha256").update(buildingRollupDevices(campus).join("\n")).digest("hex").slice(0, 8)}`;
}

/** The SELECT … INTO that fills the rollup (`where` adds a time range: a backfill). Device ids are [a-z0-9-] (CONTRACT §2). */
export function buildingRollupSelect(db: string, campus: Campus, where = ""): string {
  const d = quoteIdentifier(db);
  return (
    `SELECT sum("energy_delta_kwh") AS "energy_delta_kwh" INTO ${d}.${quoteIdentifier(BUILDING_ROLLUP_RP)}.${quoteIdentifier(buildingRollupMeasurement(campus))}` +
    ` FROM ${d}.${quoteIdentifier(BUILDING_ROLLUP_RP)}."electrical" WHERE "device" =~ /^(${buildingRollupDevices(campus).join("|")})$/${where}` +
    ` GROUP BY time(1h), "building"`
  );
}

/** The continuous query the ingest needs to create (and recreate, with a backfill, when the campus tree changes). */
export function buildingRollupContinuousQuery(db: string, campus: Campus): { name: string; text: string } {
  const name = `cq_${buildingRollupMeasurement(campus)}`;
  return { name, text: `CREATE CONTINUOUS QUERY ${quoteIdentifier(name)} ON ${quoteIdentifier(db)} RESAMPLE EVERY 15m FOR 3h BEGIN ${buildingRollupSelect(db, campus)} END` };
}

/** [fromMs, toMs) split at the rollup's completeness cutoff (on an hour): the part it serves, and the rest. */
export function splitAtRollupCutoff(range: { fromMs: number; toMs: number }, now: number): { rollup: { fromMs: number; toMs: number } | null; rest: { fromMs: number; toMs: number } | null } {
  const cutoff = Math.min(range.toMs, Math.floor((now - BUILDING_ROLLUP_LAG_MS) / HOUR_MS) * HOUR_MS);
  if (cutoff <= range.fromMs) return { rollup: null, rest: range };
  return { rollup: { fromMs: range.fromMs, toMs: cutoff }, rest: cutoff < range.toMs ? { fromMs: cutoff, toMs: range.toMs } : null };
}

/** kWh per bucket and building from the rollup (`kwh` column, `building` tag, as the per-device query). */
export function buildingRollupQuery(measurement: string, range: { fromMs: number; toMs: number }, building: string | undefined, timeZone: string, atMs: number, bucket: Every): string {
  return (
    `SELECT sum("energy_delta_kwh") AS "kwh" FROM ${quoteIdentifier(BUILDING_ROLLUP_RP)}.${quoteIdentifier(measurement)}` +
    ` WHERE time >= ${Math.floor(range.fromMs)}ms AND time < ${Math.ceil(range.toMs)}ms${building === undefined ? "" : ` AND "building" = ${quoteString(building)}`}` +
    ` GROUP BY ${groupByTime(bucket, timeZone, atMs)}, "building" fill(none)`
  );
}

/** Whether the rollup measurement exists (checked at most once a minute). */
export class BuildingRollups {
  private cached: { at: number; measurement: string; exists: boolean } | null = null;

  constructor(
    private readonly influx: InfluxClient,
    private readonly ttlMs = 60_000,
  ) {}

  async available(measurement: string, now: number): Promise<boolean> {
    if (this.cached && this.cached.measurement === measurement && now - this.cached.at < this.ttlMs) return this.cached.exists;
    let exists = false;
    try {
      const series = await this.influx.query(`SHOW MEASUREMENTS WITH MEASUREMENT = ${quoteIdentifier(measurement)}`);
      exists = series.some((s) => s.values.length > 0);
    } catch {
      exists = false; // not InfluxDB 1.x, or no database yet: sum the devices
    }
    this.cached = { at: now, measurement, exists };
    return exists;
  }
}
