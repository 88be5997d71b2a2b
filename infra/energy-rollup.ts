// The rollups in InfluxDB as both sides see them: when the readers (api/history-source.ts,
// api/energy-building-rollup.ts) take a rollup window as complete, which devices' counters make up a
// group's energy, and the per-building hourly energy rollup (its name, the SELECT … INTO that fills it and
// its continuous query). The ingest writes them (ingest/retention.ts, ingest/rollup-catchup.ts), the API
// reads them; a service may not import another, so the names and rules they share live here.
import { createHash } from "node:crypto";
import type { Campus, Device } from "../domain/campus.js";
import { toLine } from "../domain/line-protocol.js";
import { type EnergyGroup, groupKey } from "../domain/metering.js";
import { type InfluxClient, quoteIdentifier, quoteString } from "./influx.js";

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
/**
 * [rp, bucket length, how long after a bucket's end the readers take it as complete], coarsest first.
 * rollup_1m: its CQ rewrites the last 15 min every minute, so a minute is final 1 min after it ends; 2 min
 * leaves the CQ one run of slack. rollup_1h: its CQ rewrites the last 2 h every 15 min.
 * A point written later than that (a device's flushed buffer, a spool draining after an outage) is
 * rolled up again by the ingest within seconds (ingest/rollup-catchup.ts), which uses these same lags.
 */
export const ROLLUPS = [
  { rp: "rollup_1h", bucketMs: HOUR_MS, lagMs: HOUR_MS },
  { rp: "rollup_1m", bucketMs: MINUTE_MS, lagMs: 2 * MINUTE_MS },
] as const;
/**
 * An hour of the building rollup is taken as complete this long after it ends: the ingest's
 * `cq_electrical_1h` rewrites `rollup_1h` hours up to 2 h back every 15 min, and the building CQ
 * (FOR 3h) runs after it at least once more.
 */
export const BUILDING_ROLLUP_LAG_MS = 3 * HOUR_MS;
export const BUILDING_ROLLUP_RP = "rollup_1h";

/**
 * Points older than this, stored at `now`, may be missing from a rollup some reader already serves: a
 * reader at `t` serves rollup_1m minutes starting before floor((t − lag) / 1 min) (the finest rollup is
 * trusted soonest). `marginMs` (90 s) reaches past the next run of the 1-minute CQ (at most 60 s away) and
 * its own run time, so a point not called late is rolled up by the CQ before any reader trusts its minute.
 */
export function trustedBefore(now: number, marginMs = 90_000): number {
  const finest = ROLLUPS.at(-1)!;
  return Math.floor((now + marginMs - finest.lagMs) / finest.bucketMs) * finest.bucketMs;
}

/**
 * Hours whose rollups late points have made stale, until the ingest has rolled them up again: a point
 * `rollup_stale,site=<site>,worker=<ingest client id> stale=true <hour start>` for each school whose late
 * points the hour holds is written in the same InfluxDB request as those points (so no reader sees them
 * without it), and `stale=false` at the same series and time once the hour is rolled up again. Readers take
 * the hour from raw points meanwhile (api/history-source.ts). `site` as on every point (CONTRACT §9); a mark
 * of an earlier version has none, and is cleared the same way. The default retention policy (raw) keeps it:
 * past raw retention there are no raw points to prefer.
 */
export const ROLLUP_STALE_MEASUREMENT = "rollup_stale";

export const staleMarkLine = (worker: string, hourMs: number, stale: boolean, site = ""): string =>
  toLine({ measurement: ROLLUP_STALE_MEASUREMENT, tags: { site, worker }, fields: { stale }, ts: hourMs })!;

/** Start of each hour in [fromMs, toMs) that some worker (or the one named) has marked stale for some school, ascending. */
export async function readStaleHours(influx: InfluxClient, fromMs: number, toMs: number, worker?: string): Promise<number[]> {
  return [...new Set((await readStaleMarks(influx, fromMs, toMs, worker)).map((mark) => mark.hourMs))].sort((a, b) => a - b);
}

/** The marks standing in [fromMs, toMs): each hour and school ("" for a mark without `site`) marked stale. */
export async function readStaleMarks(influx: InfluxClient, fromMs: number, toMs: number, worker?: string): Promise<{ hourMs: number; site: string }[]> {
  const own = worker === undefined ? "" : ` AND "worker" = ${quoteString(worker)}`;
  const query = `SELECT "stale" FROM ${quoteIdentifier(ROLLUP_STALE_MEASUREMENT)} WHERE time >= ${Math.floor(fromMs / HOUR_MS) * HOUR_MS}ms AND time < ${Math.ceil(toMs)}ms${own} GROUP BY "worker", "site"`;
  const marks: { hourMs: number; site: string }[] = [];
  for (const series of await influx.query(query)) {
    const time = series.columns.indexOf("time");
    const stale = series.columns.indexOf("stale");
    const site = series.tags?.site ?? "";
    for (const row of series.values) if (row[stale] === true) marks.push({ hourMs: row[time] as number, site });
  }
  return marks;
}

/**
 * The devices whose counters make up each group's energy: in every branch of the electrical tree inside
 * a group, the topmost device that reports `energy_kwh`. A breaker's counter already includes its
 * sockets', so counting both would double the energy; but a root without a counter (a feeder with only a
 * residual-current detector, a breaker without metering) passes its place to the devices below it, where
 * it used to leave the whole building at 0 kWh. `reporting`: the devices known to report `energy_kwh`
 * (readEnergyReporters); null, or empty (nothing stored yet), counts every device as reporting, which
 * gives each group's roots.
 */
export function countedDevices(campus: Campus, by: EnergyGroup, reporting: ReadonlySet<string> | null): Device[] {
  const reports = (device: Device) => reporting === null || reporting.size === 0 || reporting.has(device.id);
  if (by === "device") return [...campus.devices];
  return campus.devices.filter((device) => {
    const key = groupKey(device, by);
    if (key === null || !reports(device)) return false;
    // Walk up while the ancestors stay in the group: a reporting one already counts this device's energy.
    const seen = new Set<string>([device.id]);
    for (let up = parentOf(campus, device); up !== undefined && groupKey(up, by) === key && !seen.has(up.id); up = parentOf(campus, up)) {
      if (reports(up)) return false;
      seen.add(up.id);
    }
    return true;
  });
}

const parentOf = (campus: Campus, device: Device) => (device.parent === null ? undefined : campus.deviceById.get(device.parent));

/**
 * The devices that have ever stored an energy counter: a delta in rollup_1h (all of history) plus a
 * counter reading among the raw points of the last 3 h (not rolled up yet: the hourly CQ and the building
 * rollup trust hours 1–3 h old); without rollup_1h (InfluxDB 2.x/3.x), every raw point. Null when InfluxDB
 * cannot say (no database yet): then every device counts as reporting.
 */
export async function readEnergyReporters(influx: InfluxClient): Promise<Set<string> | null> {
  const d = quoteIdentifier(influx.config.db);
  const reporters = new Set<string>();
  const collect = async (query: string) => {
    for (const series of await influx.query(query)) if (series.tags?.device) reporters.add(series.tags.device);
  };
  try {
    const rolledUp = await collect(`SELECT last("energy_delta_kwh") FROM ${d}.${quoteIdentifier(BUILDING_ROLLUP_RP)}."electrical" GROUP BY "device"`).then(() => true, () => false);
    await collect(`SELECT last("energy_kwh") FROM "electrical"${rolledUp ? " WHERE time > now() - 3h" : ""} GROUP BY "device"`);
  } catch {
    return null;
  }
  return reporters;
}

/** The devices summed per building (each building's topmost reporting devices), sorted. */
export const buildingRollupDevices = (campus: Campus, reporting: ReadonlySet<string> | null = null): string[] =>
  countedDevices(campus, "building", reporting).map((d) => d.id).sort();

/**
 * The rollup's shape, hashed into its name with the devices: grouped by `site` as well since the district
 * (CONTRACT §9: every point carries its site). A rollup of another shape is another measurement, so a
 * database of an earlier version gets its rollup replaced and backfilled at start, as when the counted
 * devices change, and no reader ever sums points of the two shapes.
 */
const BUILDING_ROLLUP_SHAPE = "site,building";

/** `energy_building_<8 hex of sha256 of the shape and the counted device ids>`. */
export function buildingRollupMeasurement(campus: Campus, reporting: ReadonlySet<string> | null = null): string {
  const named = [BUILDING_ROLLUP_SHAPE, ...buildingRollupDevices(campus, reporting)].join("\n");
  return `energy_building_${createHash("sha256").update(named).digest("hex").slice(0, 8)}`;
}

/** The SELECT … INTO that fills the rollup (`where` adds a time range: a backfill). Device ids are [a-z0-9-] (CONTRACT §2). */
export function buildingRollupSelect(db: string, campus: Campus, where = "", reporting: ReadonlySet<string> | null = null): string {
  const d = quoteIdentifier(db);
  return (
    `SELECT sum("energy_delta_kwh") AS "energy_delta_kwh" INTO ${d}.${quoteIdentifier(BUILDING_ROLLUP_RP)}.${quoteIdentifier(buildingRollupMeasurement(campus, reporting))}` +
    ` FROM ${d}.${quoteIdentifier(BUILDING_ROLLUP_RP)}."electrical" WHERE "device" =~ /^(${buildingRollupDevices(campus, reporting).join("|")})$/${where}` +
    ` GROUP BY time(1h), "site", "building"`
  );
}

/** The continuous query the ingest needs to create (and recreate, with a backfill, when the counted devices change). */
export function buildingRollupContinuousQuery(db: string, campus: Campus, reporting: ReadonlySet<string> | null = null): { name: string; text: string } {
  const name = `cq_${buildingRollupMeasurement(campus, reporting)}`;
  return { name, text: `CREATE CONTINUOUS QUERY ${quoteIdentifier(name)} ON ${quoteIdentifier(db)} RESAMPLE EVERY 15m FOR 3h BEGIN ${buildingRollupSelect(db, campus, "", reporting)} END` };
}
