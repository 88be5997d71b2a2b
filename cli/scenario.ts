// `campus-power scenario list|run NAME [--check] [--config FILE]`: options and environment in, the
// scenario's devices picked on the campus (simulator/scenario-pick.ts) and printed, the simulator's scenario
// run (simulator/scenario-run.ts) wired to the stack's broker (and API, for a person's commands), its
// report printed; exit 1 on a mismatch, or when the campus has nothing a pick needs.
import { CampusError, ErrorCodes, type Problem } from "../domain/errors.js";
import { listScenarios, loadScenario } from "../simulator/scenario-file.js";
import { formatReport } from "../simulator/check.js";
import { formatCommandReport } from "../simulator/scenario-command-check.js";
import { formatPicks } from "../simulator/scenario-pick-apply.js";
import { runScenario } from "../simulator/scenario-run.js";
import { createProgress } from "./progress.js";
import { loadContext, UsageError } from "./runtime.js";

export interface ScenarioCommand {
  action: "list" | "run";
  name?: string;
  check: boolean;
  speed?: number;
  seed?: number;
  config?: string;
}

/** How much of a description `scenario list` shows. */
const DESCRIPTION_CHARS = 100;

/** The CLI: lists scenarios, or runs one and prints the check's report; resolves to the exit code. */
export async function scenarioCommand(command: ScenarioCommand): Promise<number> {
  if (command.action === "list") {
    const names = listScenarios();
    const width = Math.max(...names.map((name) => name.length));
    for (const name of names) {
      const { scenario } = loadScenario(name);
      process.stdout.write(`${name.padEnd(width)}  ${scenario.description.replace(/\s+/g, " ").slice(0, DESCRIPTION_CHARS)}\n`);
    }
    return 0;
  }
  if (!command.name) throw new UsageError("scenario run needs a NAME (campus-power scenario list shows them)");
  if (command.speed !== undefined && !(command.speed > 0)) throw new UsageError("--speed must be above 0");
  const { scenario, campus, campusFile, picked, skipped } = loadScenario(command.name, command.config);
  const { env, log } = loadContext({ ...process.env, CAMPUS_CONFIG: campusFile }, "scenario", command.check ? ["SERVICE_PASSWORD"] : []);
  const api = scenario.personCommands.length > 0 ? personApi(env, scenario.name) : undefined;
  const speed = command.speed ?? scenario.speed;
  process.stderr.write(`scenario ${scenario.name}: ${scenario.durationMs / 60_000} min of event time at ${speed}× on ${campusFile} (MQTT ${env.mqttUrl})\n`);
  // On standard output, before the report that names the same devices.
  if (picked.length > 0) process.stdout.write(`scenario ${scenario.name} picked on ${campusFile}:\n${formatPicks(campus, picked, skipped)}`);
  const progress = createProgress({ label: `scenario ${scenario.name}` });
  const outcome = await runScenario({
    scenario,
    campus,
    mqttUrl: env.mqttUrl,
    deviceGroupKey: env.deviceGroupKey,
    servicePassword: env.servicePassword,
    ...(api ? { api } : {}),
    check: command.check,
    speed,
    ...(command.seed !== undefined ? { seed: command.seed } : {}),
    commandTimeoutMs: env.commandTimeoutMs,
    log,
    onScheduleWait: ({ run, timeZone }, waitMs) =>
      process.stderr.write(`scenario ${scenario.name}: schedule ${run.schedule.id} runs at ${run.date} ${run.schedule.at} (${timeZone}); starting in ${Math.ceil(waitMs / 1000)} s\n`),
    onProgress: (done, total) => progress.update(done, total, `${Math.round(done / 60_000)}/${Math.round(total / 60_000)} min`),
  });
  progress.finish(`${outcome.published} messages published`);
  if (outcome.report) process.stdout.write(formatReport(scenario.name, { ...outcome.report, ok: outcome.ok }, scenario.noOtherAlerts));
  if (outcome.commandReport) process.stdout.write(formatCommandReport(outcome.commandReport, scenario.noOtherCommands));
  for (const key of outcome.blockedBy) process.stdout.write(`  FAIL ${key} was already open before the run (acknowledge or resolve it first)\n`);
  return outcome.ok ? 0 : 1;
}

/**
 * A scenario with person_commands switches through the API as an operator: API_URL (e.g.
 * http://127.0.0.1:8080) and API_TOKEN (an operator's or admin's token of API_TOKENS), checked by the
 * environment schema and required here. Refused, with every problem, before any device connects.
 */
function personApi(env: { apiUrl: string | null; apiToken: string }, name: string): { url: string; token: string } {
  const problems: Problem[] = [];
  const url = env.apiUrl ?? "";
  const token = env.apiToken;
  if (url === "") problems.push({ path: "API_URL", message: "is required: the API the person's commands go through, e.g. http://127.0.0.1:8080" });
  if (token === "") problems.push({ path: "API_TOKEN", message: "is required: an operator's token (API_TOKENS of the stack) to select and operate with" });
  if (problems.length > 0) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${name} switches as a person through the API`, problems);
  return { url, token };
}
