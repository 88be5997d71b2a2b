// The simulator's I/O shell: one real MQTT connection per simulated device, with the device's own
// credentials and last will (CONTRACT §3), publishing what the pure stream (stream.ts) says, in its
// configured format. The stream is paced by the campus clock: event time = start + wall time × speed.
import mqtt, { type MqttClient } from "mqtt";
import type { Campus, Device } from "../domain/campus.js";
import { devicePassword } from "../domain/credentials.js";
import type { Logger } from "../infra/logger.js";
import { Counter, Gauge, metric, Registry } from "../infra/metrics.js";
import { mqttOptions } from "../infra/mqtt.js";
import type { RunningService } from "../infra/service.js";
import type { Fault } from "./faults.js";
import { availabilityMessage, type OutMessage } from "./messages.js";
import { DEFAULT_OVERLOAD, pickOverloadDevice } from "./overload.js";
import { backoffDelayMs } from "../infra/backoff.js";
import { finishesWithin, resultWithin } from "../infra/timeout.js";
import { createRng, deriveSeed, type Rng } from "./random.js";
import { createStream, type StreamItem } from "./stream.js";

export interface SimulatorOptions {
  campus: Campus;
  mqttUrl: string;
  deviceGroupKey: string;
  log: Logger;
  metrics?: Registry;
  /** Seed of every random choice (default 1): the same seed (and start) gives the same stream. */
  seed?: number;
  /** Campus clock speed: event time runs `speed` times faster than wall time (default 1). */
  speed?: number;
  /**
   * Event time of the start, epoch ms (default: now), or a function of the wall time publishing starts
   * at (after the connections): with speed > 1 the start lies in the past so the run ends at the present.
   */
  startMs?: number | ((wallStartMs: number) => number);
  /** Wall time after which the stream ends (default: never); event time then ends at start + duration × speed. */
  durationMs?: number;
  /** Runs the demo overload episode on one dorm-room breaker (overload.ts). */
  demoOverload?: boolean;
  /** Scenario faults, in event time from the start. */
  faults?: readonly Fault[];
  /** Only these device ids connect and publish (the whole campus is still modelled, so totals hold). */
  onlyDevices?: readonly string[];
  /** Handshakes in progress at once (default 8; raise for load tests). */
  connectConcurrency?: number;
  /** QoS 1 publishes awaiting PUBACK across all devices (default 200). */
  maxInFlight?: number;
  /** Reconnect backoff after a lost connection (infra/backoff.ts): first ceiling and cap, ms (default 1 s, 30 s). */
  reconnectBackoff?: { baseMs?: number; capMs?: number };
}

export interface RunningSimulator extends RunningService {
  /** Devices connected right now. */
  readonly connected: number;
  /** Devices that could not connect at start. */
  readonly failed: readonly string[];
  /** Event time of the campus clock now, epoch ms. */
  eventNow(): number;
  readonly startMs: number;
  /** Event time the stream ends at (Infinity without a duration). */
  readonly endMs: number;
  /** Resolves once the stream has ended and everything generated was handed to the broker. */
  readonly finished: Promise<void>;
  stats(): SimulatorStats;
}

export interface SimulatorStats {
  /** Publishes acknowledged (PUBACK). */
  published: number;
  /** Reports dropped, oldest first, from the queue of a device that could not publish (at most `MAX_QUEUED_PER_DEVICE` kept). */
  dropped: number;
  failures: number;
  /** Messages generated and waiting for their device's publish slot, all devices. */
  queued: number;
  /** The longest queue of one device right now (never above `MAX_QUEUED_PER_DEVICE`). */
  longestQueue: number;
  /** QoS 1 publishes awaiting PUBACK right now (never above `maxInFlight`; at most one per device). */
  inFlight: number;
}

interface SimulatedDevice {
  device: Device;
  client: MqttClient;
  queue: OutMessage[];
  busy: boolean;
  /** Token of the publish in flight, null when none. */
  publishing: number | null;
  /** Taken down by an `offline` fault: no reconnect until `restore`. */
  dropped: boolean;
  attempt: number;
  timer?: NodeJS.Timeout;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** A simulated device reconnects as a well-made real one should: from ~1 s, up to 30 s (infra/backoff.ts). */
const RECONNECT_BACKOFF = { baseMs: 1_000, capMs: 30_000 };
/** A device that cannot publish (disconnected, or the broker slow) keeps its latest this many messages only. */
export const MAX_QUEUED_PER_DEVICE = 50;
const MAX_QUEUED = 20_000; // the stream is not read further ahead than this many messages
const STOP_DEADLINE_MS = 4_000;

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const { campus, log } = options;
  const seed = options.seed ?? 1;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new Error(`speed must be above 0 (got ${speed})`);
  const maxInFlight = options.maxInFlight ?? 200;
  const registry = options.metrics ?? new Registry();
  const gauge = metric(registry, "campus_power_sim_connected_devices", () => new Gauge({ name: "campus_power_sim_connected_devices", help: "Simulated devices connected to the broker", registers: [registry] }));
  const published = metric(registry, "campus_power_sim_messages_published_total", () => new Counter({ name: "campus_power_sim_messages_published_total", help: "Messages the simulated devices published (acknowledged at QoS 1)", registers: [registry] }));
  const failures = metric(registry, "campus_power_sim_publish_failures_total", () => new Counter({ name: "campus_power_sim_publish_failures_total", help: "Publishes of simulated devices that failed", registers: [registry] }));
  const dropped = metric(registry, "campus_power_sim_messages_dropped_total", () => new Counter({ name: "campus_power_sim_messages_dropped_total", help: "Reports dropped because a disconnected device's queue was full", registers: [registry] }));
  const counts = { published: 0, dropped: 0, failures: 0 };

  const overloadDevice = options.demoOverload ? pickOverloadDevice(campus) : undefined;
  if (options.demoOverload && !overloadDevice) log.warn("demo overload: no single-phase dormitory breaker in the campus; skipped");
  const wanted = options.onlyDevices ? new Set(options.onlyDevices) : null;
  const candidates = campus.devices.filter((d) => wanted === null || wanted.has(d.id)).filter((d) => simulatable(d, log));

  const ioRng = createRng(deriveSeed(seed, "io"));
  const sims = new Map<string, SimulatedDevice>();
  const failed: string[] = [];
  let stopped = false;
  let connectedCount = 0;
  let inFlight = 0;
  let queued = 0;
  let publishSeq = 0;
  const waiting = new Set<SimulatedDevice>();

  const pump = (sim: SimulatedDevice): void => {
    if (sim.busy || !sim.client.connected || sim.queue.length === 0 || stopped) return;
    if (inFlight >= maxInFlight) {
      waiting.add(sim);
      return;
    }
    const message = sim.queue.shift()!;
    queued--;
    sim.busy = true;
    inFlight++;
    const token = ++publishSeq;
    sim.publishing = token;
    sim.client.publishAsync(message.topic, message.payload, { qos: 1, retain: message.retain ?? false }).then(
      () => release(sim, token, true),
      (error: unknown) => {
        log.debug({ device: sim.device.id, err: error }, "simulated publish failed");
        release(sim, token, false);
      },
    );
  };

  /** Frees a device's publish slot once, whether its PUBACK came or its connection died first. */
  const release = (sim: SimulatedDevice, token: number, ok: boolean) => {
    if (sim.publishing !== token) return;
    sim.publishing = null;
    if (ok) (published.inc(), counts.published++);
    else (failures.inc(), counts.failures++);
    sim.busy = false;
    inFlight--;
    pump(sim);
    for (const next of waiting) {
      if (inFlight >= maxInFlight) break;
      waiting.delete(next);
      pump(next);
    }
    settle();
  };

  const enqueue = (sim: SimulatedDevice, messages: OutMessage[]) => {
    sim.queue.push(...messages);
    queued += messages.length;
    while (sim.queue.length > MAX_QUEUED_PER_DEVICE) {
      sim.queue.shift();
      queued--;
      dropped.inc();
      counts.dropped++;
    }
    pump(sim);
  };

  const connectOne = async (device: Device) => {
    await sleep(ioRng() * 100); // jitter: handshakes spread out even within the concurrency window
    if (stopped) return;
    const sim = await connectDevice(options, device, ioRng, {
      onConnect: (s) => {
        connectedCount++;
        gauge.set(connectedCount);
        s.attempt = 0;
        const online = availabilityMessage(device, true);
        // Retained, so a late subscriber sees the device online; repeated after every reconnect because
        // the broker may have published the will meanwhile.
        s.client.publish(online.topic, online.payload, { qos: 1, retain: true }, () => {});
        pump(s);
      },
      onClose: (s, wasConnected) => {
        if (wasConnected) connectedCount--;
        // A publish in flight when the link died may never settle (mqtt.js keeps it for a resend): count
        // it failed and free the slot, so the device goes on with its next report once it is back.
        if (s.publishing !== null) release(s, s.publishing, false);
        gauge.set(connectedCount);
        if (stopped || s.dropped || s.timer) return;
        s.attempt++;
        s.timer = setTimeout(() => {
          s.timer = undefined;
          if (!stopped && !s.dropped) reconnect(s.client);
        }, backoffDelayMs(s.attempt - 1, ioRng(), { ...RECONNECT_BACKOFF, ...options.reconnectBackoff }));
      },
    });
    if (sim === null) failed.push(device.id);
    else sims.set(device.id, sim);
  };
  await runLimited(candidates, options.connectConcurrency ?? 8, connectOne);
  log.info({ connected: sims.size, failed: failed.length, speed, seed }, "simulator devices connected");
  if (failed.length > 0) log.warn({ devices: failed }, "simulated devices that could not connect");

  const wallStart = Date.now();
  const startMs = typeof options.startMs === "function" ? options.startMs(wallStart) : (options.startMs ?? wallStart);
  const endMs = options.durationMs === undefined ? Infinity : startMs + options.durationMs * speed;
  const eventNow = () => Math.min(endMs, startMs + (Date.now() - wallStart) * speed);
  const stream = createStream({
    campus,
    devices: candidates.filter((d) => sims.has(d.id)),
    seed,
    startMs,
    faults: options.faults ?? [],
    overload: overloadDevice ? { ...DEFAULT_OVERLOAD, deviceId: overloadDevice.id } : null,
  });

  const handle = (item: StreamItem) => {
    const sim = sims.get(item.device.id)!;
    if (item.kind === "report") enqueue(sim, item.messages);
    else if (item.kind === "drop") {
      // The connection dies without DISCONNECT (power lost), so the broker publishes the last will.
      sim.dropped = true;
      queued -= sim.queue.length;
      sim.queue.length = 0;
      sim.client.stream?.destroy();
    } else {
      sim.dropped = false;
      reconnect(sim.client);
    }
  };

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const settle = () => {
    if (stream.nextDueMs() > endMs && queued === 0 && inFlight === 0) finish();
  };

  const minIntervalMs = Math.min(...candidates.map((d) => d.report_interval_s * 1000), 60_000);
  const tickMs = Math.min(200, Math.max(20, minIntervalMs / speed / 4));
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    if (queued < MAX_QUEUED) for (const item of stream.take(eventNow(), MAX_QUEUED - queued)) handle(item);
    settle();
    timer = setTimeout(tick, tickMs);
  };
  tick();

  const stop = async () => {
    if (stopped) return;
    const deadline = Date.now() + STOP_DEADLINE_MS;
    while (inFlight > 0 && Date.now() < deadline - 2_000) await sleep(20);
    stopped = true;
    if (timer) clearTimeout(timer);
    finish();
    // A clean DISCONNECT makes the broker discard the last will ([MQTT-3.14.4-3]), so each device says
    // it is offline (retained) itself before leaving; a crash still leaves the will to say it.
    await finishesWithin(
      Promise.allSettled(
        [...sims.values()].map(async (sim) => {
          clearTimeout(sim.timer);
          if (sim.client.connected) {
            const offline = availabilityMessage(sim.device, false);
            await sim.client.publishAsync(offline.topic, offline.payload, { qos: 1, retain: true }).catch(() => failures.inc());
            await sim.client.endAsync();
          } else await sim.client.endAsync(true);
        }),
      ),
      Math.max(0, deadline - Date.now()),
    );
    for (const sim of sims.values()) if (!sim.client.disconnected) sim.client.end(true);
    gauge.set(0);
    log.info("simulator stopped");
  };

  return {
    stop,
    get connected() {
      return stopped ? 0 : [...sims.values()].filter((s) => s.client.connected).length;
    },
    failed,
    eventNow,
    startMs,
    endMs,
    finished,
    stats: () => ({ ...counts, queued, inFlight, longestQueue: Math.max(0, ...[...sims.values()].map((s) => s.queue.length)) }),
  };
}

/** Reconnects keeping the stores, so QoS 1 messages in flight when the link died are sent again (and settle). */
function reconnect(client: MqttClient): void {
  client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
}

function simulatable(device: Device, log: Logger): boolean {
  if (device.secret_sha256 === undefined) return true;
  // Only the hash of its own secret is known, so its password cannot be derived from the group key.
  log.info({ device: device.id }, "not simulated: the device has its own secret (secret_sha256)");
  return false;
}

interface Hooks {
  onConnect(sim: SimulatedDevice): void;
  onClose(sim: SimulatedDevice, wasConnected: boolean): void;
}

async function connectDevice(options: SimulatorOptions, device: Device, rng: Rng, hooks: Hooks): Promise<SimulatedDevice | null> {
  const will = availabilityMessage(device, false);
  // reconnectPeriod 0: reconnects are ours (jittered exponential backoff, random.ts), not mqtt.js's fixed period.
  const client = mqtt.connect(options.mqttUrl, {
    ...mqttOptions({
      url: options.mqttUrl,
      clientId: device.id,
      username: device.id,
      password: devicePassword(device.id, options.deviceGroupKey),
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      random: rng,
    }),
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  client.on("error", () => {}); // logged below or when the first CONNACK is refused; never crash the process
  const connected = new Promise<true | Error>((resolve) => {
    client.once("connect", () => resolve(true));
    client.once("error", (err) => resolve(err));
    client.once("close", () => resolve(new Error("connection closed before CONNACK")));
  });
  const ok = await resultWithin(connected, CONNECT_TIMEOUT_MS, new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS} ms`));
  if (ok !== true) {
    options.log.warn({ device: device.id, err: ok.message }, "simulated device could not connect");
    client.end(true);
    return null;
  }
  const sim: SimulatedDevice = { device, client, queue: [], busy: false, publishing: null, dropped: false, attempt: 0 };
  let wasConnected = true;
  client.on("connect", () => {
    wasConnected = true;
    hooks.onConnect(sim);
  });
  client.on("close", () => {
    hooks.onClose(sim, wasConnected);
    wasConnected = false;
  });
  hooks.onConnect(sim);
  return sim;
}

async function runLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
