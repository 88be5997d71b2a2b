// The ingest end to end: the real broker on ephemeral ports, a real influxd (a new database the ingest
// creates itself), real mqtt.js device clients with real credentials, a real DATA_DIR.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import type { Reading } from "../../domain/reading.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { connectService } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/test-campus.yaml");
const GROUP_KEY = "ingest-test-group-key-0123456789";
const SERVICE_PASSWORD = "ingest-test-service-password";

let dataDir: string;
let broker: RunningBroker;
let influx: InfluxClient;
let ctx: ServiceContext;
let ingest: RunningIngest;
let observer: MqttClient;
const seen: { topic: string; payload: string; retain: boolean }[] = [];
const devices = new Map<string, MqttClient>();

function contextFor(env: Record<string, string>, metrics: Registry = createRegistry(false)): ServiceContext {
  const full = readEnv({
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    DEVICE_GROUP_KEY: GROUP_KEY,
    SERVICE_PASSWORD,
    INFLUX_URL: influxUrl(),
    MQTT_URL: `mqtt://127.0.0.1:${broker?.tcpPort ?? 1883}`,
    ...env,
  });
  return { env: full, campus: loadCampus(FIXTURE), log: createLogger("silent"), metrics };
}

async function device(id: string): Promise<MqttClient> {
  const existing = devices.get(id);
  if (existing) return existing;
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
    protocolVersion: 4,
    clientId: `${id}-${randomBytes(3).toString("hex")}`,
    username: id,
    password: devicePassword(id, GROUP_KEY),
    reconnectPeriod: 0,
  });
  devices.set(id, client);
  return client;
}

const publish = async (id: string, topic: string, payload: string | Buffer) => (await device(id)).publishAsync(topic, payload, { qos: 1 });
const select = async (query: string) => rows(await influx.query(query));
const until = <T>(check: () => Promise<T>) => waitFor(check, 10_000, 100);

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-ingest-"));
  broker = await startBroker(contextFor({}), { port: 0, wsPort: 0, host: "127.0.0.1" });
  // A database that does not exist yet: the ingest must create it.
  influx = new InfluxClient({ url: influxUrl(), db: `ingest_${randomBytes(4).toString("hex")}` });
  ctx = contextFor({ INFLUX_DB: influx.config.db });
  ingest = await startIngest(ctx, { influx, clientId: "campus-ingest-test" });
  observer = await connectService(ctx.env.mqttUrl, SERVICE_PASSWORD, "ingest-test-observer");
  observer.on("message", (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await observer.subscribeAsync("campus/internal/#", { qos: 1 });
});

afterAll(async () => {
  await Promise.all([...devices.values()].map((c) => c.endAsync(true).catch(() => undefined)));
  await observer?.endAsync(true).catch(() => undefined);
  await ingest?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the ingest service", () => {
  it("creates its database and says InfluxDB is reachable", async () => {
    const names = rows(await new InfluxClient({ url: influxUrl(), db: "_internal" }).query("SHOW DATABASES")).map((r) => r.name);
    expect(names).toContain(influx.config.db);
    expect(ingest.influxReachable).toBe(true);
  });

  it("stores a single reading with the device's tags and fields, and streams it normalised", async () => {
    const ts = Date.now() - 5_000;
    const reading = { ts: new Date(ts).toISOString(), voltage_v: 221.4, current_a: 4.2, power_w: 920.5, energy_kwh: 1532.25, switch_on: true };
    await publish("brk-d1-101", "campus/devices/brk-d1-101/telemetry", JSON.stringify(reading));
    // Each field is a series of its own in InfluxDB 1.x: a query while the write lands may see some fields of the
    // point and not yet the others (seen under load: voltage_v only), so wait for the last field before comparing.
    const stored = await until(() => select(`SELECT * FROM electrical WHERE device = 'brk-d1-101'`).then((r) => (r[0]?.switch_on == null ? undefined : r[0])));
    expect(stored).toEqual({
      time: ts,
      site: "test-school",
      device: "brk-d1-101",
      kind: "breaker",
      building: "dorm-1",
      room: "101",
      ...(stored && "phase" in stored ? { phase: null } : {}), // the column exists once any per-phase point does
      voltage_v: 221.4,
      current_a: 4.2,
      power_w: 920.5,
      energy_kwh: 1532.25,
      switch_on: true,
    });
    const streamed = await until(async () => seen.find((m) => m.topic === "campus/internal/readings/brk-d1-101"));
    expect(JSON.parse(streamed!.payload) as Reading).toEqual({
      device: "brk-d1-101",
      ts,
      values: { voltage_v: 221.4, current_a: 4.2, power_w: 920.5, energy_kwh: 1532.25, switch_on: true },
    });
    expect(await metricValue(ctx.metrics, "campus_power_ingest_messages_total", { kind: "telemetry", format: "native" })).toBeGreaterThanOrEqual(1);
  });

  it("stores every reading of a batch array", async () => {
    const start = Date.now() - 60 * 60_000;
    const batch = Array.from({ length: 120 }, (_, i) => ({ ts: start + i * 10_000, power_w: 100 + i }));
    await publish("brk-c1-main", "campus/devices/brk-c1-main/telemetry", JSON.stringify(batch));
    const count = await until(() =>
      select(`SELECT count(power_w) FROM electrical WHERE device = 'brk-c1-main'`).then((r) => (r[0]?.count === 120 ? r[0] : undefined)),
    );
    expect(count?.count).toBe(120);
    const last = await select(`SELECT last(power_w) FROM electrical WHERE device = 'brk-c1-main'`);
    expect(last[0]).toMatchObject({ time: start + 119 * 10_000, last: 219 });
  });

  it("stores a 3-phase reading as a totals point and one point per phase", async () => {
    const ts = Date.now() - 3_000;
    const reading = {
      ts,
      power_w: 2700,
      leakage_ma: 35,
      phases: { L1: { voltage_v: 221, current_a: 4.1, power_w: 900 }, L2: { voltage_v: 219, current_a: 4 }, L3: { voltage_v: 220, current_a: 4.3 } },
    };
    await publish("feeder-d1", "campus/devices/feeder-d1/telemetry", JSON.stringify(reading));
    // Waits for the whole shape, a totals row (no `phase`) and one row per phase, not just four rows: one CI
    // run read four rows with no totals row among them, once, and never again in hundreds of runs.
    let last: Record<string, unknown>[] = [];
    const phasesOf = (r: Record<string, unknown>[]) => r.map((row) => String(row.phase)).sort().join(",");
    const stored = await until(() =>
      select(`SELECT * FROM electrical WHERE device = 'feeder-d1'`).then((r) => ((last = r), phasesOf(r) === "L1,L2,L3,null" ? r : undefined)),
    );
    expect(stored, `rows read last: ${JSON.stringify(last)}`).toBeDefined();
    const byPhase = Object.fromEntries(stored!.map((r) => [String(r.phase), r]));
    expect(byPhase.null).toMatchObject({ time: ts, kind: "meter", building: "dorm-1", room: null, power_w: 2700, leakage_ma: 35, current_a: null });
    expect(byPhase.L1).toMatchObject({ voltage_v: 221, current_a: 4.1, power_w: 900, leakage_ma: null });
    expect(byPhase.L2).toMatchObject({ voltage_v: 219, current_a: 4, power_w: null });
    expect(byPhase.L3).toMatchObject({ voltage_v: 220, current_a: 4.3 });
  });

  it("stores a status and an event", async () => {
    const before = Date.now();
    await publish("brk-d1-102", "campus/devices/brk-d1-102/status", "offline");
    await publish("brk-d1-102", "campus/devices/brk-d1-102/events", JSON.stringify({ ts: before - 1_000, type: "trip", reason: "overload", detail: "21.3 A" }));
    const status = await until(() => select(`SELECT * FROM device_status WHERE device = 'brk-d1-102'`).then((r) => r[0]));
    expect(status).toMatchObject({ site: "test-school", building: "dorm-1", online: false });
    expect(status!.time as number).toBeGreaterThanOrEqual(before);
    const event = await until(() => select(`SELECT * FROM device_event WHERE device = 'brk-d1-102'`).then((r) => r[0]));
    expect(event).toEqual({ time: before - 1_000, site: "test-school", device: "brk-d1-102", building: "dorm-1", type: "trip", reason: "overload", detail: "21.3 A" });
    const statusStream = await until(async () => seen.find((m) => m.topic === "campus/internal/status/brk-d1-102"));
    expect(JSON.parse(statusStream!.payload)).toMatchObject({ device: "brk-d1-102", online: false });
    expect(await until(async () => seen.find((m) => m.topic === "campus/internal/events/brk-d1-102"))).toBeTruthy();
  });

  it("stores a Tasmota SENSOR with its zone-less Time read in the site's zone (Asia/Shanghai)", async () => {
    const instant = Math.floor((Date.now() - 60_000) / 1000) * 1000; // Tasmota's Time has whole seconds
    const shanghaiWallTime = new Date(instant + 8 * 3_600_000).toISOString().slice(0, 19); // UTC+8, no DST
    const payload = { Time: shanghaiWallTime, ENERGY: { TotalStartTime: "2022-03-20T15:20:48", Total: 514.153, Today: 0.537, Power: 56, Factor: 0.61, Voltage: 234, Current: 0.392 } };
    await publish("plug-d1-101-a", "tele/tasmota_5A1B2C/SENSOR", JSON.stringify(payload));
    await publish("plug-d1-101-a", "tele/tasmota_5A1B2C/LWT", "Online");
    const stored = await until(() => select(`SELECT * FROM electrical WHERE device = 'plug-d1-101-a'`).then((r) => r[0]));
    expect(stored).toMatchObject({ time: instant, kind: "socket", room: "101", power_w: 56, energy_kwh: 514.153, voltage_v: 234, current_a: 0.392, power_factor: 0.61 });
    const status = await until(() => select(`SELECT * FROM device_status WHERE device = 'plug-d1-101-a'`).then((r) => r[0]));
    expect(status).toMatchObject({ online: true });
    expect(await metricValue(ctx.metrics, "campus_power_ingest_messages_total", { format: "tasmota" })).toBe(2);
  });

  it("stores every valid reading around invalid payloads, and counts and dead-letters the invalid ones", async () => {
    const t0 = Date.now() - 30_000;
    const valid = (i: number) => JSON.stringify({ ts: t0 + i, power_w: i });
    const huge = JSON.stringify({ power_w: 1, padding: "x".repeat(300 * 1024) });
    const sequence: (string | Buffer)[] = [
      valid(1),
      "this is not JSON",
      valid(2),
      JSON.stringify({ power_w: "lots" }),
      valid(3),
      JSON.stringify({ power_w: 5, wattage: 5 }),
      valid(4),
      huge,
      valid(5),
      Buffer.from([0xff, 0xfe, 0x00]),
      valid(6),
    ];
    for (const payload of sequence) await publish("brk-d1-102", "campus/devices/brk-d1-102/telemetry", payload);
    // A device missing from the campus (only the service account can even try: the broker refuses unknown users).
    await observer.publishAsync("campus/devices/ghost-device/telemetry", valid(7), { qos: 1 });

    const stored = await until(() =>
      select(`SELECT power_w FROM electrical WHERE device = 'brk-d1-102'`).then((r) => (r.length === 6 ? r : undefined)),
    );
    expect(stored!.map((r) => r.power_w)).toEqual([1, 2, 3, 4, 5, 6]);

    const refusals = (code: string) => metricValue(ctx.metrics, "campus_power_ingest_refusals_total", { code });
    await until(async () => (await refusals("UNKNOWN_DEVICE")) === 1);
    expect(await refusals("PAYLOAD_NOT_JSON")).toBe(2);
    expect(await refusals("PAYLOAD_INVALID")).toBe(2);
    expect(await refusals("PAYLOAD_TOO_LARGE")).toBe(1);
    expect(await refusals("UNKNOWN_DEVICE")).toBe(1);

    await ingest.flush();
    const dir = join(dataDir, "dead-letter");
    const lines = readdirSync(dir)
      .flatMap((file) => readFileSync(join(dir, file), "utf8").trim().split("\n"))
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => [l.device, l.code])).toEqual([
      ["brk-d1-102", "PAYLOAD_NOT_JSON"],
      ["brk-d1-102", "PAYLOAD_INVALID"],
      ["brk-d1-102", "PAYLOAD_INVALID"],
      ["brk-d1-102", "PAYLOAD_TOO_LARGE"],
      ["brk-d1-102", "PAYLOAD_NOT_JSON"],
      ["ghost-device", "UNKNOWN_DEVICE"],
    ]);
    expect(lines[0]).toMatchObject({ topic: "campus/devices/brk-d1-102/telemetry", payload: "this is not JSON" });
    expect(lines[2].reason).toBe('unknown field "wattage"');
    expect(lines[3]).toMatchObject({ truncated: true, payload_bytes: Buffer.byteLength(huge) });
    expect(lines[4].payload).toEqual({ base64: "//4A" });
    expect(typeof lines[0].t).toBe("number");
  });

  it("counts device timestamps replaced by the receive time, by reason", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await publish("brk-d1-101", "campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: future, current_a: 1 }));
    await publish("brk-d1-101", "campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: "2026-13-45T99:00:00Z", current_a: 2 }));
    const fallbacks = (reason: string) => metricValue(ctx.metrics, "campus_power_ingest_timestamp_fallbacks_total", { reason });
    await until(async () => (await fallbacks("unparseable")) === 1);
    expect(await fallbacks("future")).toBe(1);
  });

  it("keeps its persistent session: readings sent while it is stopped arrive after it restarts", async () => {
    await ingest.stop();
    const ts = Date.now() - 20_000;
    // Several queued messages: the broker sends them right after CONNACK, the race a late handler would lose.
    for (let i = 0; i < 20; i++) {
      await publish("brk-d1-101", "campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: ts + i, temperature_c: 40 + i }));
    }
    ingest = await startIngest(ctx, { influx, clientId: "campus-ingest-test" });
    const query = `SELECT temperature_c FROM electrical WHERE device = 'brk-d1-101' AND temperature_c > 0`;
    const stored = await until(() => select(query).then((r) => (r.length === 20 ? r : undefined)));
    expect(stored?.[0]).toEqual({ time: ts, temperature_c: 40 });
    expect(stored).toHaveLength(20);
  });

  it("writes what it spooled when stopped, well within 10 s", async () => {
    const own = new InfluxClient({ url: influxUrl(), db: `ingest_${randomBytes(4).toString("hex")}` });
    const slow = await startIngest(contextFor({ INFLUX_DB: own.config.db }), { influx: own, clientId: "campus-ingest-slow" });
    const ts = Date.now() - 1_000;
    await publish("brk-d1-101", "campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts, power_w: 777 }));
    const started = Date.now();
    await slow.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(rows(await own.query(`SELECT power_w FROM electrical WHERE power_w = 777`))).toEqual([{ time: ts, power_w: 777 }]);
  });

  it("logs the InfluxDB URL without the credentials it may carry", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const port = await freePort();
    const withCredentials = new InfluxClient({ url: `http://campus:influx-secret-pw@127.0.0.1:${port}`, db: "nowhere", timeoutMs: 1_000 });
    const started = await startIngest({ ...contextFor({}), log }, { influx: withCredentials, clientId: "campus-ingest-redact" });
    await started.stop();
    const field = (msg: string, key: string) => lines.find((l) => l.msg === msg)?.[key];
    // The client moves credentials out of the URL into its auth header, so what is logged has none.
    expect(field("ingest started", "influx")).toBe(`http://127.0.0.1:${port}`);
    expect(field("InfluxDB not reachable; will keep retrying", "url")).toBe(`http://127.0.0.1:${port}`);
    expect(JSON.stringify(lines)).not.toContain("influx-secret-pw");
  });

  it("starts and keeps retrying while InfluxDB is down, and stops in time", async () => {
    const down = new InfluxClient({ url: `http://127.0.0.1:${await freePort()}`, db: "nowhere", timeoutMs: 1_000 });
    const registry = createRegistry(false);
    const lonely = await startIngest(contextFor({ INFLUX_URL: down.config.url }, registry), { influx: down, clientId: "campus-ingest-down" });
    expect(lonely.influxReachable).toBe(false);
    await publish("brk-d1-101", "campus/devices/brk-d1-101/telemetry", JSON.stringify({ power_w: 1 }));
    await until(async () => (await metricValue(registry, "campus_power_ingest_write_retries_total")) >= 1);
    const started = Date.now();
    await lonely.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    // Nothing is dropped: the reading waits in the spool for the next start.
    expect(lonely.bufferedPoints).toBe(1);
  }, 20_000);
});
