// `scenario run [--check]`: a scenario's devices and faults run against a running stack as real devices,
// a person's commands go through the API at their moments, and a scenario that meets a schedule starts
// when its minute will fall where the scenario says. With the check, the alerts it expects are watched on
// `campus/alerts/+/+` and the commands on `campus/internal/commands`, as the service account (over MQTT,
// like any other client of the alerts service), and judged by check.ts and scenario-command-check.ts.
import { setTimeout as sleep } from "node:timers/promises";
import type { Campus } from "../domain/campus.js";
import { ALERTS_FILTER, internalTopic } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import { connectService, type MqttClient } from "../infra/mqtt.js";
import { createAlertObserver } from "./alert-observer.js";
import { type AlertObservation, type CheckReport, checkExpectations } from "./check.js";
import { type CommandObservation, createCommandObserver } from "./command-observer.js";
import { checkCommands, type CommandReport, type PersonOutcome, type ScheduleMet } from "./scenario-command-check.js";
import { type ScheduleMeeting, scheduleMeeting } from "./scenario-commands.js";
import { personAtTheScreen } from "./scenario-person.js";
import { startSimulator } from "./fleet.js";
import type { Scenario } from "./scenario.js";

export interface RunScenarioOptions {
  scenario: Scenario;
  campus: Campus;
  mqttUrl: string;
  deviceGroupKey: string;
  /** Needed with `check`: the service account watches the alerts and the commands. */
  servicePassword?: string;
  /** Needed when the scenario has person_commands: the API and an operator's token. */
  api?: { url: string; token: string };
  check: boolean;
  /** Campus clock speed (default: the scenario's own). */
  speed?: number;
  seed?: number;
  log: Logger;
  /** Wall time to wait after the stream ends for late alerts, ms (default 3 s). */
  graceMs?: number;
  /** The stack's COMMAND_TIMEOUT_S, ms (default 15 s): how long a command sent near the end may still take to end. */
  commandTimeoutMs?: number;
  /** The stack's wall clock, which its schedules follow (default Date.now; a test that shifts the alerts service's passes the same). */
  wallClock?: () => number;
  /** Told before waiting for a schedule's minute (meets_schedule): the run and the wait, ms. */
  onScheduleWait?: (meeting: ScheduleMeeting, waitMs: number) => void;
  onProgress?: (eventDoneMs: number, eventTotalMs: number) => void;
}

export interface ScenarioOutcome {
  /** The check's verdict on the alerts (null without `check`). */
  report: CheckReport | null;
  /** The check's verdict on the commands (null without `check`). */
  commandReport: CommandReport | null;
  observations: AlertObservation[];
  commands: CommandObservation[];
  /** Alerts already open when the run began (retained): they cannot open again. */
  preExisting: string[];
  /** Of those, the ones the scenario expects to open: the run cannot show them, so it fails. */
  blockedBy: string[];
  /** Both reports passed and nothing expected was already open (true without `check`). */
  ok: boolean;
  startMs: number;
  published: number;
}

/** Wall time after the stream ends before the first look: the last readings are still on their way through the ingest and the rules, ms. */
const FIRST_LOOK_MS = 1_000;
/** How often the report is judged again until it passes or the grace ends, ms. */
const RELOOK_MS = 100;
/** CONTRACT §10's default COMMAND_TIMEOUT_S, ms. */
const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;
/** Beyond the command timeout: the alerts service's tick and the announcement's way back, ms. */
const COMMAND_END_MARGIN_MS = 3_000;

/**
 * Runs the scenario: its event span ends now (the clock starts at now − span, CONTRACT §7), so no
 * timestamp lies in the future.
 */
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioOutcome> {
  const { scenario } = options;
  const speed = options.speed ?? scenario.speed;
  const wallClock = options.wallClock ?? Date.now;
  if (scenario.personCommands.length > 0 && options.api === undefined) throw new Error(`scenario ${scenario.name} gives commands as a person: it needs the API's URL and an operator's token`);
  const meeting = await awaitSchedule(options, speed, wallClock);
  // The clock until the simulator's own start is known, once its devices are connected (nothing should arrive meanwhile).
  let eventNow = () => Date.now() - scenario.durationMs;
  let sceneNow = eventNow;
  const alerts = createAlertObserver(eventNow());
  const commands = createCommandObserver(eventNow());
  const watcher = options.check
    ? await watchStack(options.mqttUrl, options.servicePassword ?? "", (message) => {
        if (message.topic === internalTopic.commands) commands.observe(message, sceneNow());
        else alerts.observe(message, eventNow());
      })
    : null;
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
  alerts.startAt(simulator.startMs);
  commands.startAt(simulator.startMs);
  eventNow = () => simulator.eventNow();
  // Commands end on the wall clock, after the stream too: their clock runs on past the span's end.
  const wallStart = Date.now() - (simulator.eventNow() - simulator.startMs) / speed;
  sceneNow = () => simulator.startMs + (Date.now() - wallStart) * speed;
  const scheduleMet = meeting && placeSchedule(meeting, wallClock() - (Date.now() - wallStart), speed);
  const stopping = new AbortController();
  const persons: (PersonOutcome | undefined)[] = [];
  const giving = options.api ? givePersonCommands(scenario, options.api, () => sceneNow() - simulator.startMs, speed, persons, stopping.signal) : Promise.resolve();
  const ticker = setInterval(() => options.onProgress?.(simulator.eventNow() - simulator.startMs, scenario.durationMs), 200);
  try {
    await simulator.finished;
    await giving;
    options.onProgress?.(scenario.durationMs, scenario.durationMs);
    const judge = () => ({
      alerts: checkExpectations(scenario.expect, alerts.observations(), scenario.noOtherAlerts, scenario.durationMs),
      commands: checkCommands(scenario, commands.observations(), persons, alerts.linkedCommands(), scenario.durationMs, scheduleMet ?? undefined),
    });
    let verdict: ReturnType<typeof judge> | null = null;
    if (options.check) {
      const switching = scenario.expectCommands.length > 0 || scenario.personCommands.length > 0 || meeting !== null;
      const graceMs = Math.max(options.graceMs ?? 3_000, switching ? (options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS) + COMMAND_END_MARGIN_MS : 0);
      await sleep(Math.min(FIRST_LOOK_MS, graceMs));
      verdict = judge();
      const graceEnd = Date.now() + graceMs;
      while (!(verdict.alerts.ok && verdict.commands.ok) && Date.now() < graceEnd) {
        await sleep(RELOOK_MS);
        verdict = judge();
      }
    }
    const expected = new Set(scenario.expect.map((e) => `${e.device}/${e.rule}`));
    const blockedBy = alerts.preExisting.filter((key) => expected.has(key));
    return {
      report: verdict?.alerts ?? null,
      commandReport: verdict?.commands ?? null,
      observations: alerts.observations(),
      commands: commands.observations(),
      preExisting: [...alerts.preExisting],
      blockedBy,
      ok: (verdict === null || (verdict.alerts.ok && verdict.commands.ok)) && blockedBy.length === 0,
      startMs: simulator.startMs,
      published: simulator.stats().published,
    };
  } finally {
    stopping.abort();
    clearInterval(ticker);
    await giving.catch(() => undefined);
    await watcher?.endAsync();
    await simulator.stop();
  }
}

/** meets_schedule: waits until the start that puts the schedule's next run where the scenario says. */
async function awaitSchedule(options: RunScenarioOptions, speed: number, wallClock: () => number): Promise<ScheduleMeeting | null> {
  const meets = options.scenario.meetsSchedule;
  if (meets === undefined) return null;
  const meeting = scheduleMeeting(options.campus, meets, speed, wallClock());
  if (meeting === null) throw new Error(`schedule ${meets.schedule} has no run in the coming week`);
  const waitMs = Math.max(0, meeting.startWallMs - wallClock());
  options.onScheduleWait?.(meeting, waitMs);
  await sleep(waitMs);
  return meeting;
}

/** Where the schedule's run falls on the scenario's clock, given the stack's wall clock at the scenario's start. */
function placeSchedule(meeting: ScheduleMeeting, wallAtStart: number, speed: number): ScheduleMet {
  const atMs = (meeting.run.at - wallAtStart) * speed;
  const met: ScheduleMet = { schedule: meeting.run.schedule.id, run: `${meeting.run.date} ${meeting.run.schedule.at} (${meeting.timeZone})`, atMs };
  return atMs > 0 ? met : { ...met, problem: "the devices connected only after it: give meets_schedule.at more lead, or run slower" };
}

/** Gives each person's command at its moment of the scenario's clock, in order; `outcomes[i]` is the API's answer to the i-th. */
async function givePersonCommands(scenario: Scenario, api: { url: string; token: string }, sinceStartMs: () => number, speed: number, outcomes: (PersonOutcome | undefined)[], signal: AbortSignal): Promise<void> {
  const person = personAtTheScreen(api.url, api.token);
  const order = scenario.personCommands.map((command, index) => ({ command, index })).sort((a, b) => a.command.atMs - b.command.atMs);
  try {
    for (const { command, index } of order) {
      await sleep(Math.max(0, (command.atMs - sinceStartMs()) / speed), undefined, { signal });
      const atMs = sinceStartMs();
      outcomes[index] = { atMs, result: await person.give(command) };
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** The service account's subscription to every alert topic (retained copies first) and to the commands' changes. */
async function watchStack(mqttUrl: string, servicePassword: string, onMessage: (message: { topic: string; payload: Buffer; retained: boolean }) => void): Promise<MqttClient> {
  const client = await connectService(mqttUrl, servicePassword, `campus-scenario-${process.pid}-${Date.now()}`);
  client.on("message", (topic, payload, packet) => onMessage({ topic, payload, retained: packet.retain }));
  await client.subscribeAsync({ [ALERTS_FILTER]: { qos: 1 }, [internalTopic.commands]: { qos: 1 } });
  return client;
}
