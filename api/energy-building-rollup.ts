// Query side of an hourly per-building energy rollup (docs/api.md "Energy"). InfluxDB 1.6 pays per
// series × time bucket: `by=building&every=1h` over 30 days reads 720 buckets of every counted device
// (720,000 cells for 1,000 top-level devices, ~1 s), while a rollup already summed per building is
// 20 series × 720. The rollup is written by a continuous query of the ingest (which owns the
// retention policies and CQs; `buildingRollupContinuousQuery` is its exact text). Its measurement
// name carries a hash of the counted devices (each branch's topmost device reporting energy_kwh,
// infra/energy-rollup.ts countedDevices), so a campus file with another electrical tree, or devices
// that started reporting since, never read a rollup summed over the wrong devices: the API then finds
// no such measurement and falls back to summing the devices itself. Pure, except `BuildingRollups.available`.
import { type InfluxClient, quoteIdentifier, quoteString } from "../infra/influx.js";
import type { Grouped } from "./time.js";

export {
  BUILDING_ROLLUP_LAG_MS,
  BUILDING_ROLLUP_RP,
  buildingRollupContinuousQuery,
  buildingRollupDevices,
  buildingRollupMeasurement,
  buildingRollupSelect,
} from "../infra/energy-rollup.js";
import { BUILDING_ROLLUP_LAG_MS, BUILDING_ROLLUP_RP, HOUR_MS } from "../infra/energy-rollup.js";

/** [fromMs, toMs) split at the rollup's completeness cutoff (on an hour): the part it serves, and the rest. */
export function splitAtRollupCutoff(range: { fromMs: number; toMs: number }, now: number): { rollup: { fromMs: number; toMs: number } | null; rest: { fromMs: number; toMs: number } | null } {
  const cutoff = Math.min(range.toMs, Math.floor((now - BUILDING_ROLLUP_LAG_MS) / HOUR_MS) * HOUR_MS);
  if (cutoff <= range.fromMs) return { rollup: null, rest: range };
  return { rollup: { fromMs: range.fromMs, toMs: cutoff }, rest: cutoff < range.toMs ? { fromMs: cutoff, toMs: range.toMs } : null };
}

/**
 * kWh per bucket and building from the rollup (`kwh` column, `building` tag, as the per-device query), for
 * one part of the range with its GROUP BY clause (partsInZone).
 */
export function buildingRollupQuery(measurement: string, range: Grouped<{ fromMs: number; toMs: number }>, building: string | undefined): string {
  return (
    `SELECT sum("energy_delta_kwh") AS "kwh" FROM ${quoteIdentifier(BUILDING_ROLLUP_RP)}.${quoteIdentifier(measurement)}` +
    ` WHERE time >= ${Math.floor(range.fromMs)}ms AND time < ${Math.ceil(range.toMs)}ms${building === undefined ? "" : ` AND "building" = ${quoteString(building)}`}` +
    ` GROUP BY ${range.groupBy}, "building" fill(none)`
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
