// The simulated fleet: one real MQTT connection per device (device-connection.ts), publishing what the
// pure stream (stream.ts) says through the bounded publish queue (publish-queue.ts). The stream is paced
// by the campus clock: event time = start + wall time × speed. A command a device receives goes into the
// stream at the campus clock's present, and its answer out through the device's queue at once (or when due).
import { setTimeout as sleep } from "node:timers/promises";
import type { Campus, Device } from "../domain/campus.js";
import type { Logger } from "../infra/logger.js";
import { Counter, Gauge, metric, Registry } from "../infra/metrics.js";
import type { RunningService } from "../infra/service.js";
import { finishesWithin } from "../infra/timeout.js";
import { connectDevice, DEVICE_RECONNECT_BACKOFF, type DeviceConnection } from "./device-connection.js";
import type { CommandBehaviour, Fault } from "./faults.js";
import { DEFAULT_OVERLOAD, pickOverloadDevice } from "./overload.js";
import { createPublishQueue, type Lane, type QueueTotals } from "./publish-queue.js";
import { createRng, deriveSeed } from "./random.js";
import { createStream, type Stream, type StreamItem } from "./stream.js";

export interface SimulatorOptions {
  campus: Campus;
  /** One broker's URL, or several comma separated (CONTRACT §12): device i tries broker i mod n first, then the next. */
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
  /**
   * Devices that misbehave when commanded, for the whole run (a scenario's `command` fault does it for a
   * window): ignore, refuse, or act `delayMs` of event time late (campus clock: ÷ speed in wall time).
   */
  commandBehaviour?: Readonly<Record<string, { mode: CommandBehaviour; delayMs?: number }>>;
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
  /** Devices connected right now, by the URL of their broker (one entry with a single broker). */
  connectedByBroker(): Map<string, number>;
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

/** Publishes acknowledged, reports dropped (oldest first, at most `MAX_QUEUED_PER_DEVICE` kept per device), failures, and the queue now. */
export type SimulatorStats = QueueTotals;

interface SimulatedDevice {
  connection: DeviceConnection;
  lane: Lane;
}

/** A device that cannot publish (disconnected, or the broker slow) keeps its latest this many messages only. */
export const MAX_QUEUED_PER_DEVICE = 50;
const MAX_QUEUED = 20_000; // the stream is not read further ahead than this many messages
const STOP_DEADLINE_MS = 4_000;
/** Of the stop's deadline, what is left for the devices to say "offline" and disconnect, ms. */
const LEAVE_MS = 2_000;

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const { campus, log } = options;
  const seed = options.seed ?? 1;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new Error(`speed must be above 0 (got ${speed})`);
  const registry = options.metrics ?? new Registry();
  const gauge = metric(registry, "campus_power_sim_connected_devices", () => new Gauge({ name: "campus_power_sim_connected_devices", help: "Simulated devices connected to the broker", registers: [registry] }));
  const failures = metric(registry, "campus_power_sim_publish_failures_total", () => new Counter({ name: "campus_power_sim_publish_failures_total", help: "Publishes of simulated devices that failed", registers: [registry] }));
  const queue = createPublishQueue({
    maxInFlight: options.maxInFlight ?? 200,
    maxQueuedPerDevice: MAX_QUEUED_PER_DEVICE,
    counters: {
      published: metric(registry, "campus_power_sim_messages_published_total", () => new Counter({ name: "campus_power_sim_messages_published_total", help: "Messages the simulated devices published (acknowledged at QoS 1)", registers: [registry] })),
      failures,
      dropped: metric(registry, "campus_power_sim_messages_dropped_total", () => new Counter({ name: "campus_power_sim_messages_dropped_total", help: "Reports dropped because a disconnected device's queue was full", registers: [registry] })),
    },
    onSettled: () => settle(),
    onPublishError: (error) => log.debug({ err: error }, "simulated publish failed"),
  });

  const commandsReceived = metric(registry, "campus_power_sim_commands_total", () => new Counter({ name: "campus_power_sim_commands_total", help: "Commands the simulated devices received, by what they did (obeyed, delayed, refused, ignored, expired, invalid; unready: before the simulation started)", labelNames: ["outcome"], registers: [registry] }));

  const overloadDevice = options.demoOverload ? pickOverloadDevice(campus) : undefined;
  if (options.demoOverload && !overloadDevice) log.warn("demo overload: no single-phase dormitory breaker in the campus; skipped");
  const wanted = options.onlyDevices ? new Set(options.onlyDevices) : null;
  const candidates = campus.devices.filter((d) => wanted === null || wanted.has(d.id)).filter((d) => simulatable(d, log));

  const ioRng = createRng(deriveSeed(seed, "io"));
  /** Created once the devices are connected; a command that comes before is not taken in. */
  let stream: Stream | undefined;
  let eventNow = () => Date.now();
  const receiveCommand = (device: Device, payload: string) => {
    if (stream === undefined) {
      commandsReceived.inc({ outcome: "unready" });
      log.info({ device: device.id }, "simulated device got a command before the simulation started; ignored");
      return;
    }
    const decision = stream.receive(device, payload, eventNow());
    commandsReceived.inc({ outcome: decision.outcome });
    log.info({ device: device.id, outcome: decision.outcome, reason: decision.reason, payload: payload.slice(0, 200) }, "simulated device got a command");
    pump();
  };
  const reconnectBackoff = { ...DEVICE_RECONNECT_BACKOFF, ...options.reconnectBackoff };
  const sims = new Map<string, SimulatedDevice>();
  const failed: string[] = [];
  let stopped = false;
  let connectedCount = 0;

  const firstBroker = new Map(candidates.map((device, index) => [device.id, index]));
  const connectOne = async (device: Device) => {
    await sleep(ioRng() * 100); // jitter: handshakes spread out even within the concurrency window
    if (stopped) return;
    // The lane needs the connection it publishes through; the first `onUp` comes before both exist (nothing is queued yet).
    let lane: Lane | undefined;
    const connection = await connectDevice(device, { mqttUrl: options.mqttUrl, firstBroker: firstBroker.get(device.id)!, deviceGroupKey: options.deviceGroupKey, log, random: ioRng, reconnectBackoff }, {
      onUp: () => {
        gauge.set(++connectedCount);
        lane?.resume();
      },
      onDown: (wasUp) => {
        if (wasUp) connectedCount--;
        lane?.abandonInFlight();
        gauge.set(connectedCount);
      },
      onCommand: (payload) => receiveCommand(device, payload),
    });
    if (connection === null) failed.push(device.id);
    else {
      lane = queue.lane(connection);
      sims.set(device.id, { connection, lane });
    }
  };
  await runLimited(candidates, options.connectConcurrency ?? 8, connectOne);
  log.info({ connected: sims.size, failed: failed.length, speed, seed }, "simulator devices connected");
  if (failed.length > 0) log.warn({ devices: failed }, "simulated devices that could not connect");

  const wallStart = Date.now();
  const startMs = typeof options.startMs === "function" ? options.startMs(wallStart) : (options.startMs ?? wallStart);
  const endMs = options.durationMs === undefined ? Infinity : startMs + options.durationMs * speed;
  eventNow = () => Math.min(endMs, startMs + (Date.now() - wallStart) * speed);
  stream = createStream({
    campus,
    devices: candidates.filter((d) => sims.has(d.id)),
    seed,
    startMs,
    faults: [...commandBehaviourFaults(options.commandBehaviour ?? {}), ...(options.faults ?? [])],
    overload: overloadDevice ? { ...DEFAULT_OVERLOAD, deviceId: overloadDevice.id } : null,
  });

  const handle = (item: StreamItem) => {
    const sim = sims.get(item.device.id)!;
    if (item.kind === "report") sim.lane.enqueue(item.messages);
    else if (item.kind === "drop") {
      // The device loses power: what it buffered is gone, and the broker publishes its last will.
      sim.lane.clear();
      sim.connection.powerOff();
    } else sim.connection.powerOn();
  };

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const settle = () => {
    if (stream!.nextDueMs() > endMs && queue.queued === 0 && queue.inFlight === 0) finish();
  };

  const minIntervalMs = Math.min(...candidates.map((d) => d.report_interval_s * 1000), 60_000);
  const tickMs = Math.min(200, Math.max(20, minIntervalMs / speed / 4));
  let timer: NodeJS.Timeout | undefined;
  /** Hands everything due by the campus clock's present to the devices' queues. */
  function pump() {
    if (queue.queued < MAX_QUEUED) for (const item of stream!.take(eventNow(), MAX_QUEUED - queue.queued)) handle(item);
    settle();
  }
  const tick = () => {
    if (stopped) return;
    pump();
    timer = setTimeout(tick, tickMs);
  };
  tick();

  const stop = async () => {
    if (stopped) return;
    const deadline = Date.now() + STOP_DEADLINE_MS;
    // The publishes in flight get their PUBACKs first, within what the deadline leaves after the leave.
    await finishesWithin(queue.drained(), STOP_DEADLINE_MS - LEAVE_MS);
    stopped = true;
    queue.close();
    if (timer) clearTimeout(timer);
    finish();
    const leaving = [...sims.values()].map(async ({ connection }) => {
      if (!(await connection.leave())) failures.inc();
    });
    await finishesWithin(Promise.allSettled(leaving), Math.max(0, deadline - Date.now()));
    for (const { connection } of sims.values()) connection.abort();
    gauge.set(0);
    log.info("simulator stopped");
  };

  return {
    stop,
    get connected() {
      return stopped ? 0 : [...sims.values()].filter((s) => s.connection.connected).length;
    },
    connectedByBroker() {
      const counts = new Map<string, number>();
      if (stopped) return counts;
      for (const { connection } of sims.values()) {
        const broker = connection.broker;
        if (broker !== null) counts.set(broker, (counts.get(broker) ?? 0) + 1);
      }
      return counts;
    },
    failed,
    eventNow,
    startMs,
    endMs,
    finished,
    stats: () => queue.totals(),
  };
}

/** The run-long misbehaviours of `commandBehaviour` as `command` faults from the start (faults.ts). */
function commandBehaviourFaults(behaviours: NonNullable<SimulatorOptions["commandBehaviour"]>): Fault[] {
  return Object.entries(behaviours).map(([device, { mode, delayMs }]) => ({ type: "command", device, atMs: 0, forMs: Infinity, rampMs: 0, value: delayMs ?? 0, behaviour: mode }));
}

function simulatable(device: Device, log: Logger): boolean {
  if (device.secret_sha256 === undefined) return true;
  // Only the hash of its own secret is known, so its password cannot be derived from the group key.
  log.info({ device: device.id }, "not simulated: the device has its own secret (secret_sha256)");
  return false;
}

/** Runs `task` on every item, at most `limit` at once. */
async function runLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
