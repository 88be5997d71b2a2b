// The live stream over the real broker: subscribe filters, batches, per-device coalescing, resume
// after the last seq, and a frozen client next to a healthy one. Readings are published as the
// ingest publishes them (service account, internal topic).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startApi, type RunningApi } from "../../api/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import { internalTopic } from "../../domain/topics.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const VIEWER = "viewer-token-stream-01234";
const PASSWORD = "service-password-stream-0123";
const campus = loadCampus("tests/fixtures/test-campus.yaml");
let dataDir: string;
let broker: RunningBroker;
let api: RunningApi;
let publisher: MqttClient;
let metrics: Registry;
let ctx: ServiceContext;

type Frame = { type: string; seq: number; [key: string]: any };

function client(query = "") {
  const socket = new WebSocket(`${api.url.replace("http", "ws")}/api/live?token=${VIEWER}${query}`);
  const frames: Frame[] = [];
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    if (frame.type === "batch") frames.push(...(frame.messages as Frame[]).map((m) => ({ ...m, inBatch: true })));
    else frames.push(frame);
  });
  const closed = new Promise<number>((resolve) => socket.on("close", resolve));
  const find = async (pred: (f: Frame) => boolean, timeoutMs = 8_000): Promise<Frame> => {
    const found = await waitFor(() => frames.find(pred) ?? null, timeoutMs);
    if (found === null) throw new Error(`no matching frame within ${timeoutMs} ms; got ${frames.map((f) => f.type).join(",")}`);
    return found;
  };
  return { socket, frames, closed, find, snapshot: () => find((f) => f.type === "snapshot") };
}

const reading = (device: string, values: Record<string, unknown>, ts = Date.now()) =>
  publisher.publishAsync(internalTopic.readingBatch("test-tool"), JSON.stringify([{ device, ts, values }]), { qos: 1 });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-api-stream-"));
  const influx = await freshDatabase("api_stream");
  const env = readEnv({
    API_TOKENS: `viewer:${VIEWER}`, SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "device-group-key-stream-01",
    HTTP_PORT: "0", INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, LOG_LEVEL: "silent", DATA_DIR: dataDir,
  });
  const base = { campus, log: createLogger("silent") };
  broker = await startBroker({ ...base, env, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1" });
  metrics = createRegistry(false);
  ctx = { ...base, metrics, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` } };
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "stream-test-publisher");
  api = await startApi(ctx, { influx, host: "127.0.0.1", live: { coalesceMs: 1_000, softLimitBytes: 16 * 1024, softStuckMs: 1_500, hardStuckMs: 1_500, resumeWindowMs: 10_000 } });
});

afterAll(async () => {
  await api?.stop();
  await publisher?.endAsync();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the live stream", () => {
  it("narrows to the subscribed devices and buildings, and batches on request", async () => {
    const c = client();
    await c.snapshot();
    c.socket.send(JSON.stringify({ type: "subscribe", devices: ["brk-d1-102"], buildings: ["class-1"], batch: true }));
    const narrowed = await c.find((f) => f.type === "snapshot" && f.seq > 1);
    expect(narrowed.devices.map((d: any) => d.id).sort()).toEqual(["brk-c1-main", "brk-d1-102", "plug-c1-own"]);
    await reading("brk-d1-101", { power_w: 1 });
    await reading("plug-c1-own", { power_w: 2 });
    await reading("brk-d1-102", { power_w: 3 });
    await c.find((f) => f.device === "brk-d1-102");
    const after = c.frames.filter((f) => f.seq > narrowed.seq);
    expect(after.map((f) => f.device)).toEqual(["plug-c1-own", "brk-d1-102"]);
    expect(after.every((f) => f.inBatch)).toBe(true);
    expect(after.map((f) => f.seq)).toEqual([narrowed.seq + 1, narrowed.seq + 2]);
    c.socket.close();
  });

  it("sends at most one update per device per interval, the latest value last", async () => {
    const c = client();
    await c.snapshot();
    c.socket.send(JSON.stringify({ type: "subscribe", devices: ["brk-d1-101"], interval_ms: 1_000 }));
    const snap = await c.find((f) => f.type === "snapshot" && f.seq > 1);
    const started = Date.now();
    for (let i = 1; i <= 40; i++) await reading("brk-d1-101", { power_w: 1000 + i }, started + i);
    await c.find((f) => f.seq > snap.seq && f.values?.power_w === 1040, 10_000);
    const got = c.frames.filter((f) => f.type === "reading" && f.seq > snap.seq);
    const elapsed = Date.now() - started;
    // One at once, then one per full second at most, whatever the publishing rate.
    expect(got.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / 1_000));
    expect(got.at(-1)!.values.power_w).toBe(1040);
    c.socket.close();
  });

  it("resumes after the last seq a reconnecting client saw, else sends a fresh snapshot", async () => {
    const first = client();
    const snap = await first.snapshot();
    first.socket.send(JSON.stringify({ type: "subscribe", devices: ["brk-d1-102"], interval_ms: 100 }));
    const narrowed = await first.find((f) => f.type === "snapshot" && f.seq > 1);
    await reading("brk-d1-102", { power_w: 11 });
    const seen = await first.find((f) => f.values?.power_w === 11);
    first.socket.close();
    await first.closed;
    // While disconnected; spaced by more than the 100 ms interval so the session keeps both, not the latest only.
    await reading("brk-d1-102", { power_w: 12 });
    await new Promise((r) => setTimeout(r, 300));
    await reading("brk-d1-102", { power_w: 13 });
    await new Promise((r) => setTimeout(r, 300));

    const again = client(`&session=${snap.session}&last_seq=${seen.seq}`);
    const thirteen = await again.find((f) => f.values?.power_w === 13);
    expect(again.frames.some((f) => f.type === "snapshot")).toBe(false);
    expect(again.frames.map((f) => f.seq)).toEqual(again.frames.map((_, i) => seen.seq + 1 + i));
    expect(again.frames.map((f) => f.values?.power_w)).toContain(12);
    expect(thirteen.seq).toBeGreaterThan(narrowed.seq);
    again.socket.close();

    const stranger = client(`&session=not-a-session&last_seq=3`);
    const fresh = await stranger.snapshot();
    expect(fresh.seq).toBe(1);
    expect(fresh.session).not.toBe(snap.session);
    stranger.socket.close();
  });

  it("keeps a frozen client bounded and terminates it, while a healthy client gets every latest value", async () => {
    const healthy = client();
    await healthy.snapshot();
    healthy.socket.send(JSON.stringify({ type: "subscribe", interval_ms: 100 }));
    const frozen = client();
    await frozen.snapshot();
    frozen.socket.send(JSON.stringify({ type: "subscribe", interval_ms: 100 }));
    await frozen.find((f) => f.type === "snapshot" && f.seq > 1);
    (frozen.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const padding = "x".repeat(40_000); // enough to fill the kernel's socket buffers within seconds
    const devices = campus.devices.map((d) => d.id);
    const terminated = async () => (await metrics.getSingleMetric("campus_power_api_live_terminated_total")!.get()).values.find((v) => v.labels.reason === "slow")?.value ?? 0;
    const deadline = Date.now() + 10_000;
    let round = 0;
    while (Date.now() < deadline && (await terminated()) === 0) {
      round++;
      await Promise.all(devices.map((d) => reading(d, { power_w: round, padding })));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await waitFor(async () => (await terminated()) >= 1, 8_000)).toBe(true);
    for (const d of devices) await healthy.find((f) => f.device === d && f.values.power_w === round, 8_000);
    healthy.socket.close();
    frozen.socket.terminate();
  });

  it("closes with 4429 while the address is rate-limited for wrong tokens, valid ones included, as HTTP answers 429", async () => {
    // An API of its own (its own limiter: three failures), so the address is not blocked for the tests above.
    const strict = await startApi({ ...ctx, metrics: createRegistry(false) }, { influx: await freshDatabase("api_stream_limit"), host: "127.0.0.1", port: 0, authLimits: { maxFailures: 3 } });
    try {
      const connect = (token: string) =>
        new Promise<{ code: number; reason: string }>((resolve) => {
          const socket = new WebSocket(`${strict.url.replace("http", "ws")}/api/live?token=${token}`);
          socket.on("message", () => socket.close(1000)); // a snapshot: admitted
          socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
        });
      for (let i = 0; i < 3; i++) expect((await connect("wrong-token-stream-000000")).code).toBe(4401);
      const limited = await connect(VIEWER);
      expect(limited.code).toBe(4429);
      expect(limited.reason).toMatch(/too many failed/);
      const http = await fetch(`${strict.url}/api/devices`, { headers: { authorization: `Bearer ${VIEWER}` } });
      expect(http.status).toBe(429);
      expect(Number(http.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await strict.stop();
    }
    // The shared API never saw those failures: the same address is still served.
    const c = client();
    await c.snapshot();
    c.socket.close();
  });
});
