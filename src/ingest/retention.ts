// Retention policies and rollups in InfluxDB 1.x (docs/ingest.md "Retention and rollups"):
//   raw        DEFAULT, RAW_RETENTION_DAYS (90)   every point the ingest writes
//   rollup_1m  400 days                           1-minute rollups of `electrical` totals
//   rollup_1h  INF                                1-hour rollups, from the 1-minute ones
// Continuous queries only process recent windows (RESAMPLE … FOR), so data that arrives later (a spool
// draining after an outage, a device flushing its buffer) is rolled up by `campus-power backfill`.
// Created when the ingest starts, idempotently; a server that refuses them (2.x/3.x) is logged and skipped.
import type { InfluxClient } from "../infra/influx.js";
import { quoteIdentifier } from "../infra/influx.js";
import type { Logger } from "../infra/logger.js";

export const ROLLUP_TAGS = ["device", "kind", "building", "room"] as const;

const fields1m = `mean(power_w) AS power_w_mean, max(power_w) AS power_w_max, max(current_a) AS current_a_max, mean(voltage_v) AS voltage_v_mean, sum(energy_delta_kwh) AS energy_delta_kwh`;
const fields1h = `mean(power_w_mean) AS power_w_mean, max(power_w_max) AS power_w_max, max(current_a_max) AS current_a_max, mean(voltage_v_mean) AS voltage_v_mean, sum(energy_delta_kwh) AS energy_delta_kwh`;
const groupBy = (every: string) => `GROUP BY time(${every}), ${ROLLUP_TAGS.map((t) => `"${t}"`).join(", ")}`;

/** The SELECT … INTO of each rollup; `where` adds a time range (backfill). Totals only: `phase = ''` is "no phase tag". */
export function rollupSelects(db: string, where = ""): { name: string; select: string }[] {
  const d = quoteIdentifier(db);
  const range = where ? ` AND ${where}` : "";
  return [
    { name: "cq_electrical_1m", select: `SELECT ${fields1m} INTO ${d}."rollup_1m"."electrical" FROM ${d}."raw"."electrical" WHERE "phase" = ''${range} ${groupBy("1m")}` },
    { name: "cq_electrical_1h", select: `SELECT ${fields1h} INTO ${d}."rollup_1h"."electrical" FROM ${d}."rollup_1m"."electrical" WHERE time > 0${range} ${groupBy("1h")}` },
  ];
}

export function retentionStatements(db: string, rawDays: number) {
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
  ];
  return { rps, cqs, d };
}

/** Creates or corrects the policies and queries. Returns false when the server refused (logged). */
export async function ensureRetention(influx: InfluxClient, rawDays: number, log: Logger): Promise<boolean> {
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
    const present = new Map<string, string>();
    for (const series of await influx.query("SHOW CONTINUOUS QUERIES")) {
      if (series.name !== db) continue;
      for (const row of series.values ?? []) present.set(String(row[0]), String(row[1]));
    }
    for (const cq of cqs) {
      const current = present.get(cq.name);
      if (current !== undefined && normalise(current) === normalise(cq.text)) continue;
      if (current !== undefined) await influx.query(`DROP CONTINUOUS QUERY "${cq.name}" ON ${d}`);
      await influx.query(cq.text);
    }
    return true;
  } catch (error) {
    log.warn({ err: error }, "InfluxDB refused retention policies or continuous queries (not InfluxDB 1.x?); raw data keeps the server's retention and no rollups are made");
    return false;
  }
}

// SHOW CONTINUOUS QUERIES echoes the query re-formatted; compare loosely (spaces, quotes, case).
const normalise = (text: string) => text.replace(/["\s]/g, "").toLowerCase();
