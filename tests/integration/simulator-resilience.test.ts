// The simulator's I/O shell when the broker goes away or slows down (issue 6): a fleet of simulated
// devices against the real broker (restarted on the same port), real mqtt.js clients, a real TCP relay
// standing in for a slow network. No mocks.
import { connect as tcpConnect, createServer, type Server, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { MAX_QUEUED_PER_DEVICE, type RunningSimulator, startSimulator } from "../../simulator/index.js";
import { scaleCampus } from "../../simulator/scale.js";
import { waitFor } from "../helpers/wait.js";

const GROUP_KEY = "simulator-resilience-group-key-0123";
const SERVICE_PASSWORD = "simulator-resilience-service-password";
const FLEET = 50;
const campus = scaleCampus(loadCampus("scenarios/campus.yaml"), FLEET);
const env = readEnv({ DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, LOG_LEVEL: "silent" });
const ctx: ServiceContext = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
const log = createLogger("silent");

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The real broker; `port` 0 = ephemeral, else that port again (a restart). No journal: nothing to replay here. */
async function broker(port = 0): Promise<RunningBroker> {
  const b = await startBroker({ ...ctx, metrics: createRegistry(false) }, { port, wsPort: 0, host: "127.0.0.1", journal: false });
  cleanups.push(() => b.stop());
  return b;
}

async function simulator(mqttUrl: string, extra: Partial<Parameters<typeof startSimulator>[0]> = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ campus, mqttUrl, deviceGroupKey: GROUP_KEY, log, seed: 5, connectConcurrency: 16, ...extra });
  cleanups.push(() => sim.stop());
  return sim;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The most of `times` inside any window of `windowMs`. */
function densest(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
const spread = (times: readonly number[]) => Math.max(...times) - Math.min(...times);

/** Heap in use after a full collection (v8's gc, made callable at run time). */
function heapAfterGc(): number {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Samples the simulator's queue and in-flight figures every few ms until stopped. */
function sampler(sim: RunningSimulator) {
  const worst = { longestQueue: 0, queued: 0, inFlight: 0 };
  const timer = setInterval(() => {
    const s = sim.stats();
    worst.longestQueue = Math.max(worst.longestQueue, s.longestQueue);
    worst.queued = Math.max(worst.queued, s.queued);
    worst.inFlight = Math.max(worst.inFlight, s.inFlight);
  }, 10);
  return { worst, stop: () => clearInterval(timer) };
}

async function droppedMetric(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("campus_power_sim_messages_dropped_total")!.get();
  return metric.values[0]?.value ?? 0;
}

describe("simulator when the broker goes away", () => {
  it("reconnects a fleet with jittered backoff, spread out rather than in lock-step", async () => {
    const first = await broker();
    const port = first.tcpPort;
    const url = `mqtt://127.0.0.1:${port}`;
    // Short backoff for the test: ceilings 100, 200, 400, 800 ms, then 1.6 s (the default is 1 s … 30 s).
    const sim = await simulator(url, { speed: 20, reconnectBackoff: { baseMs: 100, capMs: 1_600 } });
    expect(sim.failed).toEqual([]);
    expect(sim.connected).toBe(FLEET);
    // What a fixed period gives: plain mqtt.js clients reconnecting every 800 ms (mqtt.js's own scheme).
    const control: MqttClient[] = [];
    for (let i = 0; i < 20; i++) {
      const client = await mqtt.connectAsync(url, { clientId: `fixed-period-${i}`, username: "campus-service", password: SERVICE_PASSWORD, reconnectPeriod: 800, connectTimeout: 5_000 });
      client.on("error", () => {});
      control.push(client);
    }
    cleanups.push(() => Promise.all(control.map((c) => c.endAsync(true))));

    await first.stop(); // every connection dies at the same instant
    await waitFor(() => sim.connected === 0, 5_000, { intervalMs: 25, what: "every device sees the broker gone" });
    await sleep(2_500); // several failed attempts each: the backoff reaches its cap
    const second = await broker(port);
    const readyAt = new Map<string, number>();
    second.aedes.on("clientReady", (client) => readyAt.set(client.id, Date.now()));
    await waitFor(() => sim.connected === FLEET && control.every((c) => c.connected), 15_000, { intervalMs: 25, what: "every device and control client back" });

    const fleet = campus.devices.map((d) => readyAt.get(d.id));
    expect(fleet.filter((t) => t === undefined), "devices that never reconnected").toEqual([]);
    const fleetTimes = fleet as number[];
    const fixedTimes = control.map((_, i) => readyAt.get(`fixed-period-${i}`)!);
    const summary = `fleet: spread ${spread(fleetTimes)} ms, at most ${densest(fleetTimes, 100)}/${FLEET} in 100 ms; fixed period: spread ${spread(fixedTimes)} ms, at most ${densest(fixedTimes, 100)}/${control.length} in 100 ms`;
    // The jittered fleet comes back over most of the last ceiling (0.8–1.6 s) …
    expect(spread(fleetTimes), summary).toBeGreaterThanOrEqual(400);
    // … never half of it within one 100 ms window …
    expect(densest(fleetTimes, 100), summary).toBeLessThanOrEqual(FLEET / 2);
    // … and wider than clients that retry on one fixed period, which come back together.
    expect(spread(fleetTimes), summary).toBeGreaterThan(spread(fixedTimes));
    // Back to work: every device publishes again.
    const before = sim.stats().published;
    await waitFor(() => sim.stats().published > before + FLEET, 10_000, { intervalMs: 25, what: "publishing again" });
  });

  it("bounds each device's queue while the broker is unreachable, dropping (and counting) the oldest, in bounded memory", async () => {
    const first = await broker();
    const port = first.tcpPort;
    const registry = createRegistry(false);
    // 600×: every device generates about 60–120 reports a second, far more than the outage may keep.
    // What one report costs to keep, at least: its topic and payload text, as a subscriber receives them.
    const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "size-observer", username: "campus-service", password: SERVICE_PASSWORD, reconnectPeriod: 0 });
    const sizes: number[] = [];
    observer.on("message", (topic, payload) => sizes.push(topic.length + payload.length));
    await observer.subscribeAsync(["campus/devices/+/telemetry", "tele/+/SENSOR", "shellies/#", "+/events/rpc", "zigbee2mqtt/+"], { qos: 0 });
    const sim = await simulator(`mqtt://127.0.0.1:${port}`, { speed: 600, metrics: registry, reconnectBackoff: { baseMs: 100, capMs: 2_000 } });
    expect(sim.connected).toBe(FLEET);
    await waitFor(() => sizes.length >= 500, 5_000, { intervalMs: 25, what: "reports seen" });
    await observer.endAsync(true);
    const reportBytes = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const samples = sampler(sim);
    cleanups.push(async () => samples.stop());

    await first.stop();
    await waitFor(() => sim.connected === 0, 5_000, { intervalMs: 25, what: "every device sees the broker gone" });
    await waitFor(() => sim.stats().longestQueue === MAX_QUEUED_PER_DEVICE, 5_000, { intervalMs: 25, what: "queues full" });
    await sleep(1_000); // warm-up: code paths compiled, failed reconnects under way
    const heapFull = heapAfterGc();
    const droppedFull = sim.stats().dropped;
    await sleep(3_000);
    const droppedLater = sim.stats().dropped;
    const heapLater = heapAfterGc();
    samples.stop();

    const stats = sim.stats();
    expect(samples.worst.longestQueue).toBe(MAX_QUEUED_PER_DEVICE);
    expect(samples.worst.queued).toBeLessThanOrEqual(FLEET * MAX_QUEUED_PER_DEVICE);
    expect(stats.queued).toBeLessThanOrEqual(FLEET * MAX_QUEUED_PER_DEVICE);
    expect(stats.inFlight).toBe(0); // the publishes in flight when the links died were counted failed
    // Thousands of reports generated and dropped during the outage, every one counted in the metric.
    const droppedDuring = droppedLater - droppedFull;
    expect(droppedDuring).toBeGreaterThan(3_000);
    expect(await droppedMetric(registry)).toBe(stats.dropped);
    // Kept, those reports would take at least their text (≈ reportBytes each): the heap grew by a fraction of that.
    const grown = heapLater - heapFull;
    const wouldKeep = droppedDuring * reportBytes;
    expect(grown, `heap grew ${grown} bytes while ${droppedDuring} reports (${Math.round(wouldKeep)} bytes of text) were dropped`).toBeLessThan(wouldKeep / 4);

    // The broker back: the devices reconnect and the queues drain.
    await broker(port);
    await waitFor(() => sim.connected === FLEET, 10_000, { intervalMs: 25, what: "every device back" });
    const published = sim.stats().published;
    await waitFor(() => sim.stats().published > published + FLEET, 10_000, { intervalMs: 25, what: "publishing again" });
  });

  it("bounds in-flight publishes and queues while the broker is slow to acknowledge", async () => {
    const real = await broker();
    // A slow link: a real TCP relay in front of the broker that stops forwarding for a while.
    let stalled = false;
    const pairs: [Socket, Socket][] = [];
    const relay: Server = createServer((inbound) => {
      const outbound = tcpConnect(real.tcpPort, "127.0.0.1");
      pairs.push([inbound, outbound]);
      inbound.on("error", () => outbound.destroy());
      outbound.on("error", () => inbound.destroy());
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      if (stalled) (inbound.pause(), outbound.pause());
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      for (const [a, b] of pairs) (a.destroy(), b.destroy());
      await new Promise((resolve) => relay.close(resolve));
    });
    const relayPort = (relay.address() as { port: number }).port;
    const registry = createRegistry(false);
    const maxInFlight = 20; // below the fleet, so the overall bound is reached too
    const sim = await simulator(`mqtt://127.0.0.1:${relayPort}`, { speed: 600, metrics: registry, maxInFlight });
    expect(sim.connected).toBe(FLEET);
    await waitFor(() => sim.stats().published >= FLEET, 5_000, { intervalMs: 25, what: "publishing through the relay" });
    const samples = sampler(sim);
    cleanups.push(async () => samples.stop());

    // No PUBACK gets through: unpipe, so nothing is read from either side of the relay.
    stalled = true;
    for (const [a, b] of pairs) (a.unpipe(b), b.unpipe(a), a.pause(), b.pause());
    const droppedBefore = sim.stats().dropped;
    await waitFor(() => sim.stats().longestQueue === MAX_QUEUED_PER_DEVICE, 5_000, { intervalMs: 25, what: "queues full" });
    await sleep(1_500);
    expect(sim.connected, "still connected: the link is slow, not gone").toBe(FLEET);
    const duringStall = sim.stats();
    samples.stop();
    expect(duringStall.inFlight).toBe(maxInFlight);
    expect(samples.worst.inFlight).toBeLessThanOrEqual(maxInFlight);
    expect(samples.worst.longestQueue).toBe(MAX_QUEUED_PER_DEVICE);
    expect(samples.worst.queued).toBeLessThanOrEqual(FLEET * MAX_QUEUED_PER_DEVICE);
    expect(duringStall.dropped - droppedBefore).toBeGreaterThan(1_000);
    expect(await droppedMetric(registry)).toBe(duringStall.dropped);

    // The link flows again: the held publishes are acknowledged and the devices go on.
    stalled = false;
    for (const [a, b] of pairs) (a.pipe(b), b.pipe(a), a.resume(), b.resume());
    const published = duringStall.published;
    await waitFor(() => sim.stats().published > published + FLEET, 10_000, { intervalMs: 25, what: "acknowledged again" });
    expect(sim.stats().inFlight).toBeLessThanOrEqual(maxInFlight);
  });
});
