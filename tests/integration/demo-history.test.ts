// `up --demo`'s past against the real stack: the real broker, ingest (which makes the retention policies and
// continuous queries), API and InfluxDB; the history writer wired as `up` wires it (cli/up.ts), with the
// ingest's own points, counter rule and rollups. Two days of the demo campus's past: the live view answers
// while they are written, then the energy page shows the past days with kWh, from the filled rollups, and a
// restart writes nothing twice.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type RunningApi } from "../../api/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { DEMO_CAMPUS_FILE, readEnv } from "../../domain/env.js";
import { toLine } from "../../domain/line-protocol.js";
import { loadCampus } from "../../infra/campus-file.js";
import { buildingRollupDevices } from "../../infra/energy-rollup.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { observeCounter } from "../../ingest/energy.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { readingToPoints } from "../../ingest/points.js";
import { rollupSelects } from "../../ingest/retention.js";
import { DAY_MS, historyInstants } from "../../simulator/history.js";
import { startHistoryWriter } from "../../simulator/history-writer.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const VIEWER = "viewer-token-demo-history-01";
const campus = loadCampus(DEMO_CAMPUS_FILE);

let dataDir: string;
let influx: InfluxClient;
let broker: RunningBroker;
let ingest: RunningIngest;
let api: RunningApi;
let ctx: ServiceContext;

const get = async (path: string) => {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${VIEWER}` } });
  return { status: res.status, body: (await res.json()) as any };
};

/** The history writer as `up --demo --history 2d` starts it (cli/up.ts startDemoHistory). */
const writeHistory = (toMs: number, said: string[]) =>
  startHistoryWriter({
    campus, seed: 1, spanMs: 2 * DAY_MS, toMs, influx, log: ctx.log, readingToPoints, observeCounter,
    rollupSelects: (where) => rollupSelects(influx.config.db, where, campus),
    say: (line) => said.push(line),
  });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-demo-history-"));
  influx = await freshDatabase("demo_history");
  const env = readEnv({
    API_TOKENS: `viewer:${VIEWER}`, SERVICE_PASSWORD: "service-password-demo-history", DEVICE_GROUP_KEY: "device-group-key-demo-history",
    HTTP_PORT: "0", INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, LOG_LEVEL: "silent", DATA_DIR: dataDir,
  });
  const base = { campus, log: createLogger("silent"), metrics: createRegistry(false) };
  broker = await startBroker({ ...base, env }, { port: 0, wsPort: 0, host: "127.0.0.1" });
  ctx = { ...base, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` } };
  ingest = await startIngest({ ...ctx, metrics: createRegistry(false) }, { influx });
  api = await startApi({ ...ctx, metrics: createRegistry(false) }, { influx, host: "127.0.0.1" });
  await waitFor(async () => (await influx.query(`SHOW RETENTION POLICIES`)).some((s) => s.values.some((row) => row[0] === "rollup_1h")), 30_000);
  await writeEarlierRun();
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await ingest?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const toMs = Date.now();
// An earlier demo's live readings of one device: an hour a day and a half ago, one a minute, 17 s past the minute.
const EARLIER = "brk-d3-301";
const earlierFrom = Math.floor((toMs - 1.5 * DAY_MS) / 3_600_000) * 3_600_000;
const earlierTo = earlierFrom + 3_600_000;

/** Writes the earlier run's readings as the ingest stored them: its points, its deltas (0.01 kWh a minute). */
async function writeEarlierRun(): Promise<void> {
  const device = campus.deviceById.get(EARLIER)!;
  const lines = [];
  for (let k = 0; k < 60; k++) {
    const [point] = readingToPoints({ device: EARLIER, ts: earlierFrom + k * 60_000 + 17_000, values: { power_w: 600, energy_kwh: 50 + k * 0.01 } }, device);
    if (k > 0) point!.fields.energy_delta_kwh = 0.01;
    lines.push(toLine(point!));
  }
  await influx.write(lines.join("\n"));
}

describe("up --demo --history 2d", () => {

  it("answers the live view while the past is written, then shows the past days with kWh from the rollups", { timeout: 120_000 }, async () => {
    const said: string[] = [];
    const history = writeHistory(toMs, said);
    let doneAt = Infinity;
    void history.done.then(() => (doneAt = performance.now()));
    // The live view, asked as the history starts: it must answer at once, not after the past is in.
    const asked = performance.now();
    const devices = await get("/api/devices");
    const answeredAt = performance.now();
    expect(devices.status).toBe(200);
    expect(devices.body.length).toBe(campus.devices.length);
    expect(answeredAt - asked).toBeLessThan(2_000);
    const written = await history.done;
    expect(answeredAt).toBeLessThan(doneAt);

    // Every device's reading every 5 minutes for two days, all stored, but for the earlier run's hour (12 instants).
    expect(written).toBe((historyInstants(toMs - 2 * DAY_MS, toMs).length - 12) * campus.devices.length);
    expect(said[0]).toMatch(/^history: writing 2 days of the past for 42 devices in the background/);
    expect(said).toContainEqual(expect.stringMatching(/^history: 1\/2 days written and rolled up \([\d,]+ points, [\d.]+ s\)$/));
    expect(said.at(-1)).toMatch(/^history: done, 2 days for 42 devices in [\d.]+ s$/);

    // The rollups filled over the past, which their continuous queries never re-read (> 3 h back).
    const old = `time < ${toMs - 4 * 3_600_000}ms`;
    const [hourly] = rows(await influx.query(`SELECT sum(energy_delta_kwh) FROM "rollup_1h"."electrical" WHERE ${old}`));
    expect(Number(hourly?.sum)).toBeGreaterThan(10);
    const [minutes] = rows(await influx.query(`SELECT count(power_w_mean) FROM "rollup_1m"."electrical" WHERE ${old}`));
    expect(Number(minutes?.count)).toBeGreaterThan(42 * 12 * 24);

    // The energy page: by building, per day, over the two days: every building used kWh on each past day.
    const energy = await get(`/api/energy?by=building&every=1d&from=${toMs - 2 * DAY_MS}&to=${toMs}`);
    expect(energy.status).toBe(200);
    expect(energy.body.source).toMatch(/^energy_building_[0-9a-f]{8}\+/);
    expect(energy.body.series.map((s: any) => s.key).sort()).toEqual(campus.buildings.map((b) => b.id).sort());
    for (const series of energy.body.series) {
      const days = series.points.filter((p: [number, number]) => p[1] > 0);
      expect(days.length, series.key).toBeGreaterThanOrEqual(2);
    }
    expect(energy.body.total_kwh).toBeGreaterThan(10);
    // Over whole hours, what the buildings' root devices' counters rose in raw is what the page sums.
    const [from, to] = [Math.ceil((toMs - 2 * DAY_MS) / 3_600_000) * 3_600_000, Math.floor(toMs / 3_600_000) * 3_600_000];
    const hours = await get(`/api/energy?by=building&every=1d&from=${from}&to=${to}`);
    const roots = buildingRollupDevices(campus).join("|");
    const [raw] = rows(await influx.query(`SELECT sum(energy_delta_kwh) FROM "raw"."electrical" WHERE time >= ${from}ms AND time < ${to}ms AND "phase" = '' AND "device" =~ /^(${roots})$/`));
    expect(Number(raw?.sum)).toBeGreaterThan(10);
    expect(hours.body.total_kwh).toBeCloseTo(Number(raw?.sum), 3);
  });

  it("leaves the instants an earlier run already holds as they were, so their kWh count once", async () => {
    const inHour = `time >= ${earlierFrom}ms AND time < ${earlierTo}ms`;
    const points = rows(await influx.query(`SELECT energy_kwh, energy_delta_kwh FROM "raw"."electrical" WHERE "device" = '${EARLIER}' AND ${inHour}`));
    expect(points.length).toBe(60);
    expect(points.every((p) => new Date(Number(p.time)).getUTCSeconds() === 17)).toBe(true);
    // The first past reading after that hour claims nothing of it: the earlier run counted it already.
    const [next] = rows(await influx.query(`SELECT energy_kwh, energy_delta_kwh FROM "raw"."electrical" WHERE "device" = '${EARLIER}' AND time >= ${earlierTo}ms LIMIT 1`));
    expect(next?.energy_kwh).toBeGreaterThan(0);
    expect(next?.energy_delta_kwh).toBeNull();
  });

  it("writes nothing twice when the demo starts again over the same past", { timeout: 120_000 }, async () => {
    const before = await get(`/api/energy?by=building&every=1d&from=${toMs - 2 * DAY_MS}&to=${toMs}`);
    const said: string[] = [];
    const again = writeHistory(toMs + 60_000, said);
    expect(await again.done).toBeLessThanOrEqual(campus.devices.length);
    const after = await get(`/api/energy?by=building&every=1d&from=${toMs - 2 * DAY_MS}&to=${toMs}`);
    expect(after.body.total_kwh).toBeCloseTo(before.body.total_kwh, 3);
  });
});
