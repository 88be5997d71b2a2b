// The peak-demand rollups as both sides see them (docs/reports.md "Peak demand"): each group's 15-minute
// mean power, per building and per room, which the ingest writes (ingest/retention.ts: continuous queries and
// backfills; ingest/rollup-catchup.ts: late points) and the API reads (api/reports/peak-demand.ts). A
// service may not import another, so the names and the SELECT … INTO they share live here, beside the
// energy rollups (./energy-rollup.ts).
//
// Maximum demand is the largest mean power over a demand interval: 15 min, the interval a two-part tariff
// bills maximum demand on (最大需量 in China; most European grid tariffs use 15 min too). A group's power
// is the sum of its counted devices' power: on each branch the topmost device that reports `power_w` (a
// breaker's power already includes its sockets'), as energy counts the topmost counter (countedDevices).
// Each device's mean is taken first, then summed, so a device reporting every 5 min weighs as much as one
// reporting every 5 s. Read from rollup_1m (1-minute means): a month by room would otherwise be ~86 M raw
// points; the rollup holds rooms × 96 points a day.
import { createHash } from "node:crypto";
import type { Campus, Device } from "../domain/campus.js";
import { countedDevices } from "./energy-rollup.js";
import { type InfluxClient, quoteIdentifier } from "./influx.js";

export const DEMAND_WINDOW_MS = 15 * 60_000;
/** The peak-demand groupings the ingest rolls up (by=site sums a site's buildings). */
export const POWER_ROLLUP_GROUPS = ["building", "room"] as const;
export type PowerRollupGroup = (typeof POWER_ROLLUP_GROUPS)[number];
/** Kept for ever, as the hourly energy: a peak of years ago stays in the reports. */
export const POWER_ROLLUP_RP = "rollup_1h";
/**
 * A window of the power rollup is taken as complete this long after it ends: rollup_1m holds its minutes
 * 2 min after they end (./energy-rollup.ts ROLLUPS), the power CQ (EVERY 15m FOR 1h) runs at the next
 * quarter hour after that, and one more run is slack. Later points are rolled up again by the ingest's
 * catch-up, and their hours are read from raw points meanwhile (api/history-source.ts splitAtStale).
 */
export const POWER_ROLLUP_LAG_MS = 30 * 60_000;

const TAGS: Record<PowerRollupGroup, string> = { building: `"site", "building"`, room: `"site", "building", "room"` };
const CQ_PREFIX = "cq_power_";

/** The devices whose power is summed per group of `by`, sorted: each branch's topmost reporting power_w. */
export const powerRollupDevices = (campus: Campus, by: PowerRollupGroup, reporting: ReadonlySet<string> | null): Device[] =>
  countedDevices(campus, by, reporting).sort((a, b) => a.id.localeCompare(b.id));

/** `power_<by>_<8 hex of sha256 of the counted device ids>`: another tree or other reporters, another rollup. */
export function powerRollupMeasurement(campus: Campus, by: PowerRollupGroup, reporting: ReadonlySet<string> | null): string {
  const ids = powerRollupDevices(campus, by, reporting).map((d) => d.id);
  return `power_${by}_${createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 8)}`;
}

export const isPowerRollupQuery = (name: string, by: PowerRollupGroup) => name.startsWith(`${CQ_PREFIX}${by}_`);

/**
 * Each group's 15-minute mean power (W, field `power_w`) INTO the rollup: the mean of each counted device
 * over the window (a subquery), summed per group. `where` (a time range, and for a catch-up the touched
 * buildings) narrows the subquery; InfluxDB 1.x passes the outer query's time range (a CQ's) into it too
 * (checked with EXPLAIN on 1.6.7). Device ids are [a-z0-9-] (CONTRACT §2): nothing to escape in the regex.
 */
export function powerRollupSelect(db: string, campus: Campus, by: PowerRollupGroup, reporting: ReadonlySet<string> | null, where = ""): string {
  const d = quoteIdentifier(db);
  const ids = powerRollupDevices(campus, by, reporting).map((device) => device.id);
  const into = `${d}.${quoteIdentifier(POWER_ROLLUP_RP)}.${quoteIdentifier(powerRollupMeasurement(campus, by, reporting))}`;
  return (
    `SELECT sum("power_w") AS "power_w" INTO ${into} FROM (SELECT mean("power_w_mean") AS "power_w" FROM ${d}."rollup_1m"."electrical"` +
    ` WHERE "device" =~ /^(${ids.join("|")})$/${where ? ` AND ${where}` : ""} GROUP BY time(15m), ${TAGS[by]}, "device") GROUP BY time(15m), ${TAGS[by]}`
  );
}

/**
 * The continuous query of one grouping: every 15 min, the last hour (the window just ended is not complete
 * in rollup_1m yet when it first runs; the next runs make it whole).
 */
export function powerRollupContinuousQuery(db: string, campus: Campus, by: PowerRollupGroup, reporting: ReadonlySet<string> | null): { name: string; text: string } {
  const name = `cq_${powerRollupMeasurement(campus, by, reporting)}`;
  return { name, text: `CREATE CONTINUOUS QUERY ${quoteIdentifier(name)} ON ${quoteIdentifier(db)} RESAMPLE EVERY 15m FOR 1h BEGIN ${powerRollupSelect(db, campus, by, reporting)} END` };
}

/**
 * The devices that have ever stored `power_w`: a mean in rollup_1h (all of history) plus a reading among the
 * raw points of the last 3 h (not in rollup_1h yet); without rollup_1h (InfluxDB 2.x/3.x), every raw point.
 * Null when InfluxDB cannot say (no database yet): then every device counts as reporting.
 */
export async function readPowerReporters(influx: InfluxClient): Promise<Set<string> | null> {
  const devicesIn = async (query: string) => (await influx.query(query)).flatMap((series) => (series.tags?.device ? [series.tags.device] : []));
  const rolledUp = await devicesIn(`SELECT last("power_w_mean") FROM ${quoteIdentifier(influx.config.db)}."rollup_1h"."electrical" GROUP BY "device"`).catch(() => null);
  const recentOnly = rolledUp === null ? "" : " AND time > now() - 3h";
  const raw = await devicesIn(`SELECT last("power_w") FROM "electrical" WHERE "phase" = ''${recentOnly} GROUP BY "device"`).catch(() => null);
  return raw === null ? null : new Set([...(rolledUp ?? []), ...raw]);
}
