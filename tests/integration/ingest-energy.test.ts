// The energy counter's state (ingest/energy.ts, saved with the spool checkpoint) across a restart of the
// ingest and across a SIGKILL of its process: no phantom kWh (a delta booked against a lost or reset
// baseline, or twice) and no lost kWh. The real broker, a real influxd (the suite's), a real mqtt.js
// device whose counter rises 0.01 kWh a minute; the sum of `energy_delta_kwh` in InfluxDB must equal the
// counter's rise, and every reading but the very first must carry exactly its 0.01 kWh.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient, UniqueMessageIdProvider } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { startIngest } from "../../ingest/index.js";
import { startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const CAMPUS = "tests/fixtures/test-campus.yaml";
const GROUP_KEY = "energy-group-key-0123456789";
const SERVICE_PASSWORD = "energy-service-password";
const STEP_KWH = 0.01;
const T0 = Date.now() - 4 * 3_600_000;

let dir: string;
let broker: RunningBroker;
const clients: MqttClient[] = [];

const env = (dataDir: string, db: string) => ({
  CAMPUS_CONFIG: CAMPUS, DATA_DIR: dataDir, DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD,
  MQTT_URL: `mqtt://127.0.0.1:${broker.tcpPort}`, INFLUX_URL: influxUrl(), INFLUX_DB: db,
});
const context = (vars: Record<string, string>): ServiceContext =>
  ({ env: readEnv({ ...vars, LOG_LEVEL: "silent" }), campus: loadCampus(CAMPUS), log: createLogger("silent"), metrics: createRegistry(false) });

/** A device whose reading number k (one a minute) carries the counter 12.3 + k × 0.01 kWh. */
async function meter(id: string) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
    protocolVersion: 4, clientId: `${id}-${randomBytes(3).toString("hex")}`, username: id, password: devicePassword(id, GROUP_KEY),
    reconnectPeriod: 0, messageIdProvider: new UniqueMessageIdProvider(),
  });
  clients.push(client);
  const ts = (k: number) => T0 + k * 60_000;
  const send = (k: number) =>
    client.publishAsync(`campus/devices/${id}/telemetry`, JSON.stringify({ ts: ts(k), power_w: 600, energy_kwh: Math.round((12.3 + k * STEP_KWH) * 1000) / 1000 }), { qos: 1 });
  return { ts, send };
}

/** Sends readings `from` … `to` − 1 with up to 20 unacknowledged; `at(k)` runs before reading k. */
async function sendRange(send: (k: number) => Promise<unknown>, from: number, to: number, at: (k: number) => Promise<void> | void = () => undefined) {
  const inFlight = new Set<Promise<unknown>>();
  for (let k = from; k < to; k++) {
    await at(k);
    const p = send(k);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 20) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

const energyPoints = async (influx: InfluxClient, device: string) =>
  rows(await influx.query(`SELECT energy_kwh, energy_delta_kwh FROM electrical WHERE device = '${device}' AND "phase" = ''`).catch(() => []));

/** Waits until InfluxDB holds `count` readings of the device, then checks every delta and their sum. */
async function expectEveryKwhOnce(influx: InfluxClient, device: string, count: number) {
  await waitFor(async () => (await energyPoints(influx, device)).length === count, 60_000, { intervalMs: 250, what: `${count} readings of ${device}` });
  const points = await energyPoints(influx, device);
  expect(points[0]!.energy_delta_kwh).toBeNull(); // the first reading ever has no predecessor
  const wrong = points.slice(1).filter((p) => typeof p.energy_delta_kwh !== "number" || Math.abs(p.energy_delta_kwh - STEP_KWH) > 1e-9);
  expect(wrong, "readings without their 0.01 kWh (lost) or with another delta (phantom)").toEqual([]);
  const [total] = rows(await influx.query(`SELECT sum(energy_delta_kwh) FROM electrical WHERE device = '${device}'`));
  expect(total!.sum).toBeCloseTo((count - 1) * STEP_KWH, 9); // the counter's rise, from the first reading to the last
}

/** The newest counter reading of the device in the spool's checkpoint on disk (null before the first). */
function checkpointedTs(spoolDir: string, device: string): number | null {
  const file = join(spoolDir, "checkpoint.json");
  if (!existsSync(file)) return null;
  const { state } = JSON.parse(readFileSync(file, "utf8")) as { state: Record<string, { ts: number }[]> | null };
  const window = Object.entries(state ?? {}).find(([series]) => series.includes(`device=${device},`) || series.endsWith(`device=${device}`))?.[1];
  return window?.at(-1)?.ts ?? null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-energy-"));
  // No broker journal: it would hand the child ingest (`campus-ingest`) readings of the in-process test.
  broker = await startBroker(context({ DATA_DIR: dir, DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD }), { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the energy counter across ingest restarts", () => {
  it("books every kWh once across a stop and start of the ingest, readings sent meanwhile included", async () => {
    const db = `energy_restart_${randomBytes(3).toString("hex")}`;
    const vars = env(join(dir, "restart"), db);
    const influx = new InfluxClient({ url: influxUrl(), db });
    const device = await meter("brk-d1-101");
    let ingest = await startIngest(context(vars), { influx, clientId: "energy-restart" });
    await sendRange(device.send, 0, 50);
    await waitFor(async () => (await energyPoints(influx, "brk-d1-101")).length === 50, 30_000, { what: "the first 50 readings" });
    await ingest.stop();
    await sendRange(device.send, 50, 100); // kept by the broker for the ingest's persistent session
    ingest = await startIngest(context(vars), { influx, clientId: "energy-restart" });
    try {
      await expectEveryKwhOnce(influx, "brk-d1-101", 100);
    } finally {
      await ingest.stop();
    }
  }, 90_000);

  it("books every kWh once across SIGKILLs of the ingest process, under load and when idle", async () => {
    const db = `energy_sigkill_${randomBytes(3).toString("hex")}`;
    const vars = { ...env(join(dir, "sigkill"), db), LOG_LEVEL: "info" };
    const spoolDir = join(vars.DATA_DIR, "ingest", "campus-ingest");
    const influx = new InfluxClient({ url: influxUrl(), db });
    const device = await meter("brk-d1-102");
    let child = startCli(["ingest"], vars);
    const killAndRestart = async () => {
      child.child.kill("SIGKILL");
      await new Promise((resolve) => child.child.once("exit", resolve));
      child = startCli(["ingest"], vars);
    };
    try {
      await child.waitForOutput(/ingest started/);
      // Under load: writes in flight, a checkpoint up to a second old; the restart replays from it.
      await sendRange(device.send, 0, 100, (k) => (k === 60 ? killAndRestart() : undefined));
      await child.waitForOutput(/ingest started/);
      await waitFor(async () => (await energyPoints(influx, "brk-d1-102")).length === 100, 30_000, { what: "the first 100 readings" });
      // Idle: one reading a little apart until the checkpoint on disk holds the last one, so that nothing
      // is replayed and the next reading's delta can only come from the counter state saved with it.
      let sent = 100;
      await waitFor(async () => {
        await device.send(sent++);
        return (await waitFor(() => checkpointedTs(spoolDir, "brk-d1-102") === device.ts(sent - 1), 1_500, 50)) === true;
      }, 20_000, { intervalMs: 50, what: "a checkpoint holding the last reading" });
      await killAndRestart();
      await sendRange(device.send, sent, sent + 40); // while the ingest starts again
      await child.waitForOutput(/ingest started/);
      await expectEveryKwhOnce(influx, "brk-d1-102", sent + 40);
    } finally {
      await child.stop("SIGKILL");
    }
  }, 120_000);
});
