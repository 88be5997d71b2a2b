// The real stack a scenario runs against in the scenario tests: broker, ingest, alerts service (on a given
// wall clock, with a short COMMAND_TIMEOUT_S) and the API with an operator's token, on one campus or
// district file; and a scenario run on it with --check, its report as text. (Helper of scenario*.test.ts.)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAlerts } from "../../alerts/index.js";
import { startApi } from "../../api/index.js";
import { readEnv } from "../../domain/env.js";
import { createLogger } from "../../infra/logger.js";
import type { RunningService } from "../../infra/service.js";
import { formatReport } from "../../simulator/check.js";
import { formatCommandReport } from "../../simulator/scenario-command-check.js";
import { type LoadedScenario, runScenario, type ScenarioOutcome } from "../../simulator/index.js";
import { influxUrl } from "../helpers/influx.js";
import { GROUP_KEY, SERVICE_PASSWORD, startStack } from "./simulator-stack.js";

export const OPERATOR_TOKEN = "scenario-test-operator-token-0123";
/** The stack's COMMAND_TIMEOUT_S: an ignored command ends `timeout` within a scenario's run. */
export const COMMAND_TIMEOUT_S = 3;

/** Broker, ingest, alerts service (on `now`) and the API; every service it started goes on `running`, to be stopped in reverse. */
export async function startScenarioStack(campusFile: string, now: () => number, running: Pick<RunningService, "stop">[]): Promise<{ mqttUrl: string; apiUrl: string }> {
  const stack = await startStack(campusFile);
  running.push(stack);
  const env = readEnv({
    DATA_DIR: mkdtempSync(join(tmpdir(), "campus-scenario-data-")), LOG_LEVEL: "silent", SERVICE_PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY, MQTT_URL: stack.mqttUrl,
    INFLUX_URL: influxUrl(), INFLUX_DB: stack.influx.config.db, API_TOKENS: `operator:${OPERATOR_TOKEN}`, COMMAND_TIMEOUT_S: String(COMMAND_TIMEOUT_S),
  });
  const ctx = { env, campus: stack.campus, log: createLogger("silent"), metrics: stack.metrics };
  running.push(await startAlerts(ctx, { influx: stack.influx, tickMs: 200, now }));
  const api = await startApi(ctx, { influx: stack.influx, port: 0, host: "127.0.0.1" });
  running.push(api);
  return { mqttUrl: stack.mqttUrl, apiUrl: api.url };
}

/**
 * Runs a loaded scenario with --check at its own speed (its author chose it so that wall-clock latencies —
 * last wills, the watchdog, the pipeline's ~100 ms, command answers, restore_after — stay small in event
 * time); the outcome and its report as `scenario run` prints it.
 */
export async function runChecked(loaded: LoadedScenario, stack: { mqttUrl: string; apiUrl: string }, wallClock: () => number = Date.now): Promise<{ outcome: ScenarioOutcome; report: string }> {
  const { scenario, campus } = loaded;
  const outcome = await runScenario({
    scenario, campus, mqttUrl: stack.mqttUrl, deviceGroupKey: GROUP_KEY, servicePassword: SERVICE_PASSWORD,
    api: { url: stack.apiUrl, token: OPERATOR_TOKEN }, check: true, log: createLogger("silent"), graceMs: 5_000, commandTimeoutMs: COMMAND_TIMEOUT_S * 1000, wallClock,
  });
  const report = `${formatReport(scenario.name, outcome.report!, scenario.noOtherAlerts)}${formatCommandReport(outcome.commandReport!, scenario.noOtherCommands)}`;
  return { outcome, report };
}
