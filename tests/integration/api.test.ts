// The API service with the REAL broker: startBroker + startApi on ephemeral ports, a real `ws`
// client, readings published as the service account on the internal topics (as the ingest does).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startApi, type RunningApi } from "../../api/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import { INGEST_HEALTH_TOPIC, internalTopic } from "../../domain/topics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const VIEWER = "viewer-token-abcdef012345";
const OPERATOR = "operator-token-abcdef012345";
const SERVICE_PASSWORD = "service-password-0123456789";

let dataDir: string;
let broker: RunningBroker;
let api: RunningApi;
let publisher: MqttClient;

interface Frame {
  type: string;
  seq: number;
  [key: string]: unknown;
}

/** A real WebSocket client that collects frames; `next(pred)` waits for the first matching one. */
function liveClient(url: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(url, { headers });
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    frames.push(frame);
    for (const w of [...waiters]) if (w.pred(frame)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const next = (pred: (f: Frame) => boolean, timeoutMs = 5_000) => {
    const seen = frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.type))}`)), timeoutMs);
      waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  };
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return { socket, frames, next, closed, opened };
}

/** A reading as the ingest streams it: in a batch (a per-device copy forwarded live is not applied). */
const publishReading = (device: string, ts: number, values: Record<string, number>) =>
  publisher.publishAsync(internalTopic.readingBatch("test-tool"), JSON.stringify([{ device, ts, values }]), { qos: 1 });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-api-"));
  const influx = await freshDatabase("api_int");
  const env = readEnv({
    API_TOKENS: `viewer:${VIEWER},operator:${OPERATOR},admin:admin-token-abcdef012345`,
    SERVICE_PASSWORD,
    DEVICE_GROUP_KEY: "device-group-key-0123456789",
    HTTP_PORT: "0",
    INFLUX_URL: influxUrl(),
    INFLUX_DB: influx.config.db,
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
  });
  const base = { campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };
  broker = await startBroker({ ...base, env }, { port: 0, wsPort: 0, host: "127.0.0.1" });
  const ctx: ServiceContext = { ...base, env: readEnv({ ...envSource(env), MQTT_URL: `mqtt://127.0.0.1:${broker.tcpPort}` }) };
  publisher = await connectService(ctx.env.mqttUrl, SERVICE_PASSWORD, "test-publisher");
  // A retained status before the API starts: its initial `online` comes from it.
  await publisher.publishAsync(internalTopic.status("feeder-d1"), JSON.stringify({ device: "feeder-d1", ts: Date.now(), online: true }), { qos: 1, retain: true });
  api = await startApi(ctx, { influx, host: "127.0.0.1", live: { authTimeoutMs: 500 }, ackTimeoutMs: 1_000 });
});

afterAll(async () => {
  await api?.stop();
  await publisher?.endAsync();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function envSource(env: ReturnType<typeof readEnv>): Record<string, string> {
  return {
    API_TOKENS: env.apiTokens.map((t) => `${t.role}:${t.token}`).join(","),
    SERVICE_PASSWORD: env.servicePassword,
    DEVICE_GROUP_KEY: env.deviceGroupKey,
    HTTP_PORT: "0",
    INFLUX_URL: env.influxUrl,
    INFLUX_DB: env.influxDb,
    LOG_LEVEL: env.logLevel,
    DATA_DIR: env.dataDir,
  };
}

describe("the API service on the real broker", () => {
  const wsUrl = () => `${api.url.replace("http", "ws")}/api/live`;

  it("listens on an ephemeral port and is ready with MQTT and InfluxDB up", async () => {
    expect(api.port).toBeGreaterThan(0);
    const res = await fetch(`${api.url}/api/ready`, { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { mqtt: true, influxdb: true } });
  });

  it("serves no data over HTTP without a token, whatever the spelling of the path", async () => {
    // Raw paths as they go on the wire (fetch keeps percent-escapes, case and repeated slashes).
    for (const path of ["/%61pi/devices", "/%61pi/me", "/%61pi/docs/json", "/api/%64evices", "/API/devices", "//api/devices", "/api//devices", "/api/devices/", "/api/devices/..%2fdocs/json"]) {
      const res = await fetch(`${api.url}${path}`);
      expect([401, 404], path).toContain(res.status);
      const body = (await res.json()) as { error?: { code: string } };
      expect(body.error?.code, path).toMatch(/^(UNAUTHORIZED|NOT_FOUND)$/);
    }
    const routed = await fetch(`${api.url}/%61pi/devices`, { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(routed.status).toBe(200);
  });

  it("sends a snapshot first, then readings published on the internal topic, with increasing seq", async () => {
    const client = liveClient(wsUrl(), { authorization: `Bearer ${VIEWER}` });
    const snapshot = await client.next((f) => f.type === "snapshot");
    expect(client.frames[0]!.type).toBe("snapshot");
    const devices = snapshot.devices as { id: string; online: boolean; last_seen: number | null }[];
    expect(devices.find((d) => d.id === "feeder-d1")!.online).toBe(true);
    expect(devices.find((d) => d.id === "brk-c1-main")).toMatchObject({ online: false, last_seen: null });

    const ts = Date.now();
    await publishReading("brk-d1-101", ts, { power_w: 321.5, current_a: 1.5 });
    await publishReading("brk-d1-102", ts, { power_w: 10 });
    const reading = await client.next((f) => f.type === "reading" && f.device === "brk-d1-102");
    expect(client.frames.find((f) => f.type === "reading" && f.device === "brk-d1-101")).toMatchObject({ ts, values: { power_w: 321.5, current_a: 1.5 } });
    const seqs = client.frames.map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(reading.seq).toBeGreaterThan(snapshot.seq);
    client.socket.close();
  });

  it("narrows the stream to what the client subscribed to", async () => {
    const client = liveClient(`${wsUrl()}?token=${VIEWER}`);
    await client.next((f) => f.type === "snapshot");
    client.socket.send(JSON.stringify({ type: "subscribe", buildings: ["class-1"], devices: [] }));
    const narrowed = await client.next((f) => f.type === "snapshot" && f.seq > 1);
    expect((narrowed.devices as { building: string }[]).every((d) => d.building === "class-1")).toBe(true);
    const ts = Date.now();
    await publishReading("brk-d1-101", ts, { power_w: 1 });
    await publishReading("brk-c1-main", ts, { power_w: 2 });
    await client.next((f) => f.type === "reading" && f.device === "brk-c1-main");
    expect(client.frames.filter((f) => f.type === "reading" && f.seq > narrowed.seq).map((f) => f.device)).toEqual(["brk-c1-main"]);
    client.socket.close();
  });

  it("accepts the token in a first auth frame and refuses a wrong one with 4401", async () => {
    const good = liveClient(wsUrl());
    await good.opened;
    good.socket.send(JSON.stringify({ type: "auth", token: OPERATOR }));
    await good.next((f) => f.type === "snapshot");
    good.socket.close();

    const bad = liveClient(wsUrl());
    await bad.opened;
    bad.socket.send(JSON.stringify({ type: "auth", token: "wrong-token-0000000000" }));
    expect((await bad.closed).code).toBe(4401);
    expect(bad.frames).toEqual([]);
  });

  it("closes a connection without a token with 4401 once the auth timeout passes", async () => {
    const client = liveClient(wsUrl());
    expect((await client.closed).code).toBe(4401);
    expect(client.frames).toEqual([]);
  });

  it("answers 404 when acknowledging an alert that is not open", async () => {
    const res = await fetch(`${api.url}/api/alerts/no-such-alert/ack`, {
      method: "POST",
      headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" },
      body: JSON.stringify({ note: "checked" }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "ALERT_NOT_FOUND", message: expect.any(String) } });
  });

  it("answers 503 with a JSON error when no alerts service answers an ack", async () => {
    // An open alert on the broker, as the alerts service would leave it, but no alerts service running.
    const alert = { id: "brk-d1-102.overload.1.1", rule: "overload", device: "brk-d1-102", building: "dorm-1", room: "102", severity: "major", state: "firing", value: 17, threshold: 16, message: "m", started_at: new Date().toISOString(), updated_at: new Date().toISOString() };
    await publisher.publishAsync("campus/alerts/brk-d1-102/overload", JSON.stringify(alert), { qos: 1, retain: true });
    const headers = { authorization: `Bearer ${VIEWER}` };
    await waitFor(async () => ((await (await fetch(`${api.url}/api/alerts?state=open`, { headers })).json()) as unknown[]).length > 0);
    const res = await fetch(`${api.url}/api/alerts/${alert.id}/ack`, { method: "POST", headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "ALERTS_UNAVAILABLE", message: expect.any(String) } });
    await publisher.publishAsync("campus/alerts/brk-d1-102/overload", "", { qos: 1, retain: true });
  });

  it("is not ready while the ingest's retained health says ok: false, and says when it knows nothing of an ingest", async () => {
    const ready = async () => {
      const res = await fetch(`${api.url}/api/ready`, { headers: { authorization: `Bearer ${VIEWER}` } });
      return { status: res.status, header: res.headers.get("x-ingest-health"), body: (await res.json()) as Record<string, any> };
    };
    // No ingest in this test: unknown, not a failure (the first test's exact body holds).
    expect(await ready()).toMatchObject({ status: 200, header: "unknown", body: { status: "ready", checks: { mqtt: true, influxdb: true } } });
    const health = (payload: unknown) => publisher.publishAsync(INGEST_HEALTH_TOPIC, payload === "" ? "" : JSON.stringify(payload), { qos: 1, retain: true });
    const full = { ok: false, spool_full: true, backlog_records: 120, oldest_ms: 600_000, influx_reachable: false, ts: Date.now() };
    await health(full);
    const notReady = await waitFor(async () => ((await ready()).status === 503 ? ready() : undefined));
    expect(notReady).toEqual({
      status: 503,
      header: "not-ok",
      body: { status: "not_ready", checks: { mqtt: true, influxdb: true, ingest: false }, ingest: full, error: { code: "NOT_READY", message: "not reachable: ingest (spool full)" } },
    });
    await health({ ok: false, reason: "ingest offline" }); // its last will
    expect(await waitFor(async () => ((await ready()).body.error?.message === "not reachable: ingest (ingest offline)" ? true : undefined))).toBe(true);
    const ok = { ok: true, spool_full: false, backlog_records: 0, oldest_ms: null, influx_reachable: true, ts: Date.now() };
    await health(ok);
    expect(await waitFor(async () => ((await ready()).status === 200 ? ready() : undefined))).toEqual({ status: 200, header: "ok", body: { status: "ready", checks: { mqtt: true, influxdb: true, ingest: true }, ingest: ok } });
    await health(""); // cleared: unknown again
    expect(await waitFor(async () => ((await ready()).header === "unknown" ? ready() : undefined))).toEqual({ status: 200, header: "unknown", body: { status: "ready", checks: { mqtt: true, influxdb: true } } });
  });

  it("stops within a few seconds, closing live clients", async () => {
    const client = liveClient(wsUrl(), { authorization: `Bearer ${VIEWER}` });
    await client.next((f) => f.type === "snapshot");
    const started = Date.now();
    await api.stop();
    expect((await client.closed).code).toBe(1001);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
