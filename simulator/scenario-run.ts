// `scenario run [--check]`: a scenario's devices and faults run against a running stack as real devices;
// with the check, the alerts it expects are watched on `campus/alerts/+/+` as the service account (over
// MQTT, like any other client of the alerts service) and judged by check.ts.
import { setTimeout as sleep } from "node:timers/promises";
import type { Campus } from "../domain/campus.js";
import { ALERTS_FILTER } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import { connectService, type MqttClient } from "../infra/mqtt.js";
import { createAlertObserver } from "./alert-observer.js";
import { type AlertObservation, type CheckReport, checkExpectations } from "./check.js";
import { startSimulator } from "./fleet.js";
import type { Scenario } from "./scenario.js";

export interface RunScenarioOptions {
  scenario: Scenario;
  campus: Campus;
  mqttUrl: string;
  deviceGroupKey: string;
  /** Needed with `check`: the service account watches the alerts. */
  servicePassword?: string;
  check: boolean;
  /** Campus clock speed (default: the scenario's own). */
  speed?: number;
  seed?: number;
  log: Logger;
  /** Wall time to wait after the stream ends for late alerts, ms (default 3 s). */
  graceMs?: number;
  onProgress?: (eventDoneMs: number, eventTotalMs: number) => void;
}

export interface ScenarioOutcome {
  /** The check's verdict (null without `check`). */
  report: CheckReport | null;
  observations: AlertObservation[];
  /** Alerts already open when the run began (retained): they cannot open again. */
  preExisting: string[];
  /** Of those, the ones the scenario expects to open: the run cannot show them, so it fails. */
  blockedBy: string[];
  /** The report passed and nothing expected was already open (true without `check`). */
  ok: boolean;
  startMs: number;
  published: number;
}

/** Wall time after the stream ends before the first look: the last readings are still on their way through the ingest and the rules, ms. */
const FIRST_LOOK_MS = 1_000;
/** How often the report is judged again until it passes or the grace ends, ms. */
const RELOOK_MS = 100;

/**
 * Runs the scenario: its event span ends now (the clock starts at now − span, CONTRACT §7), so no
 * timestamp lies in the future.
 */
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioOutcome> {
  const { scenario } = options;
  const speed = options.speed ?? scenario.speed;
  const graceMs = options.graceMs ?? 3_000;
  // The clock until the simulator's own start is known, once its devices are connected (nothing should arrive meanwhile).
  let eventNow = () => Date.now() - scenario.durationMs;
  const observer = createAlertObserver(eventNow());
  const watcher = options.check ? await watchAlerts(options.mqttUrl, options.servicePassword ?? "", (message) => observer.observe(message, eventNow())) : null;
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
  observer.startAt(simulator.startMs);
  eventNow = () => simulator.eventNow();
  const ticker = setInterval(() => options.onProgress?.(simulator.eventNow() - simulator.startMs, scenario.durationMs), 200);
  try {
    await simulator.finished;
    options.onProgress?.(scenario.durationMs, scenario.durationMs);
    const judge = () => checkExpectations(scenario.expect, observer.observations(), scenario.noOtherAlerts, scenario.durationMs);
    let report: CheckReport | null = null;
    if (options.check) {
      await sleep(Math.min(FIRST_LOOK_MS, graceMs));
      report = judge();
      const graceEnd = Date.now() + graceMs;
      while (!report.ok && Date.now() < graceEnd) {
        await sleep(RELOOK_MS);
        report = judge();
      }
    }
    const expected = new Set(scenario.expect.map((e) => `${e.device}/${e.rule}`));
    const blockedBy = observer.preExisting.filter((key) => expected.has(key));
    return {
      report,
      observations: observer.observations(),
      preExisting: [...observer.preExisting],
      blockedBy,
      ok: (report?.ok ?? true) && blockedBy.length === 0,
      startMs: simulator.startMs,
      published: simulator.stats().published,
    };
  } finally {
    clearInterval(ticker);
    await watcher?.endAsync();
    await simulator.stop();
  }
}

/** The service account's subscription to every alert topic, retained copies first. */
async function watchAlerts(mqttUrl: string, servicePassword: string, onMessage: (message: { topic: string; payload: Buffer; retained: boolean }) => void): Promise<MqttClient> {
  const client = await connectService(mqttUrl, servicePassword, `campus-scenario-${process.pid}-${Date.now()}`);
  client.on("message", (topic, payload, packet) => onMessage({ topic, payload, retained: packet.retain }));
  await client.subscribeAsync(ALERTS_FILTER, { qos: 1 });
  return client;
}
