// The alerts service end to end: the real broker, a real influxd, real MQTT clients, a real DATA_DIR.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import type { Alert } from "../../domain/alert.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import type { InfluxClient } from "../../infra/influx.js";
import { InfluxClient as Influx, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { internalTopic } from "../../domain/topics.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/test-campus.yaml");
const PASSWORD = "service-password-for-tests";
const HOST = "127.0.0.1";

let dataDir: string;
let influx: InfluxClient;
let broker: RunningBroker;
let ctx: ServiceContext;
let alerts: RunningAlerts;
let publisher: MqttClient;
/** The alerts service's wall clock: the watchdog moves only when the test says so. */
let wall = Date.now();
/** Event time of the first reading: the traffic is "replayed" from ten minutes ago, sent fast. */
const base = Date.now() - 10 * 60_000;

function contextFor(mqttPort: number): ServiceContext {
  const env = readEnv({
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    SERVICE_PASSWORD: PASSWORD,
    DEVICE_GROUP_KEY: "group-key-for-tests-0123456789",
    INFLUX_URL: influxUrl(),
    INFLUX_DB: influx.config.db,
    CAMPUS_CONFIG: FIXTURE,
    MQTT_URL: `mqtt://${HOST}:${mqttPort}`,
  });
  return { env, campus: loadCampus(FIXTURE), log: createLogger("silent"), metrics: ctx?.metrics ?? createRegistry(false) };
}

const startService = () => startAlerts(ctx, { influx, now: () => wall, tickMs: 100 });

async function publish(topic: string, body: unknown, retain = false) {
  await publisher.publishAsync(topic, JSON.stringify(body), { qos: 1, retain });
}

/** Readings of `device` every 5 s of event time, from `fromS` to `toS`, in one batch as the ingest streams them. */
async function readings(fromS: number, toS: number, currentA: number, device = "brk-d1-101") {
  const batch = [];
  for (let t = fromS; t <= toS; t += 5) batch.push({ device, ts: base + t * 1000, values: { current_a: currentA } });
  await publish(internalTopic.readingBatch("test-tool"), batch);
}

/** What a newcomer subscribing to `topic` receives as its retained message (null when there is none). */
async function retained(topic: string, waitMs = 400): Promise<Alert | null> {
  const reader = await connectService(ctx.env.mqttUrl, PASSWORD, `reader-${randomBytes(4).toString("hex")}`);
  try {
    return await new Promise<Alert | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      reader.on("message", (t, payload, packet) => {
        if (t !== topic || !packet.retain || payload.length === 0) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()) as Alert);
      });
      reader.subscribe(topic, { qos: 1 });
    });
  } finally {
    await reader.endAsync();
  }
}

const overloadPoints = async () => rows(await influx.query(`SELECT * FROM "alert" WHERE "rule" = 'overload'`));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-power-alerts-"));
  influx = await freshDatabase("alerts");
  ctx = contextFor(0);
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: HOST });
  ctx = contextFor(broker.tcpPort);
  alerts = await startService();
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
});

afterAll(async () => {
  await publisher?.endAsync();
  await alerts?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("alerts service", () => {
  let opened: Alert;

  it("raises one overload alert from 75 s of readings sent in a moment, retained and in InfluxDB", async () => {
    await readings(0, 75, 20);
    const alert = await waitFor(() => retained("campus/alerts/brk-d1-101/overload"));
    expect(alert).toMatchObject({
      rule: "overload",
      device: "brk-d1-101",
      building: "dorm-1",
      room: "101",
      severity: "major",
      state: "firing",
      threshold: 16,
      value: 20,
      started_at: new Date(base + 60_000).toISOString(),
    });
    expect(alert!.message).toContain("Dormitory 1, room 101");
    opened = alert!;

    const points = await waitFor(async () => ((await overloadPoints()).length >= 1 ? overloadPoints() : null));
    expect(points).toHaveLength(1);
    expect(points![0]).toMatchObject({ alert_id: opened.id, state: "firing", device: "brk-d1-101", building: "dorm-1", severity: "major", value: 20, threshold: 16 });
    expect(points![0]!.time).toBe(base + 60_000);
  });

  it("keeps the alert across a restart of the alerts service and of the broker", async () => {
    await alerts.stop();
    const saved = JSON.parse(readFileSync(join(dataDir, "alerts", "state.json"), "utf8"));
    expect(saved).toMatchObject({ version: 1, engine: { devices: { "brk-d1-101": { rules: { overload: { alert: { id: opened.id } } } } } } });
    expect(existsSync(join(dataDir, "alerts", `state.json.tmp-${process.pid}`))).toBe(false);

    // The broker keeps retained messages in memory only: a restart loses them.
    await publisher.endAsync();
    await broker.stop();
    broker = await startBroker(ctx, { port: broker.tcpPort, wsPort: 0, host: HOST });
    expect(await retained("campus/alerts/brk-d1-101/overload")).toBeNull();

    alerts = await startService();
    publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
    const republished = await waitFor(() => retained("campus/alerts/brk-d1-101/overload"));
    expect(republished).toMatchObject({ id: opened.id, state: "firing" });
  });

  it("updates the same alert when the breach continues after the restart", async () => {
    await readings(80, 120, 21);
    const updated = await waitFor(async () => {
      const alert = await retained("campus/alerts/brk-d1-101/overload");
      return alert?.value === 21 ? alert : null;
    });
    expect(updated).toMatchObject({ id: opened.id, state: "firing", started_at: opened.started_at });
    const ids = new Set((await overloadPoints()).map((p) => p.alert_id));
    expect([...ids]).toEqual([opened.id]);
    const metricsText = await ctx.metrics.metrics();
    expect(metricsText).toMatch(/campus_power_alerts_opened_total\{rule="overload"\} 1\b/);
    expect(metricsText).toMatch(/campus_power_alerts_open\{rule="overload"\} 1\b/);
  });

  it("acknowledges through campus/internal/ack and answers on the request's ack-result topic", async () => {
    const listener = await connectService(ctx.env.mqttUrl, PASSWORD, "test-api");
    const replies = new Map<string, unknown>();
    listener.on("message", (topic, payload) => replies.set(topic, JSON.parse(payload.toString())));
    await listener.subscribeAsync("campus/internal/ack-result/+", { qos: 1 });

    await publish("campus/internal/ack", { alert_id: opened.id, by: "operator:ab12", note: "kettle in room 101 unplugged", request_id: "req-1" });
    await publish("campus/internal/ack", { alert_id: "no-such-alert", by: "operator:ab12", request_id: "req-2" });
    const ok = await waitFor(() => replies.get("campus/internal/ack-result/req-1"));
    expect(ok).toMatchObject({ ok: true, alert: { id: opened.id, state: "acknowledged", acknowledged_by: "operator:ab12", ack_note: "kettle in room 101 unplugged" } });
    const missing = await waitFor(() => replies.get("campus/internal/ack-result/req-2"));
    expect(missing).toMatchObject({ ok: false, code: "NOT_FOUND" });
    await listener.endAsync();

    const acked = await waitFor(async () => {
      const alert = await retained("campus/alerts/brk-d1-101/overload");
      return alert?.state === "acknowledged" ? alert : null;
    });
    expect(acked).toMatchObject({ id: opened.id, acknowledged_by: "operator:ab12", ack_note: "kettle in room 101 unplugged" });
    await waitFor(async () => (await overloadPoints()).some((p) => p.state === "acknowledged"));
    expect((await overloadPoints()).map((p) => p.state)).toContain("acknowledged");
    const ackedPoint = (await overloadPoints()).find((p) => p.state === "acknowledged");
    expect(ackedPoint).toMatchObject({ alert_id: opened.id, ack_note: "kettle in room 101 unplugged" });
    expect((await overloadPoints()).filter((p) => p.state !== "acknowledged").every((p) => p.ack_note === null || p.ack_note === undefined)).toBe(true);
  });

  it("resolves after 2 min below 0.9 × the rating and clears the retained message", async () => {
    await readings(125, 250, 5);
    await waitFor(async () => (await overloadPoints()).some((p) => p.state === "resolved"));
    expect(await retained("campus/alerts/brk-d1-101/overload")).toBeNull();
    expect(alerts.state().devices["brk-d1-101"]?.rules.overload?.alert).toBeUndefined();
  });

  it("feeds a batch's readings to the rules when the device's retained latest copy overtakes the batch", async () => {
    // The ingest publishes the copy after the batch, but the broker may deliver it first (MQTT orders
    // messages only within one topic and QoS). Here it is sent first on purpose: were it applied as a
    // reading, the batch's 75 s above the rating would all look late and no overload would open.
    const last = { device: "brk-d1-101", ts: base + 375_000, values: { current_a: 22 } };
    await publish(internalTopic.reading("brk-d1-101"), last, true);
    await readings(300, 375, 22);
    const alert = await waitFor(async () => {
      const found = await retained("campus/alerts/brk-d1-101/overload");
      return found?.value === 22 ? found : null;
    });
    expect(alert).toMatchObject({ state: "firing", started_at: new Date(base + 360_000).toISOString() });
  });

  it("raises offline at once on an offline status and clears it on online", async () => {
    await publish("campus/internal/status/brk-d1-102", { device: "brk-d1-102", ts: Date.now(), online: false }, true);
    const alert = await waitFor(() => retained("campus/alerts/brk-d1-102/offline"));
    expect(alert).toMatchObject({ rule: "offline", device: "brk-d1-102", severity: "warning", state: "firing" });
    expect(alert!.message).toContain("went offline");

    await publish("campus/internal/status/brk-d1-102", { device: "brk-d1-102", ts: Date.now() + 1, online: true }, true);
    await waitFor(async () => (await retained("campus/alerts/brk-d1-102/offline")) === null);
    expect(await retained("campus/alerts/brk-d1-102/offline")).toBeNull();
  });

  it("raises offline from the watchdog once a device stays silent for 3 × its report interval", async () => {
    // brk-c1-main reports every 10 s and has sent nothing since this service started.
    wall += 31_000;
    const alert = await waitFor(() => retained("campus/alerts/brk-c1-main/offline"));
    expect(alert).toMatchObject({ severity: "warning", threshold: 30 });
    expect(alert!.message).toContain("sent no data");
  });

  it("publishes alerts while InfluxDB is down and writes their points after a restart", async () => {
    await alerts.stop();
    const down = new Influx({ url: `http://127.0.0.1:${await freePort()}`, db: influx.config.db, timeoutMs: 500 });
    alerts = await startAlerts(ctx, { influx: down, now: () => wall, tickMs: 100 });
    await readings(0, 60, 18, "brk-d1-102");
    const alert = await waitFor(() => retained("campus/alerts/brk-d1-102/overload"));
    expect(alert).toMatchObject({ device: "brk-d1-102", state: "firing" });
    await waitFor(async () => /campus_power_alerts_write_failures_total [1-9]/.test(await ctx.metrics.metrics()));

    await alerts.stop(); // within the contract's few seconds even with InfluxDB unreachable
    const saved = JSON.parse(readFileSync(join(dataDir, "alerts", "state.json"), "utf8")) as { pending_writes: string[] };
    expect(saved.pending_writes.some((line) => line.includes(alert!.id))).toBe(true);

    alerts = await startService();
    const points = await waitFor(async () => {
      const found = rows(await influx.query(`SELECT * FROM "alert" WHERE "device" = 'brk-d1-102' AND "rule" = 'overload'`));
      return found.length > 0 ? found : null;
    });
    expect(points![0]).toMatchObject({ alert_id: alert!.id, state: "firing" });
  });

  it.each([
    ["not JSON", '{"version": 1, "engine": {"version": 1, "devi', /^not JSON: /],
    ["JSON of another shape", JSON.stringify({ version: 1, saved_at: "2030-01-01T00:00:00Z", engine: { version: 1, devices: { "brk-c1-main": 5 } } }), /^not an alert state: \/engine\/devices\/brk-c1-main: /],
  ])("starts clean when the state file is %s, keeps the file aside for a person and says why", async (_what, text, reason) => {
    await alerts.stop();
    const folder = join(dataDir, "alerts");
    const asideBefore = new Set(readdirSync(folder));
    writeFileSync(join(folder, "state.json"), text);
    const logs: { msg: string; reason?: string; movedTo?: string }[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    alerts = await startAlerts({ ...ctx, log }, { influx, now: () => wall, tickMs: 100 });

    const aside = readdirSync(folder).filter((name) => name.startsWith("state.json.corrupt-") && !asideBefore.has(name));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(folder, aside[0]!), "utf8")).toBe(text);
    expect(logs).toContainEqual(expect.objectContaining({ msg: expect.stringContaining("kept aside"), reason: expect.stringMatching(reason), movedTo: join(folder, aside[0]!) }));
    expect(Object.values(alerts.state().devices).every((slot) => Object.keys(slot.rules).length === 0)).toBe(true);
    // And it works: a breach on the device the file spoke of opens its alert.
    await readings(0, 75, 40, "brk-c1-main");
    const opened = await waitFor(() => alerts.state().devices["brk-c1-main"]?.rules.overload?.alert, 10_000, { what: "overload on brk-c1-main" });
    expect(opened).toMatchObject({ device: "brk-c1-main", state: "firing" });
  });
});
