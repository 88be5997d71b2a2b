// The simulator's I/O shell: one real MQTT connection per simulated device, with the device's own
// credentials (CONTRACT §3), publishing what the pure model (model.ts) says at each report interval.
import mqtt, { type MqttClient } from "mqtt";
import type { Campus, Device } from "../domain/campus.js";
import { devicePassword } from "../domain/credentials.js";
import { deviceTopic } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import { Counter, Gauge, metric, Registry } from "../infra/metrics.js";
import { mqttOptions } from "../infra/mqtt.js";
import type { RunningService } from "../infra/service.js";
import { advanceTo, createCampusModel } from "./model.js";
import { DEFAULT_OVERLOAD, pickOverloadDevice } from "./overload.js";
import { nativeReading, tasmotaSensor } from "./payloads.js";
import { createRng, deriveSeed, type Rng } from "./random.js";

export interface SimulatorOptions {
  campus: Campus;
  mqttUrl: string;
  deviceGroupKey: string;
  log: Logger;
  metrics?: Registry;
  /** Seed of every random choice (default 1): the same seed gives the same campus. */
  seed?: number;
  /** Multiplies the simulated clock (event time); 1 = wall time. Past-start for speed > 1 comes later. */
  speed?: number;
  /** Runs the demo overload episode on one dorm-room breaker (overload.ts). */
  demoOverload?: boolean;
  /** Only these device ids connect and publish (the whole campus is still modelled, so totals hold). */
  onlyDevices?: string[];
}

export interface RunningSimulator extends RunningService {
  /** Devices connected right now. */
  readonly connected: number;
}

interface SimulatedDevice {
  device: Device;
  client: MqttClient;
  telemetryTopic: string;
  statusTopic: string;
  online: string;
  offline: string;
  nextDueMs: number;
  busy: boolean;
}

const CONNECT_CONCURRENCY = 8; // a few handshakes at a time: 400 devices do not stampede the broker
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_IN_FLIGHT = 200; // QoS 1 publishes awaiting PUBACK across all devices (libraries.md §2)
const STOP_DEADLINE_MS = 4_000;
const FIRST_REPORT_WITHIN_MS = 5_000;

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const { campus, log } = options;
  const seed = options.seed ?? 1;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new Error(`speed must be above 0 (got ${speed})`);
  const registry = options.metrics ?? new Registry();
  const gauge = metric(registry, "campus_power_sim_connected_devices", () => new Gauge({ name: "campus_power_sim_connected_devices", help: "Simulated devices connected to the broker", registers: [registry] }));
  const published = metric(registry, "campus_power_sim_messages_published_total", () => new Counter({ name: "campus_power_sim_messages_published_total", help: "Messages the simulated devices published (acknowledged at QoS 1)", registers: [registry] }));
  const failures = metric(registry, "campus_power_sim_publish_failures_total", () => new Counter({ name: "campus_power_sim_publish_failures_total", help: "Publishes of simulated devices that failed", registers: [registry] }));

  const wallStart = Date.now();
  const eventNow = () => wallStart + (Date.now() - wallStart) * speed;
  const overloadDevice = options.demoOverload ? pickOverloadDevice(campus) : undefined;
  if (options.demoOverload && !overloadDevice) log.warn("demo overload: no single-phase dormitory breaker in the campus; skipped");
  const model = createCampusModel(campus, {
    seed,
    startMs: wallStart,
    overload: overloadDevice ? { ...DEFAULT_OVERLOAD, deviceId: overloadDevice.id } : null,
  });
  if (overloadDevice) log.info({ device: overloadDevice.id, firstAfterS: DEFAULT_OVERLOAD.firstStartMs / 1000 }, "demo overload episode scheduled");

  const ioRng = createRng(deriveSeed(seed, "io"));
  const wanted = options.onlyDevices ? new Set(options.onlyDevices) : null;
  const candidates = campus.devices.filter((d) => wanted === null || wanted.has(d.id)).filter((d) => simulatable(d, log));
  const devices: SimulatedDevice[] = [];
  const failed: string[] = [];
  let stopped = false;
  let inFlight = 0;

  const connectOne = async (device: Device) => {
    await sleep(ioRng() * 100); // jitter: handshakes spread out even within the concurrency window
    if (stopped) return;
    const sim = await connectDevice(options, device, ioRng, eventNow(), () => updateGauge());
    if (sim === null) failed.push(device.id);
    else devices.push(sim);
  };
  const updateGauge = () => gauge.set(devices.filter((d) => d.client.connected).length);
  await runLimited(candidates, CONNECT_CONCURRENCY, connectOne);
  updateGauge();
  log.info({ connected: devices.length, failed: failed.length, speed, seed }, "simulator devices connected");
  if (failed.length > 0) log.warn({ devices: failed }, "simulated devices that could not connect");

  const publish = async (sim: SimulatedDevice) => {
    sim.busy = true;
    inFlight++;
    const payload = sim.device.format === "tasmota" ? tasmotaSensor(model, sim.device.id) : nativeReading(model, sim.device.id);
    try {
      await sim.client.publishAsync(sim.telemetryTopic, JSON.stringify(payload), { qos: 1 });
      published.inc();
    } catch (error) {
      failures.inc();
      log.debug({ device: sim.device.id, err: error }, "simulated publish failed");
    } finally {
      sim.busy = false;
      inFlight--;
    }
  };

  // One scheduler for all devices instead of a timer each: advance the model to now, then let every
  // device that is due publish, at most one message in flight per device and MAX_IN_FLIGHT overall.
  const minIntervalMs = Math.min(...devices.map((d) => d.device.report_interval_s * 1000), 60_000);
  const tickMs = Math.min(500, Math.max(50, minIntervalMs / speed / 5));
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    const now = eventNow();
    advanceTo(model, now);
    for (const sim of devices) {
      if (sim.nextDueMs > now || sim.busy || !sim.client.connected || inFlight >= MAX_IN_FLIGHT) continue;
      const intervalMs = sim.device.report_interval_s * 1000;
      // Keep the device's own rhythm; after a long stall skip the missed reports rather than bursting.
      sim.nextDueMs = Math.max(sim.nextDueMs + intervalMs, now - intervalMs);
      void publish(sim);
    }
    updateGauge();
    timer = setTimeout(tick, tickMs);
  };
  tick();

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    const deadline = Date.now() + STOP_DEADLINE_MS;
    while (inFlight > 0 && Date.now() < deadline - 2_000) await sleep(20);
    // A clean DISCONNECT makes the broker discard the last will ([MQTT-3.14.4-3]), so each device says
    // `offline` (retained) itself before leaving; a crash still leaves the will to say it.
    await withDeadline(
      Promise.all(
        devices.map(async (sim) => {
          if (sim.client.connected) {
            await sim.client.publishAsync(sim.statusTopic, sim.offline, { qos: 1, retain: true }).catch(() => failures.inc());
            await sim.client.endAsync();
          } else await sim.client.endAsync(true);
        }),
      ),
      Math.max(0, deadline - Date.now()),
    );
    for (const sim of devices) if (!sim.client.disconnected) sim.client.end(true);
    gauge.set(0);
    log.info("simulator stopped");
  };

  return {
    stop,
    get connected() {
      return devices.filter((d) => d.client.connected).length;
    },
  };
}

function simulatable(device: Device, log: Logger): boolean {
  if (device.secret_sha256 !== undefined) {
    // Only the hash of its own secret is known, so its password cannot be derived from the group key.
    log.info({ device: device.id }, "not simulated: the device has its own secret (secret_sha256)");
    return false;
  }
  if (device.format !== "native" && device.format !== "tasmota") {
    log.info({ device: device.id, format: device.format }, "not simulated: format not supported by the simulator yet");
    return false;
  }
  return true;
}

async function connectDevice(options: SimulatorOptions, device: Device, rng: Rng, nowMs: number, onChange: () => void): Promise<SimulatedDevice | null> {
  const tasmota = device.format === "tasmota";
  const statusTopic = tasmota ? `tele/${device.source}/LWT` : deviceTopic.status(device.id);
  const online = tasmota ? "Online" : "online";
  const offline = tasmota ? "Offline" : "offline";
  // Built from mqttOptions (jittered reconnects, UniqueMessageIdProvider) rather than connectMqtt, because
  // the simulator needs the client handle before the first CONNACK to time it out and close it.
  const client = mqtt.connect(
    options.mqttUrl,
    mqttOptions({
      url: options.mqttUrl,
      clientId: device.id,
      username: device.id,
      password: devicePassword(device.id, options.deviceGroupKey),
      will: { topic: statusTopic, payload: Buffer.from(offline), qos: 1, retain: true },
      random: rng,
    }),
  );
  client.on("error", () => {}); // logged below or when the first CONNACK is refused; never crash the process
  const ok = await new Promise<true | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    client.once("connect", () => (clearTimeout(timer), resolve(true)));
    client.once("error", (err) => (clearTimeout(timer), resolve(err)));
  });
  if (ok !== true) {
    options.log.warn({ device: device.id, err: ok.message }, "simulated device could not connect");
    client.end(true);
    return null;
  }
  const announce = () => {
    // Retained, so a late subscriber sees the device online; repeated after every reconnect because the
    // broker may have published the will meanwhile.
    client.publish(statusTopic, online, { qos: 1, retain: true }, () => {});
    onChange();
  };
  announce();
  client.on("connect", announce);
  client.on("offline", onChange);
  const intervalMs = device.report_interval_s * 1000;
  return {
    device,
    client,
    telemetryTopic: tasmota ? `tele/${device.source}/SENSOR` : deviceTopic.telemetry(device.id),
    statusTopic,
    online,
    offline,
    // A device reports soon after it connects (as Tasmota does after boot), at a random moment of the
    // first few seconds so a building's devices do not all report in the same instant.
    nextDueMs: nowMs + rng() * Math.min(intervalMs, FIRST_REPORT_WITHIN_MS),
    busy: false,
  };
}

async function runLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
