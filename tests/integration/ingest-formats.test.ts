// The ingest end to end on real parts (broker, mqtt.js devices with their own credentials, influxd):
// every golden fixture of every format, energy counters with resets, duplicates and two workers,
// 500 malformed payloads among valid ones, the retention policies, rollups and the backfill command.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient, UniqueMessageIdProvider } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { type Campus } from "../../domain/campus.js";
import { loadCampus } from "../../infra/campus-file.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { finishesWithin } from "../../infra/timeout.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { buildingRollupContinuousQuery, buildingRollupDevices, buildingRollupMeasurement } from "../../api/energy-building-rollup.js";
import { readEnergyReporters } from "../../infra/energy-rollup.js";
import { POWER_ROLLUP_GROUPS, powerRollupContinuousQuery, readPowerReporters } from "../../infra/power-rollup.js";
import { runBackfill } from "../../cli/backfill.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/formats");
const CAMPUS_FILE = join(FIXTURES, "campus.yaml");
const KEY = "formats-group-key-0123456789";
const PASSWORD = "formats-service-password";
let campus: Campus;
let dir: string;
let broker: RunningBroker;
let influx: InfluxClient;
let ingest: RunningIngest;
let metrics: Registry;
const devices = new Map<string, MqttClient>();
const environment = (extra: Record<string, string> = {}) => ({
  DATA_DIR: dir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, INFLUX_URL: influxUrl(), INFLUX_DB: influx?.config.db ?? "x", CAMPUS_CONFIG: CAMPUS_FILE,
  MQTT_URL: `mqtt://127.0.0.1:${broker?.tcpPort ?? 1883}`, LOG_LEVEL: "silent", ...extra,
});
const context = (registry: Registry = createRegistry(false)): ServiceContext => ({ env: readEnv(environment()), campus, log: createLogger("silent"), metrics: registry });

async function device(id: string): Promise<MqttClient> {
  let client = devices.get(id);
  if (!client) {
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
      protocolVersion: 4, clientId: `${id}-${randomBytes(3).toString("hex")}`, username: id, password: devicePassword(id, KEY), reconnectPeriod: 0,
      messageIdProvider: new UniqueMessageIdProvider(),
    });
    devices.set(id, client);
  }
  return client;
}
const publish = async (id: string, topic: string, payload: string | Buffer) => (await device(id)).publishAsync(topic, payload, { qos: 1 });
const select = async (query: string) => rows(await influx.query(query));
/** Waits until the ingest has received `count` more messages than `before`, then until they are stored. */
async function settle(before: number, count: number, target: RunningIngest = ingest, registry: Registry = metrics) {
  await waitFor(async () => (await metric(registry, "campus_power_ingest_messages_total")) - before >= count, 15_000, 20);
  await target.flush();
}
const received = () => metric(metrics, "campus_power_ingest_messages_total");
const metric = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
  const found = registry.getSingleMetric(name);
  if (!found) return 0;
  return (await found.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
};

beforeAll(async () => {
  campus = loadCampus(CAMPUS_FILE);
  dir = mkdtempSync(join(tmpdir(), "campus-formats-"));
  influx = new InfluxClient({ url: influxUrl(), db: `formats_${randomBytes(4).toString("hex")}` });
  broker = await startBroker(context(), { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  metrics = createRegistry(false);
  ingest = await startIngest(context(metrics), { influx, clientId: "formats-ingest" });
});

afterAll(async () => {
  await Promise.all([...devices.values()].map((c) => c.endAsync(true).catch(() => undefined)));
  await ingest?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `measurement,tags fields ts` → {measurement, tags, fields} (string fields may hold spaces and commas). */
function parseLine(line: string) {
  const head = line.slice(0, line.indexOf(" "));
  const body = line.slice(head.length + 1, line.lastIndexOf(" "));
  const [measurement, ...tagParts] = head.split(",");
  const tags = Object.fromEntries(tagParts.map((t) => t.split("=") as [string, string]));
  const fields: Record<string, unknown> = {};
  for (const match of body.matchAll(/([a-z_]+)=("(?:[^"\\]|\\.)*"|[^,]+)/g)) {
    const raw = match[2]!;
    fields[match[1]!] = raw.startsWith('"') ? JSON.parse(raw) : raw === "true" ? true : raw === "false" ? false : Number(raw);
  }
  return { measurement: measurement!, tags, fields };
}

describe("the ingest end to end", () => {
  it("stores every golden fixture of every format as the fixture expects", async () => {
    const cases: { name: string; topic: string; payload: Buffer; lines: string[] }[] = [];
    for (const format of readdirSync(FIXTURES).filter((f) => statSync(join(FIXTURES, f)).isDirectory())) {
      for (const name of readdirSync(join(FIXTURES, format)).sort()) {
        const caseDir = join(FIXTURES, format, name);
        // A case that needs a previous state or a receive time of its own only holds in the unit walker.
        if (existsSync(join(caseDir, "context.json"))) continue;
        const payloadFile = existsSync(join(caseDir, "payload.json")) ? "payload.json" : "payload.txt";
        const expected = JSON.parse(readFileSync(join(caseDir, "expected.json"), "utf8")) as { lines: string[] };
        if (expected.lines.length === 0) continue;
        cases.push({ name: `${format}/${name}`, topic: readFileSync(join(caseDir, "topic"), "utf8").trim(), payload: readFileSync(join(caseDir, payloadFile)), lines: expected.lines });
      }
    }
    expect(cases.length).toBeGreaterThanOrEqual(25);
    const before = await received();
    for (const c of cases) {
      const owner = parseLine(c.lines[0]!).tags.device!;
      await publish(owner, c.topic, c.payload);
      await new Promise((resolve) => setTimeout(resolve, 5)); // receive-time stamps of one device must differ
    }
    await settle(before, cases.length);
    for (const c of cases) {
      for (const line of c.lines) {
        const { measurement, tags, fields } = parseLine(line);
        const where = Object.entries(tags).map(([k, v]) => `"${k}" = '${v}'`).join(" AND ");
        const stored = await select(`SELECT * FROM "${measurement}" WHERE ${where}`);
        const match = stored.find((row) => Object.entries(fields).every(([k, v]) => row[k] === v));
        expect(match, `${c.name}: ${line}`).toBeDefined();
      }
    }
  });

  it("derives energy deltas that survive resets, glitch zeros, gaps, duplicates and out-of-order points", async () => {
    const t0 = Date.now() - 2 * 3_600_000;
    const m = (minute: number) => t0 + minute * 60_000;
    // [minute, kWh]: +0.5, +0.25, reboot to 0 (new cycle), +0.2, duplicate, a glitch zero, back to 0.45, a 30 min gap +1.
    const sent: [number, number][] = [[0, 100], [1, 100.5], [3, 100.75], [2, 100.6], [4, 0], [5, 0.2], [5, 0.2], [6, 0], [7, 0.45], [37, 1.45]];
    const before = await received();
    for (const [minute, kwh] of sent) await publish("brk-d1-102", "campus/devices/brk-d1-102/telemetry", JSON.stringify({ ts: m(minute), energy_kwh: kwh }));
    await settle(before, sent.length);
    const points = await select(`SELECT energy_kwh, energy_delta_kwh FROM electrical WHERE device = 'brk-d1-102' AND time >= ${m(0)}ms AND time <= ${m(37)}ms`);
    expect(points.map((p) => [(Number(p.time) - t0) / 60_000, p.energy_delta_kwh])).toEqual([
      [0, null], [1, 0.5], [2, 0.1], [3, 0.15], [4, 0], [5, 0.2], [6, 0], [7, 0.25], [37, 1],
    ]);
    const [total] = await select(`SELECT sum(energy_delta_kwh) FROM electrical WHERE device = 'brk-d1-102'`);
    expect(total!.sum).toBeCloseTo(0.75 + 0.2 + 0.25 + 1, 9); // never negative, no phantom spike, nothing twice
  });

  it("reads a Zigbee2MQTT bridge's devices from its one connection, which may not speak for other devices", async () => {
    // As Zigbee2MQTT does: one connection, its bridge state as last will and retained, `<base>/#` subscribed.
    const bridge = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
      protocolVersion: 4, clientId: "z2m-lab-bridge", username: "z2m-lab", password: devicePassword("z2m-lab", KEY), reconnectPeriod: 0,
      will: { topic: "zigbee2mqtt/bridge/state", payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    const closed = new Promise<void>((resolve) => bridge.once("close", () => resolve()));
    try {
      await bridge.subscribeAsync("zigbee2mqtt/#", { qos: 1 });
      const before = await received();
      await bridge.publishAsync("zigbee2mqtt/bridge/state", '{"state":"online"}', { qos: 1, retain: true });
      await bridge.publishAsync("zigbee2mqtt/a-sensor-not-in-the-campus", '{"temperature":21.5}', { qos: 1 });
      await bridge.publishAsync("zigbee2mqtt/lab/Desk plug 2/availability", '{"state":"online"}', { qos: 1, retain: true });
      await bridge.publishAsync("zigbee2mqtt/lab/Desk plug 2", JSON.stringify({ state: "ON", power: 812.5, voltage: 221.3, current: 3.7, energy: 12.25 }), { qos: 1 });
      await settle(before, 2); // the ingest reads the campus device's two topics, nothing else of the bridge's
      const [point] = await select(`SELECT power_w, voltage_v, current_a, energy_kwh FROM electrical WHERE device = 'plug-c1-z2m'`);
      expect(point).toMatchObject({ power_w: 812.5, voltage_v: 221.3, current_a: 3.7, energy_kwh: 12.25 });
      const [status] = await select(`SELECT last(online) FROM device_status WHERE device = 'plug-c1-z2m'`);
      expect(status!.last).toBe(true);
      // A command to a device is not the bridge's to give (only the service account commands): refused, disconnected.
      bridge.publish("zigbee2mqtt/lab/din-breaker-1/set", JSON.stringify({ state: "OFF" }), { qos: 1 });
      expect(await finishesWithin(closed, 5_000)).toBe(true);
    } finally {
      await bridge.endAsync(true).catch(() => undefined);
    }
  });

  it("writes one point for a reading sent twice, and for one written by two ingest workers", async () => {
    const registry = createRegistry(false);
    const second = await startIngest(context(registry), { influx, clientId: "formats-ingest-2" });
    const t0 = Date.now() - 3_600_000;
    const before = await received();
    for (let i = 0; i < 200; i++) await publish("brk-c1-main", "campus/devices/brk-c1-main/telemetry", JSON.stringify({ ts: t0 + i * 1_000, power_w: i }));
    await publish("brk-c1-main", "campus/devices/brk-c1-main/telemetry", JSON.stringify({ ts: t0, power_w: 0 })); // redelivered by the device
    await Promise.all([settle(before, 201), settle(0, 201, second, registry)]);
    expect(await metric(registry, "campus_power_ingest_readings_stored_total")).toBe(201);
    const [count] = await select(`SELECT count(power_w) FROM electrical WHERE device = 'brk-c1-main'`);
    expect(count!.count).toBe(200);
    await second.stop();
  });

  it("stores every valid reading among 500 malformed payloads and counts each malformed one", async () => {
    const malformed = [
      () => "not json at all",
      () => JSON.stringify({ power_w: "high" }),
      () => JSON.stringify({ power_w: 1, watts: 2 }),
      () => JSON.stringify([]),
      () => Buffer.from([0xff, 0x00, 0xfe]),
      () => JSON.stringify({ ts: Date.now(), voltage_v: 5_000 }),
      () => "{\"power_w\": 1",
      () => JSON.stringify({ phases: { L4: { power_w: 1 } } }),
    ];
    const before = await metric(metrics, "campus_power_ingest_refusals_total");
    const t0 = Date.now() - 30 * 60_000;
    const received0 = await received();
    for (let i = 0; i <= 500; i++) {
      await publish("feeder-d1", "campus/devices/feeder-d1/telemetry", JSON.stringify({ ts: t0 + i * 100, leakage_ma: i }));
      if (i < 500) await publish("feeder-d1", "campus/devices/feeder-d1/telemetry", malformed[i % malformed.length]!());
    }
    await settle(received0, 1_001);
    const [count] = await select(`SELECT count(leakage_ma) FROM electrical WHERE device = 'feeder-d1'`);
    expect(count!.count).toBe(501);
    expect((await metric(metrics, "campus_power_ingest_refusals_total")) - before).toBe(500);
  });

  it("keeps raw data in the default `raw` policy, rolls up with continuous queries, and backfills past data", async () => {
    const policies = (await influx.query(`SHOW RETENTION POLICIES ON "${influx.config.db}"`))[0]!.values.map((v) => [v[0], v[1], v[4]]);
    expect(policies).toEqual(expect.arrayContaining([["raw", "2160h0m0s", true], ["rollup_1m", "9600h0m0s", false], ["rollup_1h", "0s", false]]));
    const queries = async () => (await influx.query("SHOW CONTINUOUS QUERIES")).find((s) => s.name === influx.config.db)?.values.map((v) => v[0]);
    // The hourly per-building energy rollup the API's by=building energy reads (exactly its text), summing the
    // devices counted given which devices the earlier tests' readings show to report energy_kwh (the ingest's
    // catch-up follows them: infra/energy-rollup.ts countedDevices).
    const expected = async () => buildingRollupContinuousQuery(influx.config.db, campus, await readEnergyReporters(influx));
    await waitFor(async () => (await queries())?.[2] === (await expected()).name, 15_000, { what: "the building rollup's query for the devices reporting energy" });
    // And the peak-demand rollups per building and per room, for the devices reporting power (infra/power-rollup.ts).
    const power = async () => {
      const reporting = await readPowerReporters(influx);
      return POWER_ROLLUP_GROUPS.map((by) => powerRollupContinuousQuery(influx.config.db, campus, by, reporting).name).sort();
    };
    await waitFor(async () => JSON.stringify((await queries())?.slice(3).sort()) === JSON.stringify(await power()), 15_000, { what: "the power rollups' queries for the devices reporting power" });
    expect(await queries()).toEqual(["cq_electrical_1m", "cq_electrical_1h", (await expected()).name, ...(await queries())!.slice(3)]);
    expect((await queries())!.slice(3).sort()).toEqual(await power());
    const building = (await influx.query("SHOW CONTINUOUS QUERIES")).find((s) => s.name === influx.config.db)!.values[2]![1] as string;
    expect(building.replace(/["\s]/g, "").toLowerCase()).toBe((await expected()).text.replace(/["\s]/g, "").toLowerCase());

    const hour = Math.floor((Date.now() - 5 * 3_600_000) / 3_600_000) * 3_600_000;
    const before = await received();
    for (let i = 0; i < 20; i++) {
      const reading = { ts: hour + i * 15_000, power_w: 100 + i, current_a: i / 10, voltage_v: 220, energy_kwh: 50 + i * 0.01, phases: { L1: { current_a: 99 } } };
      await publish("brk-d1-main", "campus/devices/brk-d1-main/telemetry", JSON.stringify(reading));
    }
    await settle(before, 20);
    // dorm-1's root meter (what the building energy rollup sums), counting 0.02 kWh per reading.
    const beforeFeeder = await received();
    for (let i = 0; i < 20; i++) await publish("feeder-d1", "campus/devices/feeder-d1/telemetry", JSON.stringify({ ts: hour + i * 15_000, power_w: 80, energy_kwh: 10 + i * 0.02 }));
    await settle(beforeFeeder, 20);
    const lines: string[] = [];
    const result = await runBackfill({ from: new Date(hour).toISOString(), to: new Date(hour + 3_600_000).toISOString(), write: (l) => lines.push(l) }, environment());
    expect(result.written).toBeGreaterThanOrEqual(6);
    const minutes = await select(`SELECT * FROM "rollup_1m"."electrical" WHERE device = 'brk-d1-main'`);
    expect(minutes).toHaveLength(5); // 20 readings, 15 s apart
    expect(minutes[0]).toMatchObject({ time: hour, site: "test-school", building: "dorm-1", kind: "breaker", power_w_mean: 101.5, power_w_max: 103, current_a_max: 0.3, voltage_v_mean: 220 });
    const [hourly] = await select(`SELECT * FROM "rollup_1h"."electrical" WHERE device = 'brk-d1-main'`);
    expect(hourly).toMatchObject({ time: hour, site: "test-school", power_w_max: 119, current_a_max: 1.9 }); // per-phase 99 A excluded
    expect(hourly!.energy_delta_kwh).toBeCloseTo(0.19, 9);
    expect(lines.at(-1)).toMatch(/^backfill done/);
    expect(lines.some((l) => /building energy rollup: [1-9]/.test(l)), lines.join("\n")).toBe(true);
    const measurement = buildingRollupMeasurement(campus);
    expect(buildingRollupDevices(campus)).toEqual(["brk-c1-main", "feeder-d1"]);
    const byBuilding = await select(`SELECT * FROM "rollup_1h"."${measurement}" WHERE building = 'dorm-1'`);
    expect(byBuilding).toHaveLength(1);
    expect(byBuilding[0]).toMatchObject({ time: hour, building: "dorm-1" });
    expect(byBuilding[0]!.energy_delta_kwh).toBeCloseTo(0.38, 9); // the feeder only: brk-d1-main is below it
  });
});
