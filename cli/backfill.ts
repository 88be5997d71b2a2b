// `campus-power backfill [--from ISO] [--to ISO]`: the rollups' SELECT … INTO over past data (grouped by
// site, device, kind, building and room: ingest/retention.ts ROLLUP_TAGS).
// Continuous queries only roll up recent windows (ingest/retention.ts: RESAMPLE … FOR 15m / 2h), so
// data written before a rollup existed, or arriving later than that (a long InfluxDB outage drained from
// the spool, a device flushing a day of buffered readings), is rolled up by this command. It is
// idempotent: a rollup point is keyed by its series and window start, so running it twice overwrites.
// Then, per day, the per-building hourly energy rollup of the campus file's tree (CAMPUS_CONFIG), and the
// daily rollups of the whole days in the range (energy per device, peak demand per building and room).
import { loadCampus } from "../infra/campus-file.js";
import { readEnv } from "../domain/env.js";
import { rollUpDeviceDays } from "../infra/device-energy-rollup.js";
import { InfluxClient } from "../infra/influx.js";
import { rollUpPeakDays } from "../infra/peak-day-rollup.js";
import { readPowerReporters } from "../infra/power-rollup.js";
import { rollupSelects } from "../ingest/retention.js";
import { UsageError } from "./runtime.js";

export interface BackfillOptions {
  from?: string;
  to?: string;
  /** Where progress goes (stdout by default). */
  write?(line: string): void;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function parseTime(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be an ISO 8601 time or epoch milliseconds (got "${text}")`);
  return value;
}

export async function runBackfill(options: BackfillOptions, source: NodeJS.ProcessEnv = process.env): Promise<{ windows: number; written: number }> {
  const env = readEnv(source);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = Date.now();
  // Whole hours, so the hourly rollup of the first and last hour is complete.
  const from = Math.floor(parseTime("from", options.from, now - env.rawRetentionMs) / HOUR_MS) * HOUR_MS;
  const to = Math.ceil(parseTime("to", options.to, now) / HOUR_MS) * HOUR_MS;
  if (!(from < to)) throw new UsageError("--from must be before --to");
  const campus = loadCampus(env.campusConfig);
  const influx = new InfluxClient({ url: env.influxUrl, db: env.influxDb, username: env.influxUsername, password: env.influxPassword, timeoutMs: 300_000 });
  let written = 0;
  let windows = 0;
  // One day per statement: a year of 1-minute rollups for a campus in one query would hold it all in memory.
  for (let start = from; start < to; start += DAY_MS) {
    const end = Math.min(start + DAY_MS, to);
    const where = `time >= ${start}ms AND time < ${end}ms`;
    for (const { name, select } of rollupSelects(env.influxDb, where, campus)) {
      const series = await influx.query(select);
      const count = Number(series[0]?.values?.[0]?.[1] ?? 0);
      written += count;
      windows++;
      write(`${new Date(start).toISOString()} … ${new Date(end).toISOString()}  ${name.replace("cq_electrical_", "rollup ").replace(/^cq_energy_building_\w+$/, "building energy rollup")}: ${count} points`);
    }
  }
  // The per-device daily energy rollup (by=device and by=room over days) of the whole days in the range.
  write(`per-device daily energy rollup: ${await rollUpDeviceDays(influx, campus, { fromMs: from, toMs: to }, Date.now())} days`);
  // The daily peak rollup (reports by building and room per day) from the power rollup the API reads: the one of the devices reporting power now.
  const powerReporting = await readPowerReporters(influx);
  write(`daily peak-demand rollup: ${await rollUpPeakDays(influx, campus, powerReporting, { fromMs: from, toMs: to }, Date.now())} days × groupings`);
  write(`backfill done: ${written} rollup points written from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`);
  return { windows, written };
}
