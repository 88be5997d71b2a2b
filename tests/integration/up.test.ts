// The whole product as a user runs it: `campus-power up` as a child process, a real influxd, real
// device, HTTP and WebSocket clients. Covers the end-to-end promises of the pipeline.
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { devicePassword } from "../../domain/credentials.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { connectMqtt } from "../../infra/mqtt.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "an-e2e-fleet-key-0123456789";
const VIEWER = "viewer-token-0123456789";
const OPERATOR = "operator-token-0123456789";

interface AlertJson {
  id: string;
  rule: string;
  device: string;
  state: string;
  value: number;
  started_at: string;
}

describe("campus-power up", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-up-"));
  const db = `e2e_${process.pid}`;
  let env: NodeJS.ProcessEnv;
  let up: CliProcess;
  let http: string;
  const influx = new InfluxClient({ url: influxUrl(), db });

  const api = async (path: string, token: string | null = VIEWER, init: RequestInit = {}) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (init.body) headers["content-type"] = "application/json";
    const response = await fetch(`${http}${path}`, { ...init, headers });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const openAlerts = async () => (await api("/api/alerts?state=open")).body as AlertJson[];
  /** Polls until the list is non-empty (an empty list is "not yet"). */
  const waitForSome = <T>(list: () => Promise<T[]>, timeoutMs: number) => waitFor(async () => { const items = await list(); return items.length > 0 ? items : null; }, timeoutMs).then((items) => items ?? []);

  beforeAll(async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    http = `http://127.0.0.1:${httpPort}`;
    env = {
      CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml",
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(wsPort),
      HTTP_PORT: String(httpPort),
      INFLUX_URL: influxUrl(),
      INFLUX_DB: db,
      DATA_DIR: dataDir,
      DEVICE_GROUP_KEY: KEY,
      SERVICE_PASSWORD: "service-password-0123456789",
      API_TOKENS: `viewer:${VIEWER},operator:${OPERATOR}`,
      LOG_LEVEL: "warn",
    };
    up = startCli(["up"], env);
    await up.waitForOutput(/campus-power is up/);
  });
  afterAll(async () => {
    await up?.stop("SIGKILL");
  });

  it("stores a device's reading in InfluxDB with the contract's tags and fields", { timeout: 60_000 }, async () => {
    const device = await connectMqtt({ url: `mqtt://127.0.0.1:${env.MQTT_PORT}`, clientId: "brk-d1-102", username: "brk-d1-102", password: devicePassword("brk-d1-102", KEY) });
    const ts = Date.now() - 1_000;
    await device.publishAsync("campus/devices/brk-d1-102/telemetry", JSON.stringify({ ts, current_a: 3.5, power_w: 770, voltage_v: 220, switch_on: true }), { qos: 1 });
    await device.endAsync();
    const stored = await waitForSome(async () => rows(await influx.query(`SELECT * FROM electrical WHERE device = 'brk-d1-102'`).catch(() => [])), 30_000);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ time: ts, device: "brk-d1-102", kind: "breaker", building: "dorm-1", room: "102", current_a: 3.5, power_w: 770, switch_on: true });
  });

  it("refuses API calls without a token (401) and acks from a viewer (403)", async () => {
    expect((await api("/api/devices", null)).status).toBe(401);
    const forbidden = await api("/api/alerts/whatever/ack", VIEWER, { method: "POST", body: "{}" });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    expect((await api("/api/health", null)).body).toEqual({ status: "ok" });
  });

  it("streams a snapshot and then live readings over the WebSocket", async () => {
    const socket = new WebSocket(`${http.replace("http", "ws")}/api/live?token=${VIEWER}`);
    const messages: { type: string; seq: number; device?: string; ts?: number; values?: Record<string, unknown> }[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => (socket.once("open", resolve), socket.once("error", reject)));
    await waitFor(() => messages.length > 0);
    const device = await connectMqtt({ url: `mqtt://127.0.0.1:${env.MQTT_PORT}`, clientId: "brk-c1-main", username: "brk-c1-main", password: devicePassword("brk-c1-main", KEY) });
    const ts = Date.now() - 1_000;
    await device.publishAsync("campus/devices/brk-c1-main/telemetry", JSON.stringify({ ts, current_a: 2, power_w: 440 }), { qos: 1 });
    await device.endAsync();
    const live = await waitFor(() => messages.find((m) => m.type === "reading" && m.device === "brk-c1-main"), 10_000);
    socket.close();
    expect(live).toMatchObject({ type: "reading", device: "brk-c1-main", ts, values: { current_a: 2, power_w: 440 } });
    expect(messages[0]?.type).toBe("snapshot");
    const seqs = messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("opens exactly one overload alert in event time, keeps it across a restart, and acks it", { timeout: 120_000 }, async () => {
    const connectDevice = () => connectMqtt({ url: `mqtt://127.0.0.1:${env.MQTT_PORT}`, clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    const t0 = Date.now() - 10 * 60_000;
    // 16 A breaker at 20 A for 75 s of event time, sent in well under a second of wall time.
    const burst = Array.from({ length: 16 }, (_, i) => ({ ts: t0 + i * 5_000, current_a: 20, power_w: 4400 }));
    let device = await connectDevice();
    await device.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify(burst), { qos: 1 });
    await device.endAsync();
    const opened = await waitForSome(async () => (await openAlerts()).filter((a) => a.rule === "overload" && a.device === "brk-d1-101"), 30_000);
    expect(opened).toHaveLength(1);
    const alert = opened[0]!;
    // Event time: the alert starts when the breach has held for 60 s, by the readings' own clock.
    expect(alert.started_at).toBe(new Date(t0 + 60_000).toISOString());
    const stored = await waitForSome(async () => rows(await influx.query(`SELECT * FROM alert WHERE device = 'brk-d1-101' AND rule = 'overload'`).catch(() => [])), 10_000);
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect(stored[0]).toMatchObject({ rule: "overload", alert_id: alert.id, state: "firing" });

    const stopped = await up.stop("SIGTERM");
    expect(stopped.code, up.output()).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    up = startCli(["up"], env);
    await up.waitForOutput(/campus-power is up/);

    const afterRestart = await waitForSome(async () => (await openAlerts()).filter((a) => a.rule === "overload"), 30_000);
    expect(afterRestart.map((a) => a.id)).toEqual([alert.id]);
    // The breach goes on: it updates the same alert, never opens a second one.
    device = await connectDevice();
    const more = Array.from({ length: 6 }, (_, i) => ({ ts: t0 + 80_000 + i * 5_000, current_a: 21 }));
    await device.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify(more), { qos: 1 });
    await device.endAsync();
    // The marker: the open alert shows the new readings' 21 A, so the rules have seen them.
    const updated = await waitForSome(async () => (await openAlerts()).filter((a) => a.rule === "overload" && a.value === 21), 30_000);
    expect(updated.map((a) => a.id)).toEqual([alert.id]);
    expect((await openAlerts()).filter((a) => a.rule === "overload").map((a) => a.id)).toEqual([alert.id]);

    const ack = await api(`/api/alerts/${encodeURIComponent(alert.id)}/ack`, OPERATOR, { method: "POST", body: JSON.stringify({ note: "on my way" }) });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id: alert.id, state: "acknowledged", acknowledged_by: expect.any(String) });
  });
});

const portIsOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

describe("campus-power up and its own InfluxDB", () => {
  const baseEnv = async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    return {
      httpPort,
      env: {
        CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml", MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort),
        DATA_DIR: mkdtempSync(join(tmpdir(), "campus-up-")), DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "service-password-0123456789",
        API_TOKENS: `viewer:${VIEWER}`, LOG_LEVEL: "warn",
      },
    };
  };
  const ready = (httpPort: number) => fetch(`http://127.0.0.1:${httpPort}/api/ready`, { headers: { authorization: `Bearer ${VIEWER}` } });

  it("never starts its own when INFLUX_URL names another host, and reports not ready", async () => {
    const { env, httpPort } = await baseEnv();
    const up = startCli(["up"], { ...env, INFLUX_URL: "http://influxdb.invalid:8086" });
    try {
      await up.waitForOutput(/campus-power is up/);
      expect(up.output()).not.toContain("Starting a local InfluxDB");
      const response = await ready(httpPort);
      expect(response.status).toBe(503);
      expect(JSON.stringify(await response.json())).toMatch(/influx/i);
    } finally {
      expect((await up.stop()).code, up.output()).toBe(0); // what it said, should it not exit 0
    }
  });

  it("starts, supervises and stops a local InfluxDB under DATA_DIR when nothing answers at a loopback INFLUX_URL", async () => {
    const { env, httpPort } = await baseEnv();
    const influxPort = await freePort();
    // Its own process group, stopped the way a terminal's Ctrl-C stops it: SIGINT to the whole group.
    const up = startCli(["up"], { ...env, INFLUX_URL: `http://127.0.0.1:${influxPort}` }, { group: true });
    try {
      await up.waitForOutput(new RegExp(`Starting a local InfluxDB on 127\\.0\\.0\\.1:${influxPort} \\(data in ${env.DATA_DIR}/influxdb\\)`));
      await up.waitForOutput(/campus-power is up/, 40_000);
      expect(await waitFor(async () => (await ready(httpPort)).status === 200, 15_000)).toBe(true);
      expect(await portIsOpen(influxPort)).toBe(true);
    } finally {
      expect((await up.stop("SIGINT", { group: true })).code, up.output()).toBe(0); // what it said, should it not exit 0
    }
    // influxd is stopped last, by us: the Ctrl-C did not kill it under the services still flushing.
    expect(up.output()).not.toMatch(/local influxd exited; restarting/);
    expect(up.output()).not.toMatch(/InfluxDB unreachable/);
    expect(await portIsOpen(influxPort)).toBe(false);
  });
});
