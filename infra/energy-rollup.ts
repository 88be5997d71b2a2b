// The per-building hourly energy rollup in InfluxDB: its name, the SELECT … INTO that fills it and the
// continuous query the ingest creates. The API reads it (api/energy-building-rollup.ts) with the same
// names, so both sides take them from here.
import { createHash } from "node:crypto";
import type { Campus } from "../domain/campus.js";
import { meteringDevices } from "../domain/metering.js";
import { quoteIdentifier } from "./influx.js";

export const HOUR_MS = 3_600_000;
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
