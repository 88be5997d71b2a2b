// Retention policies and rollups in InfluxDB 1.x (docs/ingest.md "Retention and rollups"):
//   raw        DEFAULT, RAW_RETENTION_DAYS (90)   every point the ingest writes
//   rollup_1m  400 days                           1-minute rollups of `electrical` totals
//   rollup_1h  INF                                1-hour rollups, from the 1-minute ones
// Continuous queries only process recent windows (RESAMPLE … FOR), so data that arrives later (a spool
// draining after an outage, a device flushing its buffer) is rolled up again by the ingest's catch-up
// (./rollup-catchup.ts: the same SELECT … INTO over the windows the late points touch); history written
// around the ingest is rolled up by `campus-power backfill`.
// Created when the ingest starts, idempotently; a server that refuses them (2.x/3.x) is logged and skipped.
//   energy_building_<hash>  in rollup_1h: kWh per building and hour, summed over each building's topmost
//             devices that report energy_kwh (infra/energy-rollup.ts countedDevices), from rollup_1h (the API's by=building energy reads it). Its exact text is the API's
//             (api/energy-building-rollup.ts, a pure module: the query side owns the name and shape);
//             grouped by site and building; the hash names that shape and the counted devices, so a campus file with another tree (or a device that
//             starts reporting energy above the counted ones) gets a new CQ, the old one is dropped, and the new one is backfilled over all of rollup_1h in the background.
//   power_building_<hash>, power_room_<hash>  in rollup_1h: each group's 15-minute mean power (peak demand,
//             docs/reports.md), summed over its topmost devices that report power_w, from rollup_1m; name and
//             text from infra/power-rollup.ts (the API's api/reports/peak-demand.ts reads them); replaced and
//             backfilled over all of rollup_1m like the building rollup when the counted devices change.
// A query whose text changed (e.g. when `site` joined the rollup tags, CONTRACT §9) is replaced at start:
// InfluxDB 1.x has no ALTER CONTINUOUS QUERY, so ensureRetention compares SHOW CONTINUOUS QUERIES' text
// with ours and, where they differ, drops the old one and creates ours. Points written before `site`
// existed (raw and rolled up) keep the tags they had: sums over all sites still count them once.
import { buildingRollupContinuousQuery, buildingRollupMeasurement, buildingRollupSelect, readEnergyReporters } from "../infra/energy-rollup.js";
import { isPowerRollupQuery, POWER_ROLLUP_GROUPS, powerRollupContinuousQuery, powerRollupMeasurement, powerRollupSelect, readPowerReporters } from "../infra/power-rollup.js";
import type { Campus } from "../domain/campus.js";
import type { InfluxClient } from "../infra/influx.js";
import { quoteIdentifier } from "../infra/influx.js";
import type { Logger } from "../infra/logger.js";

/** The tags a rollup keeps: `site` so energy and history work per school (CONTRACT §9), the rest as raw. */
export const ROLLUP_TAGS = ["site", "device", "kind", "building", "room"] as const;

const fields1m = `mean(power_w) AS power_w_mean, max(power_w) AS power_w_max, max(current_a) AS current_a_max, mean(voltage_v) AS voltage_v_mean, sum(energy_delta_kwh) AS energy_delta_kwh`;
const fields1h = `mean(power_w_mean) AS power_w_mean, max(power_w_max) AS power_w_max, max(current_a_max) AS current_a_max, mean(voltage_v_mean) AS voltage_v_mean, sum(energy_delta_kwh) AS energy_delta_kwh`;
const groupBy = (every: string) => `GROUP BY time(${every}), ${ROLLUP_TAGS.map((t) => `"${t}"`).join(", ")}`;

/** Narrows a re-run of the rollups (./rollup-catchup.ts) to what late points touched. */
export interface RollupNarrowing {
  /** Only these devices' series of the 1-minute and hourly rollups (their other series are unchanged). */
  devices?: readonly string[];
  /** Only these buildings of the building rollup (a building's sum must be recomputed whole). */
  buildings?: readonly string[];
  /** The devices reporting energy_kwh, which pick the building rollup's counted devices. */
  reporting?: ReadonlySet<string> | null;
  /** The devices reporting power_w, which pick the power rollups' counted devices. */
  powerReporting?: ReadonlySet<string> | null;
}

/** Device and building ids are [a-z0-9-] (CONTRACT §2): nothing to escape in the regex. */
const tagIn = (tag: string, ids: readonly string[] | undefined) => (ids === undefined ? "" : ` AND "${tag}" =~ /^(${ids.join("|")})$/`);

/**
 * The SELECT … INTO of each rollup, in the order they must run; `where` adds a time range (backfill,
 * catch-up). Totals only: `phase = ''` is "no phase tag". With a campus, then the per-building hourly energy
 * rollup and the power rollups (15-minute group means, from rollup_1m). The continuous queries are made of
 * the same text (retentionStatements).
 */
export function rollupSelects(db: string, where = "", campus?: Campus, narrow: RollupNarrowing = {}): { name: string; select: string }[] {
  const d = quoteIdentifier(db);
  const range = where ? ` AND ${where}` : "";
  const series = `${range}${tagIn("device", narrow.devices)}`;
  return [
    { name: "cq_electrical_1m", select: `SELECT ${fields1m} INTO ${d}."rollup_1m"."electrical" FROM ${d}."raw"."electrical" WHERE "phase" = ''${series} ${groupBy("1m")}` },
    { name: "cq_electrical_1h", select: `SELECT ${fields1h} INTO ${d}."rollup_1h"."electrical" FROM ${d}."rollup_1m"."electrical" WHERE time > 0${series} ${groupBy("1h")}` },
    ...(campus
      ? [
          { name: buildingRollupCqName(campus, narrow.reporting), select: buildingRollupSelect(db, campus, `${range}${tagIn("building", narrow.buildings)}`, narrow.reporting ?? null) },
          ...POWER_ROLLUP_GROUPS.map((by) => ({
            name: `cq_${powerRollupMeasurement(campus, by, narrow.powerReporting ?? null)}`,
            select: powerRollupSelect(db, campus, by, narrow.powerReporting ?? null, `${where || "time > 0"}${tagIn("building", narrow.buildings)}`),
          })),
        ]
      : []),
  ];
}

const BUILDING_CQ_PREFIX = "cq_energy_building_";
export const buildingRollupCqName = (campus: Campus, reporting: ReadonlySet<string> | null = null) => `cq_${buildingRollupMeasurement(campus, reporting)}`;

export function retentionStatements(db: string, rawDays: number, campus?: Campus, reporting: ReadonlySet<string> | null = null) {
  const d = quoteIdentifier(db);
  const rps = [
    { name: "raw", duration: `${Math.round(rawDays * 24)}h`, isDefault: true },
    { name: "rollup_1m", duration: "9600h", isDefault: false }, // 400 days
    { name: "rollup_1h", duration: "INF", isDefault: false },
  ];
  // RESAMPLE: the 1-minute rollup is recomputed for the last 15 minutes every minute (late points of a
  // short outage land in it), the hourly one for the last 2 hours every 15 minutes.
  const [m1, h1] = rollupSelects(db).map((q) => q.select.replace(/ WHERE time > 0/, ""));
  const cqs = [
    { name: "cq_electrical_1m", text: `CREATE CONTINUOUS QUERY "cq_electrical_1m" ON ${d} RESAMPLE EVERY 1m FOR 15m BEGIN ${m1} END` },
    { name: "cq_electrical_1h", text: `CREATE CONTINUOUS QUERY "cq_electrical_1h" ON ${d} RESAMPLE EVERY 15m FOR 2h BEGIN ${h1} END` },
    // Every 15 min, the last 3 h: after cq_electrical_1h has rewritten its last 2 h (the API trusts hours older than 3 h).
    ...(campus ? [buildingRollupContinuousQuery(db, campus, reporting)] : []),
  ];
  return { rps, cqs, d };
}

/**
 * Creates or corrects the policies and queries. Returns false when the server refused (logged).
 * With a campus, also the building energy rollup's query (ensureBuildingRollup).
 */
export async function ensureRetention(influx: InfluxClient, rawDays: number, log: Logger, campus?: Campus, backfill?: (done: Promise<void>) => void): Promise<boolean> {
  const db = influx.config.db;
  const { rps, cqs, d } = retentionStatements(db, rawDays);
  try {
    const existing = new Map<string, { duration: string; default: boolean }>();
    for (const series of await influx.query(`SHOW RETENTION POLICIES ON ${d}`)) {
      for (const row of series.values ?? []) existing.set(String(row[0]), { duration: String(row[1]), default: row[4] === true });
    }
    for (const rp of rps) {
      const verb = existing.has(rp.name) ? "ALTER" : "CREATE";
      const replication = verb === "CREATE" ? " REPLICATION 1" : "";
      await influx.query(`${verb} RETENTION POLICY "${rp.name}" ON ${d} DURATION ${rp.duration}${replication}${rp.isDefault ? " DEFAULT" : ""}`);
    }
    await replaceChangedQueries(influx, cqs);
    if (campus) await ensureBuildingRollup(influx, campus, await readEnergyReporters(influx), log, backfill);
    if (campus) await ensurePowerRollups(influx, campus, await readPowerReporters(influx), log, backfill);
    return true;
  } catch (error) {
    log.warn({ err: error }, "InfluxDB refused retention policies or continuous queries (not InfluxDB 1.x?); raw data keeps the server's retention and no rollups are made");
    return false;
  }
}

/** Our continuous queries as InfluxDB holds them now (name → text). */
async function presentQueries(influx: InfluxClient): Promise<Map<string, string>> {
  const present = new Map<string, string>();
  for (const series of await influx.query("SHOW CONTINUOUS QUERIES")) {
    if (series.name !== influx.config.db) continue;
    for (const row of series.values ?? []) present.set(String(row[0]), String(row[1]));
  }
  return present;
}

/** Creates each query, replacing one of the same name whose text differs; returns the queries there before. */
async function replaceChangedQueries(influx: InfluxClient, cqs: readonly { name: string; text: string }[]): Promise<Map<string, string>> {
  const present = await presentQueries(influx);
  const d = quoteIdentifier(influx.config.db);
  for (const cq of cqs) {
    const current = present.get(cq.name);
    if (current !== undefined && normalise(current) === normalise(cq.text)) continue;
    if (current !== undefined) await influx.query(`DROP CONTINUOUS QUERY ${quoteIdentifier(cq.name)} ON ${d}`);
    await influx.query(cq.text);
  }
  return present;
}

/**
 * The building energy rollup's query for the devices counted given `reporting` (those of other counted
 * sets dropped); when it is new, `backfill` receives the promise of its backfill over all of rollup_1h
 * (running in the background). Returns the measurement it fills.
 */
export async function ensureBuildingRollup(influx: InfluxClient, campus: Campus, reporting: ReadonlySet<string> | null, log: Logger, backfill?: (done: Promise<void>) => void): Promise<string> {
  const d = quoteIdentifier(influx.config.db);
  const cq = buildingRollupContinuousQuery(influx.config.db, campus, reporting);
  const present = await replaceChangedQueries(influx, [cq]);
  for (const other of present.keys()) {
    if (other.startsWith(BUILDING_CQ_PREFIX) && other !== cq.name) await influx.query(`DROP CONTINUOUS QUERY ${quoteIdentifier(other)} ON ${d}`);
  }
  const measurement = buildingRollupMeasurement(campus, reporting);
  if (!present.has(cq.name)) {
    const done = backfillBuildingRollup(influx, campus, undefined, undefined, reporting).then(
      (written) => log.info({ measurement, written }, "building energy rollup backfilled from rollup_1h"),
      (error: unknown) => log.warn({ err: error }, "building energy rollup backfill failed; run `campus-power backfill`"),
    );
    backfill?.(done);
  }
  return measurement;
}

/**
 * The power rollups' queries for the devices counted given `reporting` (those of other counted sets dropped);
 * each new one is backfilled over all of rollup_1m in the background (`backfill` gets the promise). Returns
 * the measurements they fill.
 */
export async function ensurePowerRollups(influx: InfluxClient, campus: Campus, reporting: ReadonlySet<string> | null, log: Logger, backfill?: (done: Promise<void>) => void): Promise<string[]> {
  const d = quoteIdentifier(influx.config.db);
  const measurements: string[] = [];
  for (const by of POWER_ROLLUP_GROUPS) {
    const cq = powerRollupContinuousQuery(influx.config.db, campus, by, reporting);
    const present = await replaceChangedQueries(influx, [cq]);
    for (const other of present.keys()) if (isPowerRollupQuery(other, by) && other !== cq.name) await influx.query(`DROP CONTINUOUS QUERY ${quoteIdentifier(other)} ON ${d}`);
    const measurement = powerRollupMeasurement(campus, by, reporting);
    measurements.push(measurement);
    if (present.has(cq.name)) continue;
    const done = backfillPowerRollup(influx, campus, by, reporting).then(
      (days) => log.info({ measurement, days }, "power rollup backfilled from rollup_1m"),
      (error: unknown) => log.warn({ err: error, measurement }, "power rollup backfill failed; run `campus-power backfill`"),
    );
    backfill?.(done);
  }
  return measurements;
}

/** One grouping's power rollup over all of rollup_1m, a day per statement (a day of 2,000 devices is 2.9 M 1-minute points); returns the days. */
async function backfillPowerRollup(influx: InfluxClient, campus: Campus, by: (typeof POWER_ROLLUP_GROUPS)[number], reporting: ReadonlySet<string> | null): Promise<number> {
  const series = await influx.query(`SELECT first("power_w_mean") FROM ${quoteIdentifier(influx.config.db)}."rollup_1m"."electrical"`);
  const first = series[0]?.values?.[0]?.[0];
  if (first === undefined) return 0;
  const to = Date.now() + HOUR_MS;
  let days = 0;
  const from = typeof first === "number" ? first : Date.parse(String(first));
  for (let start = Math.floor(from / DAY_MS) * DAY_MS; start < to; start += DAY_MS, days++) {
    await influx.query(powerRollupSelect(influx.config.db, campus, by, reporting, `time >= ${start}ms AND time < ${start + DAY_MS}ms`));
  }
  return days;
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const HOUR_MS = 3_600_000;

/** The building rollup over [from, to) (default: all of rollup_1h up to the next hour), a week per statement; returns points written. */
export async function backfillBuildingRollup(influx: InfluxClient, campus: Campus, fromMs?: number, toMs?: number, reporting: ReadonlySet<string> | null = null): Promise<number> {
  const db = influx.config.db;
  let from = fromMs;
  if (from === undefined) {
    const series = await influx.query(`SELECT first("energy_delta_kwh") FROM ${quoteIdentifier(db)}."rollup_1h"."electrical"`);
    const first = series[0]?.values?.[0]?.[0];
    if (first === undefined) return 0;
    from = typeof first === "number" ? first : Date.parse(String(first));
  }
  from = Math.floor(from / HOUR_MS) * HOUR_MS;
  const to = toMs ?? Math.ceil((Date.now() + 1) / HOUR_MS) * HOUR_MS;
  let written = 0;
  // Newest week first: the API reads the new rollup as soon as it exists, and the recent weeks are the ones asked for most.
  for (let end = to; end > from; end -= WEEK_MS) {
    const start = Math.max(end - WEEK_MS, from);
    const series = await influx.query(buildingRollupSelect(db, campus, ` AND time >= ${start}ms AND time < ${end}ms`, reporting));
    written += Number(series[0]?.values?.[0]?.[1] ?? 0);
  }
  return written;
}

// SHOW CONTINUOUS QUERIES echoes the query re-formatted; compare loosely (spaces, quotes, case).
const normalise = (text: string) => text.replace(/["\s]/g, "").toLowerCase();
