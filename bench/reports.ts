// `npm run bench:reports` — the energy reports at the issue's scale (issue 13 item 7): a school of --devices
// devices (bench/reports/campus.ts: buildings with rooms, breakers with sockets below, several building kinds,
// the demo calendar) with --days of history in a throwaway influxd, written as `up --demo --history` writes it
// (bench/reports/history.ts: the ingest's points, deltas and rollups), then the API (api/app.ts buildApp with
// the real InfluxDB) timed over HTTP (bench/reports/timing.ts): a warm-up request, then --runs timed ones per
// route; a table with min / median / max against each target, progress on standard error.
// Then the per-device daily energy rollup is filled as the ingest fills it (infra/device-energy-rollup.ts
// fillDeviceDays: every complete day it lacks); `--no-day-rollup` times without it (and drops it if there). With
// --hourly, the daily peak rollup too (infra/peak-day-rollup.ts, bench/reports/hourly.ts fillPeakDayRollup);
// `--no-peak-rollup` times without it (and drops it).
// `--data DIR` keeps the influxd and its data in DIR and, run again with the same --devices and --days, times
// the same data without writing it again (for before/after comparisons: the digest column shows the answers
// are the same). Profile the API with `node --import tsx --cpu-prof --cpu-prof-dir=DIR bench/reports.ts
// --data D --only /api/energy` and read it with bench/cpu-profile.ts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../api/app.js";
import { LiveState } from "../api/live-state.js";
import { parseApiTokens } from "../domain/env.js";
import { wallClock } from "../domain/time-zone.js";
import { loadCampus } from "../infra/campus-file.js";
import { completeMeasurement, deviceDayMeasurement, fillDeviceDays, localDayStart } from "../infra/device-energy-rollup.js";
import { InfluxClient, quoteIdentifier } from "../infra/influx.js";
import { freePort } from "../infra/free-port.js";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { peakDayMeasurement } from "../infra/peak-day-rollup.js";
import { POWER_ROLLUP_GROUPS } from "../infra/power-rollup.js";
import { createLogger } from "../infra/logger.js";
import { createRegistry } from "../infra/metrics.js";
import { parseBenchArgs } from "./args.js";
import { writeBenchCampus } from "./reports/campus.js";
import { writePast } from "./reports/history.js";
import { fillPeakDayRollup, writeHourlyRollup } from "./reports/hourly.js";
import { printTimings, type Route, type Timing, timeRoute } from "./reports/timing.js";

const HELP = `npm run bench:reports -- [options]
The energy reports at the issue's scale: a school of --devices devices with --days of history in a throwaway
influxd, written as up --demo --history writes it, then every report route of the API timed over HTTP
(min / median / max against each target).
  --devices N   devices of the school (default 2000; buildings of 100: a feeder, 33 room breakers, 66 sockets)
  --days N      days of history (default 30)
  --runs N      timed requests per route after one warm-up (default 5)
  --data DIR    keep influxd's data in DIR; a later run with the same --devices and --days reuses it
  --only TEXT   time only the routes whose path contains TEXT
  --hourly      write the rollups directly instead of the demo history (minutes instead of hours at
                2,000 devices × 30 days): hourly kWh, the building energy rollup, the peak-demand power rollups
                of the same profile and the last hour of the 1-minute rollup (bench/reports/hourly.ts)
  --no-day-rollup  time without the per-device daily energy rollup (dropped if the data holds it)
  --no-peak-rollup time without the daily peak-demand rollup (--hourly; dropped if the data holds it)
  --help        this text`;

const { values: args, number } = parseBenchArgs("reports", HELP, {
  devices: { type: "string" }, days: { type: "string" }, runs: { type: "string" }, data: { type: "string" }, only: { type: "string" }, "no-day-rollup": { type: "boolean" }, "no-peak-rollup": { type: "boolean" }, hourly: { type: "boolean" },
});
const DEVICES = number("--devices", args.devices ?? 2_000);
const DAYS = number("--days", args.days ?? 30);
const RUNS = number("--runs", args.runs ?? 5);
const DAY_MS = 86_400_000;
const TOKEN = "bench-reports-admin-token-0123456789";
const DB = "bench_reports";

const progress = (text: string) => process.stderr.write(`bench:reports: ${text}\n`);
const dir = args.data ?? mkdtempSync(join(tmpdir(), "campus-bench-reports-"));
mkdirSync(dir, { recursive: true });
const log = createLogger("warn");

/** What the data folder holds, so a rerun knows whether it can time it as it is. */
interface Stored {
  devices: number;
  days: number;
  hourly: boolean;
  /** --hourly wrote the power rollups too (data written before they were has no peak demand to time). */
  powerRollups?: boolean;
  toMs: number;
  points: number;
  writeS: number;
}

function routesOf(site: string, fromMs: number, toMs: number, timeZone: string): Route[] {
  const range = `from=${fromMs}&to=${toMs}`;
  // The printable report of the month the middle of the data lies in.
  const middle = wallClock(fromMs + (toMs - fromMs) / 2, timeZone);
  const month = `${middle.year}-${String(middle.month).padStart(2, "0")}`;
  return [
    { label: "monthly report by building", path: `/api/reports/energy?every=month&by=building&${range}`, targetMs: 1_000 },
    { label: "monthly report by room", path: `/api/reports/energy?every=month&by=room&${range}`, targetMs: 2_000 },
    { label: "daily kWh per room, CSV", path: `/api/reports/energy?every=day&by=room&format=csv&${range}`, targetMs: 2_000 },
    // By site the peaks are still read per period from the building power rollup (infra/peak-day-rollup.ts rolls up buildings and rooms).
    { label: "daily kWh per site, CSV", path: `/api/reports/energy?every=day&by=site&format=csv&${range}`, targetMs: null },
    { label: "printable report", path: `/reports/${site}/${month}`, targetMs: 3_000 },
    { label: "energy by device", path: `/api/energy?by=device&every=1d&${range}`, targetMs: 1_000 },
    { label: "energy by room", path: `/api/energy?by=room&every=1d&${range}`, targetMs: null },
    { label: "energy by building", path: `/api/energy?by=building&every=1d&${range}`, targetMs: null },
  ].filter((route) => args.only === undefined || route.path.includes(args.only));
}

const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
try {
  const { file, site } = writeBenchCampus(dir, DEVICES);
  const campus = loadCampus(file);
  const influx = new InfluxClient({ url: influxd.url, db: DB, timeoutMs: 600_000 });
  const storedFile = join(dir, "bench.json");
  let stored: Stored | null = existsSync(storedFile) ? (JSON.parse(readFileSync(storedFile, "utf8")) as Stored) : null;
  const HOURLY = args.hourly === true;
  if (stored !== null && (stored.devices !== DEVICES || stored.days !== DAYS || stored.hourly !== HOURLY)) {
    throw new Error(`${dir} holds ${stored.devices} devices × ${stored.days} days${stored.hourly ? " (--hourly)" : ""}: give another --data folder`);
  }
  if (stored?.hourly && stored.powerRollups !== true) throw new Error(`${dir} holds --hourly data written without the power rollups: give another --data folder`);
  if (stored === null) {
    const toMs = Date.now();
    const how = HOURLY ? "rollups (--hourly)" : "history (as up --demo --history does)";
    progress(`writing ${DAYS} days of ${how} for ${campus.devices.length} devices in ${campus.buildings.length} buildings`);
    const started = performance.now();
    const points = await (HOURLY ? writeHourlyRollup : writePast)(campus, influx, DAYS, toMs, log, progress);
    if (points === 0) throw new Error("no history was written (see the lines above)");
    stored = { devices: DEVICES, days: DAYS, hourly: HOURLY, powerRollups: HOURLY, toMs, points, writeS: (performance.now() - started) / 1000 };
    writeFileSync(storedFile, JSON.stringify(stored));
  } else {
    progress(`timing the data already in ${dir} (${stored.points.toLocaleString("en")} points, written ${new Date(stored.toMs).toISOString()})`);
  }

  const measurement = deviceDayMeasurement(campus);
  let dayRollup = "none";
  if (args["no-day-rollup"]) {
    await influx.query(`DROP MEASUREMENT ${quoteIdentifier(measurement)}`).catch(() => undefined);
    await influx.query(`DROP MEASUREMENT ${quoteIdentifier(completeMeasurement(measurement))}`).catch(() => undefined);
  } else {
    progress("filling the per-device daily energy rollup, as the ingest does");
    const started = performance.now();
    const days = await fillDeviceDays(influx, campus, Date.now());
    dayRollup = `${days} days rolled up per device in ${((performance.now() - started) / 1000).toFixed(1)} s`;
  }

  let peakRollup = "none";
  if (HOURLY) {
    const reporting = new Set(campus.devices.map((device) => device.id));
    if (args["no-peak-rollup"]) {
      for (const by of POWER_ROLLUP_GROUPS) {
        const measurement = peakDayMeasurement(campus, by, reporting);
        for (const name of [measurement, completeMeasurement(measurement)]) await influx.query(`DROP MEASUREMENT ${quoteIdentifier(name)}`).catch(() => undefined);
      }
    } else {
      progress("filling the daily peak-demand rollup, as the ingest does");
      const started = performance.now();
      const days = await fillPeakDayRollup(campus, influx, Date.now());
      peakRollup = `${days} days × groupings in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    }
  }

  const app = buildApp({
    campus,
    tokens: parseApiTokens(`admin:${TOKEN}`),
    state: new LiveState(campus),
    influx,
    ack: async () => ({ ok: false, code: "UNAVAILABLE", message: "no alerts service in this bench" }),
    probes: { mqtt: () => true, influxdb: () => influx.ping() },
    metrics: createRegistry(false),
    log,
  });
  await app.listen({ port: await freePort(), host: "127.0.0.1" });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const timings: Timing[] = [];
  // The last --days local days up to the data's end, as the dashboard asks (from a local midnight to now).
  const fromMs = localDayStart(stored.toMs - (DAYS - 1) * DAY_MS, campus.site.timezone);
  for (const route of routesOf(site, fromMs, stored.toMs, campus.site.timezone)) {
    progress(`timing ${route.path}`);
    const timing = await timeRoute(baseUrl, TOKEN, route, RUNS);
    progress(`  ${timing.status}${timing.timesMs.length > 0 ? `, median ${Math.round(timing.timesMs[Math.floor((timing.timesMs.length - 1) / 2)]!)} ms` : ""}`);
    timings.push(timing);
  }
  await app.close();

  console.log(
    `\nbench:reports — ${campus.devices.length} devices in ${campus.buildings.length} buildings, ${DAYS} days (${stored.points.toLocaleString("en")} ${HOURLY ? "rollup " : ""}points, written in ${stored.writeS.toFixed(0)} s); daily rollup: ${dayRollup}; peak rollup: ${peakRollup}; ` +
      `${RUNS} timed requests per route after one warm-up; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`,
  );
  printTimings(timings);
} finally {
  await influxd.stop();
  if (args.data === undefined) rmSync(dir, { recursive: true, force: true });
}
