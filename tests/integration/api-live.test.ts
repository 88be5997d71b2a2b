// The live stream on buildApp: injectWS for the protocol, real `ws` clients over TCP for frames the
// server cannot use, a client that stops answering pings, and one that stops reading (backpressure:
// coalescing, then termination of a client stuck above the limit).
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildApp } from "../../api/app.js";
import { AckTimeoutError } from "../../api/deps.js";
import { LiveState } from "../../api/live-state.js";
import type { LiveOptions } from "../../api/live/options.js";
import { loadCampus } from "../../infra/campus-file.js";
import { parseApiTokens } from "../../domain/env.js";
import { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { resultWithin } from "../../infra/timeout.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const VIEWER = "viewer-token-live-0123456";
const campus = loadCampus("tests/fixtures/test-campus.yaml");
let app: FastifyInstance | undefined;

async function setUp(live: Partial<LiveOptions> = {}) {
  const state = new LiveState(campus);
  const metrics: Registry = createRegistry(false);
  app = buildApp({
    campus,
    tokens: parseApiTokens(`viewer:${VIEWER}`),
    state,
    influx: new InfluxClient({ url: influxUrl(), db: "unused" }),
    ack: async () => {
      throw new AckTimeoutError(1);
    },
    probes: { mqtt: () => true, influxdb: () => true },
    metrics,
    log: createLogger("silent"),
    live,
  });
  await app.ready();
  return { app, state, metrics };
}

afterEach(async () => {
  await app?.close();
  app = undefined;
});

const frames = (socket: WebSocket) => {
  const received: Record<string, unknown>[] = [];
  socket.on("message", (data) => received.push(JSON.parse(data.toString())));
  return received;
};

/** A real `ws` client over TCP to the app, listening on an ephemeral port. */
async function tcpClient(app: FastifyInstance, options: WebSocket.ClientOptions = {}) {
  if (!app.server.listening) await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/live?token=${VIEWER}`, options);
  const received = frames(socket);
  const closed = new Promise<number>((resolve) => socket.on("close", resolve));
  let pings = 0;
  socket.on("ping", () => pings++);
  await waitFor(() => received.length >= 1, 5_000, { what: "the snapshot" });
  return { socket, received, closed, pings: () => pings };
}

describe("the live stream protocol", () => {
  it("sends the snapshot, then readings with phases inside values, status and alerts, seq increasing", async () => {
    const { app, state } = await setUp();
    let received: Record<string, unknown>[] = [];
    // Listen from the start (onInit): the snapshot is sent as soon as the upgrade completes.
    const socket = await app.injectWS("/api/live", { headers: { authorization: `Bearer ${VIEWER}` } }, { onInit: (ws) => (received = frames(ws)) });
    await waitFor(() => received.length >= 1);
    state.applyReading({ device: "feeder-d1", ts: 1000, values: { power_w: 5 }, phases: { L1: { current_a: 2 } } });
    state.applyStatus({ device: "feeder-d1", ts: 1000, online: true });
    state.applyAlert("feeder-d1", "leakage", { id: "a1", rule: "leakage", device: "feeder-d1", building: "dorm-1", site: "test-school", severity: "warning", state: "firing", value: 160, threshold: 150, message: "m", started_at: "x", updated_at: "x" }, 0);
    await waitFor(() => received.length >= 4);
    expect(received.map((f) => [f.type, f.seq])).toEqual([["snapshot", 1], ["reading", 2], ["status", 3], ["alert", 4]]);
    expect(received[1]).toEqual({ type: "reading", site: "test-school", device: "feeder-d1", ts: 1000, values: { power_w: 5, phases: { L1: { current_a: 2 } } }, seq: 2 });
    expect(received[2]).toEqual({ type: "status", site: "test-school", device: "feeder-d1", online: true, seq: 3 });
    socket.terminate();
  });

  it("refuses a wrong token in the query with 4401", async () => {
    const { app } = await setUp();
    let closed: Promise<number> = Promise.resolve(0);
    await app.injectWS("/api/live?token=wrong-token-000000000", {}, { onInit: (ws) => (closed = new Promise((resolve) => ws.on("close", resolve))) });
    const code = await closed;
    expect(code).toBe(4401);
  });
});

describe("frames the live stream cannot use, after authentication", () => {
  it("answers each with an error frame and changes nothing: the connection, its subscription and other clients go on", async () => {
    const { app, state } = await setUp();
    const client = await tcpClient(app);
    const other = await tcpClient(app);
    client.socket.send(JSON.stringify({ type: "subscribe", devices: ["feeder-d1"] }));
    await waitFor(() => client.received.length >= 2, 5_000, { what: "the narrowed snapshot" });

    client.socket.send("{not json");
    client.socket.send(Buffer.from(JSON.stringify({ type: "subscribe" })), { binary: true });
    client.socket.send(JSON.stringify({ type: "unsubscribe", devices: ["feeder-d1"] }));
    client.socket.send("[1, 2]");
    client.socket.send(JSON.stringify({ type: "subscribe", devices: "brk-d1-101" }));
    client.socket.send(JSON.stringify({ type: "subscribe", buildings: [], interval_ms: "fast" }));
    const errorFrames = () => client.received.filter((f) => f.type === "error");
    await waitFor(() => errorFrames().length >= 6, 5_000, { what: "six error frames" });
    const errors = errorFrames();
    expect(errors.map((f) => (f.error as { code: string }).code)).toEqual(["INVALID_FRAME", "BINARY_FRAME", "UNKNOWN_TYPE", "INVALID_FRAME", "INVALID_SUBSCRIBE", "INVALID_SUBSCRIBE"]);
    expect(errors.every((f) => f.seq === undefined && typeof (f.error as { message: string }).message === "string")).toBe(true);
    expect((errors[4]!.error as { message: string }).message).toMatch(/\/devices/);

    // Still subscribed to feeder-d1 alone: brk-d1-101's reading does not come, the marker after it does.
    state.applyReading({ device: "brk-d1-101", ts: 2000, values: { power_w: 7 } });
    state.applyReading({ device: "feeder-d1", ts: 2000, values: { power_w: 8 } });
    await waitFor(() => client.received.some((f) => f.device === "feeder-d1"), 5_000, { what: "the marker reading" });
    const numbered = client.received.filter((f) => f.seq !== undefined);
    expect(numbered.map((f) => [f.type, f.seq, f.device])).toEqual([["snapshot", 1, undefined], ["snapshot", 2, undefined], ["reading", 3, "feeder-d1"]]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    // The other client saw neither the errors nor any change of its own subscription (everything).
    await waitFor(() => other.received.some((f) => f.device === "feeder-d1"), 5_000, { what: "the other client's marker" });
    expect(other.received.map((f) => [f.type, f.device])).toEqual([["snapshot", undefined], ["reading", "brk-d1-101"], ["reading", "feeder-d1"]]);
    client.socket.terminate();
    other.socket.terminate();
  });
});

describe("a live client that stops answering pings", () => {
  it("is cut at the first ping it leaves unanswered, one interval later, while a client that answers stays", async () => {
    const PING_MS = 200;
    const { app, metrics } = await setUp({ pingIntervalMs: PING_MS });
    const connectedAt = Date.now();
    const silent = await tcpClient(app, { autoPong: false });
    const answering = await tcpClient(app);

    // A ws client answers pings itself (RFC 6455 §5.5.2); with autoPong off this one never does.
    expect(await resultWithin(silent.closed, 10 * PING_MS, "still open")).toBe(1006); // terminated: no close frame
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(2 * PING_MS - 10);
    expect(silent.pings()).toBe(1);
    const noPong = (await metrics.getSingleMetric("campus_power_api_live_terminated_total")!.get()).values.find((v) => v.labels.reason === "no_pong")?.value;
    expect(noPong).toBe(1);
    // Marker: pings keep coming to the client that answers them, and it is still connected after three.
    await waitFor(() => answering.pings() >= 3, 5_000, { what: "three pings answered" });
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    answering.socket.terminate();
  });
});

describe("a slow live client", () => {
  async function pausedClient(app: FastifyInstance) {
    await app.listen({ port: 0, host: "127.0.0.1" });
    const port = (app.server.address() as AddressInfo).port;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/live?token=${VIEWER}`);
    const received = frames(socket);
    await waitFor(() => received.length >= 1);
    // Stop reading: the kernel buffers fill up, then the server's bufferedAmount grows.
    (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    return { socket, received, resume: () => (socket as unknown as { _socket: { resume(): void } })._socket.resume() };
  }

  const flood = (state: LiveState, rounds: number) => {
    const devices = ["feeder-d1", "brk-d1-101", "brk-c1-main"];
    const padding = "x".repeat(900); // ~1 KB per message, as the libraries note measured
    for (let i = 1; i <= rounds; i++) {
      for (const device of devices) state.applyReading({ device, ts: i, values: { power_w: i, padding } as never });
    }
  };

  it("gets the latest reading per device coalesced instead of an unbounded buffer", async () => {
    const { app, state, metrics } = await setUp({ coalesceMs: 0, softLimitBytes: 64 * 1024, hardLimitBytes: 64 * 1024 * 1024, softStuckMs: 60_000, flushIntervalMs: 20 });
    const { socket, received, resume } = await pausedClient(app);
    flood(state, 20_000); // 60 000 messages, ~60 MB if queued
    const coalesced = (await metrics.getSingleMetric("campus_power_api_live_coalesced_total")!.get()).values[0]!.value;
    expect(coalesced).toBeGreaterThan(50_000);
    resume();
    const latestArrived = await waitFor(() => ["feeder-d1", "brk-d1-101", "brk-c1-main"].every((d) => received.some((f) => f.device === d && f.ts === 20_000)), 15_000);
    expect(latestArrived).toBe(true); // the newest reading of every device, sent after the client read again
    expect(received.length).toBeLessThan(10_000);
    const seqs = received.map((f) => f.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // nothing lost between sent frames, in order
    socket.terminate();
  });

  it("is terminated when it stays above the limit", async () => {
    const { app, state, metrics } = await setUp({ coalesceMs: 0, softLimitBytes: 16 * 1024, softStuckMs: 300, flushIntervalMs: 20 });
    const { socket, resume } = await pausedClient(app);
    const closed = new Promise<number>((resolve) => socket.on("close", resolve));
    flood(state, 5_000);
    const terminated = async () =>
      (await metrics.getSingleMetric("campus_power_api_live_terminated_total")!.get()).values.find((v) => v.labels.reason === "slow")?.value;
    expect(await waitFor(terminated, 5_000)).toBe(1);
    resume(); // a paused client only notices the closed connection once it reads again
    expect(await closed).toBe(1006);
  });
});
