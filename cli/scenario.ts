// `campus-power scenario list|run NAME [--check]`: a scenario file (scenarios/*.yaml) run against a
// running stack as real devices; with --check, the alerts it expects are watched on campus/alerts/+/+
// as the service account and a report says which opened and closed, and when; exit 1 on a mismatch.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Campus } from "../domain/campus.js";
import { loadCampus } from "../infra/campus-file.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import { ALERTS_FILTER, parseAlertTopic } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import { connectService } from "../infra/mqtt.js";
import { type AlertObservation, type CheckReport, checkExpectations, formatReport } from "../simulator/check.js";
import { startSimulator } from "../simulator/devices.js";
import { checkScenarioDevices, parseScenarioText, type Scenario } from "../simulator/scenario.js";
import { createProgress } from "./progress.js";
import { loadContext, UsageError } from "./runtime.js";

export const SCENARIOS_DIR = fileURLToPath(new URL("../scenarios/", import.meta.url));

/** `overload` → scenarios/overload.yaml; a path (with `/` or `.yaml`) is taken as it is. */
export function scenarioFile(name: string): string {
  return name.includes("/") || /\.ya?ml$/.test(name) ? resolve(name) : join(SCENARIOS_DIR, `${name}.yaml`);
}

export function listScenarios(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith(".yaml") && f !== "campus.yaml")
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

/** Reads a scenario and its campus (the scenario's own, or `campusFile` when given); throws listing every problem. */
export function loadScenario(name: string, campusFile?: string): { scenario: Scenario; campus: Campus; campusFile: string } {
  const file = scenarioFile(name);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CampusError(ErrorCodes.CONFIG_INVALID, `cannot read scenario ${file}`, [{ path: name, message: (error as Error).message }]);
  }
  const parsed = parseScenarioText(text);
  if (!parsed.ok) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${file} is invalid`, parsed.problems);
  const chosen = campusFile ?? (parsed.scenario.campus ? join(dirname(file), parsed.scenario.campus) : undefined);
  if (chosen === undefined) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${file} names no campus`, [{ path: "campus", message: "give one in the file or with --config" }]);
  const campus = loadCampus(chosen);
  const problems = checkScenarioDevices(parsed.scenario, campus);
  if (problems.length > 0) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${file} does not fit campus ${chosen}`, problems);
  return { scenario: parsed.scenario, campus, campusFile: chosen };
}

export interface RunScenarioOptions {
  scenario: Scenario;
  campus: Campus;
  mqttUrl: string;
  deviceGroupKey: string;
  /** Needed with `check`: the service account watches the alerts. */
  servicePassword?: string;
  check: boolean;
  speed?: number;
  seed?: number;
  log: Logger;
  /** Wall time to wait after the stream ends for late alerts (default 3 s). */
  graceMs?: number;
  onProgress?: (eventDoneMs: number, eventTotalMs: number) => void;
}

export interface ScenarioOutcome {
  report: CheckReport | null;
  observations: AlertObservation[];
  /** Alerts already open when the run began (retained): they cannot open again and are reported. */
  preExisting: string[];
  startMs: number;
  published: number;
}

/**
 * Runs the scenario: its event span ends now (the clock starts at now − span, CONTRACT §7), so no
 * timestamp lies in the future. An alert counts as opened at the earlier of its `started_at` and the
 * scenario clock when it arrived (rules on the wall clock, like the offline watchdog, stamp the present).
 */
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioOutcome> {
  const { scenario } = options;
  const speed = options.speed ?? scenario.speed;
  let base = Date.now() - scenario.durationMs; // replaced by the simulator's own start once it runs
  const observations: AlertObservation[] = [];
  const preExisting: string[] = [];
  let eventNow = () => base;
  const watcher = options.check ? await connectService(options.mqttUrl, options.servicePassword ?? "", `campus-scenario-${process.pid}-${Date.now()}`) : null;
  /** Open alerts by device/rule, with the event ms from the start they opened at (-Infinity: before the run). */
  const openedAt = new Map<string, number>();
  if (watcher) {
    watcher.on("message", (topic, payload, packet) => {
      const where = parseAlertTopic(topic);
      if (!where) return;
      const key = `${where.device}/${where.rule}`;
      if (packet.retain && payload.length > 0) {
        preExisting.push(key); // open before the run
        openedAt.set(key, -Infinity);
        return;
      }
      const arrived = eventNow();
      // The alert's own time when it is plausible (between `floor` and its arrival): rules in event time
      // stamp the reading's time; watchdogs and last wills stamp the wall clock, i.e. the present.
      const at = (iso: string | undefined, floor: number) => {
        const t = iso ? Date.parse(iso) : Number.NaN;
        return (Number.isFinite(t) && t >= floor && t <= arrived ? t : arrived) - base;
      };
      if (payload.length === 0) {
        if (openedAt.delete(key)) observations.push({ device: where.device, rule: where.rule, change: "resolved", atMs: arrived - base });
        return;
      }
      const alert = JSON.parse(payload.toString()) as { state?: string; severity?: string; started_at?: string; resolved_at?: string };
      const opened = openedAt.get(key);
      if (alert.state === "resolved") {
        if (opened !== undefined) {
          openedAt.delete(key);
          observations.push({ device: where.device, rule: where.rule, change: "resolved", atMs: at(alert.resolved_at, opened + base) });
        }
      } else if (opened === undefined) {
        const atMs = at(alert.started_at, base);
        openedAt.set(key, atMs);
        observations.push({ device: where.device, rule: where.rule, change: "opened", atMs, ...(alert.severity ? { severity: alert.severity } : {}) });
      }
    });
    await watcher.subscribeAsync(ALERTS_FILTER, { qos: 1 });
  }
  const simulator = await startSimulator({
    campus: options.campus,
    mqttUrl: options.mqttUrl,
    deviceGroupKey: options.deviceGroupKey,
    log: options.log,
    seed: options.seed ?? scenario.seed,
    speed,
    // Decided once the devices are connected, so the span ends at the present (CONTRACT §7).
    startMs: (wallStartMs) => wallStartMs - scenario.durationMs,
    durationMs: scenario.durationMs / speed,
    faults: scenario.faults,
    ...(scenario.devices ? { onlyDevices: scenario.devices } : {}),
  });
  const realStart = simulator.startMs;
  // Re-base what arrived during the connections (nothing should have) on the real start.
  for (const o of observations) o.atMs += base - realStart;
  base = realStart;
  eventNow = () => simulator.eventNow();
  const ticker = setInterval(() => options.onProgress?.(simulator.eventNow() - realStart, scenario.durationMs), 200);
  try {
    await simulator.finished;
    options.onProgress?.(scenario.durationMs, scenario.durationMs);
    // The last readings are still on their way through the ingest and the rules: let them land.
    if (options.check) await new Promise((r) => setTimeout(r, Math.min(1_000, options.graceMs ?? 3_000)));
    let report = options.check ? checkExpectations(scenario.expect, observations, scenario.noOtherAlerts, scenario.durationMs) : null;
    const graceEnd = Date.now() + (options.graceMs ?? 3_000);
    while (report && !report.ok && Date.now() < graceEnd) {
      await new Promise((r) => setTimeout(r, 100));
      report = checkExpectations(scenario.expect, observations, scenario.noOtherAlerts, scenario.durationMs);
    }
    return { report, observations: [...observations], preExisting, startMs: realStart, published: simulator.stats().published };
  } finally {
    clearInterval(ticker);
    await watcher?.endAsync();
    await simulator.stop();
  }
}

export interface ScenarioCommand {
  action: "list" | "run";
  name?: string;
  check: boolean;
  speed?: number;
  seed?: number;
  config?: string;
}

/** The CLI: lists scenarios, or runs one and prints the check's report; resolves to the exit code. */
export async function scenarioCommand(command: ScenarioCommand): Promise<number> {
  if (command.action === "list") {
    for (const name of listScenarios()) {
      const { scenario } = loadScenario(name);
      process.stdout.write(`${name.padEnd(16)} ${scenario.description.replace(/\s+/g, " ").slice(0, 100)}\n`);
    }
    return 0;
  }
  if (!command.name) throw new UsageError("scenario run needs a NAME (campus-power scenario list shows them)");
  if (command.speed !== undefined && !(command.speed > 0)) throw new UsageError("--speed must be above 0");
  const { scenario, campus, campusFile } = loadScenario(command.name, command.config);
  const { env, log } = loadContext({ ...process.env, CAMPUS_CONFIG: campusFile }, command.check ? ["DEVICE_GROUP_KEY", "SERVICE_PASSWORD"] : ["DEVICE_GROUP_KEY"], "campus-power-scenario");
  const speed = command.speed ?? scenario.speed;
  process.stderr.write(`scenario ${scenario.name}: ${scenario.durationMs / 60_000} min of event time at ${speed}× on ${campusFile} (MQTT ${env.mqttUrl})\n`);
  const progress = createProgress({ label: `scenario ${scenario.name}` });
  const outcome = await runScenario({
    scenario,
    campus,
    mqttUrl: env.mqttUrl,
    deviceGroupKey: env.deviceGroupKey,
    servicePassword: env.servicePassword,
    check: command.check,
    speed,
    ...(command.seed !== undefined ? { seed: command.seed } : {}),
    log,
    onProgress: (done, total) => progress.update(done, total, `${Math.round(done / 60_000)}/${Math.round(total / 60_000)} min`),
  });
  progress.finish(`${outcome.published} messages published`);
  if (!outcome.report) return 0;
  const expectedKeys = new Set(scenario.expect.map((e) => `${e.device}/${e.rule}`));
  const blocking = outcome.preExisting.filter((k) => expectedKeys.has(k));
  process.stdout.write(formatReport(scenario.name, outcome.report, scenario.noOtherAlerts));
  for (const key of blocking) process.stdout.write(`  FAIL ${key} was already open before the run (acknowledge or resolve it first)\n`);
  return outcome.report.ok && blocking.length === 0 ? 0 : 1;
}
