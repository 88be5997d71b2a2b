// `campus-power simulate` (CONTRACT §7): the campus file's devices (or N clones of them) as real MQTT
// clients, on a campus clock running --speed times faster, optionally with a scenario's faults. A district
// file (CONTRACT §9): every school's devices, each school cloned to N with --devices N.
// Options and environment in, the simulator wired to the broker and the signals, progress printed.
// Several brokers (--mqtt-url more than once, or MQTT_URL's list; CONTRACT §12): devices are spread over
// them and move to another when theirs goes away; the progress line counts the devices on each.
import { joinMqttUrls, parseMqttUrls } from "../domain/env/mqtt-urls.js";
import { loadCampus } from "../infra/campus-file.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import type { RunningService } from "../infra/service.js";
import { campusClockStart } from "../simulator/campus-clock.js";
import type { Fault } from "../simulator/faults.js";
import { scaleCampus, scaledCampusYaml, shardDeviceIds } from "../simulator/scale.js";
import { loadScenario } from "../simulator/scenario-file.js";
import { createProgress, PROGRESS_SAMPLE_MS } from "./progress.js";
import { loadContext, stopOnSignals, UsageError } from "./runtime.js";

export interface SimulateCommand {
  config?: string;
  seed: number;
  speed: number;
  durationMs?: number;
  /** Event time of the start (epoch ms); default now, or now − duration × speed above 1×. */
  startMs?: number;
  /** `demo` (default): the periodic overload episode of `up --demo`; else a scenario file's faults. */
  scenario: string;
  devices?: number;
  /** Print the (scaled) campus file and exit: the broker and services of a load test need it. */
  printConfig: boolean;
  /** `K/N`: simulate only every N-th device from the K-th (0-based), to spread a fleet over N processes. */
  shard?: { index: number; count: number };
  /** --mqtt-url, each given once or more (each may be a comma list): instead of MQTT_URL. */
  mqttUrls?: readonly string[];
}

/** The brokers of --mqtt-url as MQTT_URL's text; a bad entry is a usage error that names it. */
function brokersOption(urls: readonly string[]): string {
  const read = parseMqttUrls(urls.join(","));
  if (!read.ok) throw new UsageError(`--mqtt-url: ${read.problems.join("; ")}`);
  return joinMqttUrls(read.brokers);
}

/** " (mqtt://a:1883 12 · mqtt://b:1883 13)" with several brokers, "" with one. */
function perBroker(mqttUrl: string, counts: ReadonlyMap<string, number>): string {
  const brokers = mqttUrl.split(",");
  if (brokers.length < 2) return "";
  const others = [...counts.keys()].filter((url) => !brokers.includes(url));
  return ` (${[...brokers, ...others].map((url) => `${url} ${counts.get(url) ?? 0}`).join(" · ")})`;
}

/** When the campus clock starts (simulator/campus-clock.ts); a refused combination of options is a usage error. */
function simulationStart(nowMs: number, command: SimulateCommand): number {
  const start = campusClockStart(nowMs, command.speed, command.durationMs, command.startMs);
  if (!start.ok) throw new UsageError(start.problem);
  return start.startMs;
}

export async function simulateCommand(command: SimulateCommand): Promise<void> {
  if (!(command.speed > 0)) throw new UsageError("--speed must be above 0");
  if (!Number.isInteger(command.seed)) throw new UsageError("--seed must be a whole number");
  if (command.devices !== undefined && !(Number.isInteger(command.devices) && command.devices >= 1)) throw new UsageError("--devices must be a whole number ≥ 1");
  simulationStart(Date.now(), command); // refuses bad combinations first
  const mqttUrl = command.mqttUrls && command.mqttUrls.length > 0 ? brokersOption(command.mqttUrls) : undefined;
  let faults: readonly Fault[] = [];
  let configFile = command.config;
  let onlyDevices: string[] | undefined;
  if (command.scenario !== "demo") {
    const loaded = loadScenario(command.scenario, command.config ?? process.env.CAMPUS_CONFIG);
    faults = loaded.scenario.faults;
    configFile = loaded.campusFile;
    onlyDevices = loaded.scenario.devices;
  }
  if (command.printConfig) {
    const campus = loadCampus(configFile ?? process.env.CAMPUS_CONFIG ?? "");
    process.stdout.write(scaledCampusYaml(campus, command.devices));
    return;
  }
  const loaded = loadContext({ ...process.env, ...(configFile ? { CAMPUS_CONFIG: configFile } : {}), ...(mqttUrl ? { MQTT_URL: mqttUrl } : {}) }, "simulate");
  let campus = loaded.campus;
  if (command.devices !== undefined) {
    try {
      campus = scaleCampus(campus, command.devices);
    } catch (error) {
      throw new CampusError(ErrorCodes.CONFIG_INVALID, "cannot scale the campus", [{ path: "--devices", message: (error as Error).message }]);
    }
  }
  if (command.shard) onlyDevices = shardDeviceIds(campus, command.shard.index, command.shard.count, onlyDevices);
  const { startSimulator } = await import("../simulator/index.js");
  const services: RunningService[] = [];
  const progress = createProgress({ label: "simulate" });
  let ticker: NodeJS.Timeout | undefined;
  stopOnSignals(() => services, loaded.log, () => clearInterval(ticker));
  const count = onlyDevices?.length ?? campus.devices.length;
  const schools = campus.sites.length > 1 ? ` of ${campus.sites.length} schools (each in its own zone)` : "";
  const brokers = loaded.env.mqttUrl.split(",");
  const to = brokers.length > 1 ? `${brokers.length} brokers (${brokers.join(", ")})` : loaded.env.mqttUrl;
  process.stderr.write(`connecting ${count} simulated devices${schools} to ${to}…\n`);
  const connectStarted = Date.now();
  const simulator = await startSimulator({
    campus,
    mqttUrl: loaded.env.mqttUrl,
    deviceGroupKey: loaded.env.deviceGroupKey,
    log: loaded.log,
    metrics: loaded.metrics,
    seed: command.seed,
    speed: command.speed,
    // Decided once the devices are connected, so the connections' time does not push the end into the future.
    startMs: (wallStartMs) => simulationStart(wallStartMs, command),
    ...(command.durationMs !== undefined ? { durationMs: command.durationMs } : {}),
    demoOverload: command.scenario === "demo",
    faults,
    ...(onlyDevices ? { onlyDevices } : {}),
    connectConcurrency: Math.min(64, Math.max(8, Math.ceil(count / 100))),
  });
  services.push(simulator);
  process.stderr.write(
    `simulating ${simulator.connected} devices (connected in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s, ${simulator.failed.length} failed) ` +
      `at ${command.speed}×, seed ${command.seed}; Ctrl-C to stop\n`,
  );
  const total = command.durationMs === undefined ? null : command.durationMs * command.speed;
  ticker = setInterval(() => {
    const { published } = simulator.stats();
    progress.update(simulator.eventNow() - simulator.startMs, total, `${new Date(simulator.eventNow()).toISOString()} · ${published} messages · ${simulator.connected} connected${perBroker(loaded.env.mqttUrl, simulator.connectedByBroker())}`);
  }, PROGRESS_SAMPLE_MS);
  if (command.durationMs !== undefined) {
    void simulator.finished.then(() => {
      clearInterval(ticker);
      progress.finish(`${simulator.stats().published} messages published`);
      process.kill(process.pid, "SIGTERM");
    });
  }
}
