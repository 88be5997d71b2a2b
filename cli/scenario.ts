// `campus-power scenario list|run NAME [--check]`: options and environment in, the simulator's scenario
// run (simulator/scenario-run.ts) wired to the stack's broker, its report printed; exit 1 on a mismatch.
import { listScenarios, loadScenario } from "../simulator/scenario-file.js";
import { formatReport } from "../simulator/check.js";
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

/** Width of the name column of `scenario list`, and how much of a description it shows. */
const NAME_WIDTH = 16;
const DESCRIPTION_CHARS = 100;

/** The CLI: lists scenarios, or runs one and prints the check's report; resolves to the exit code. */
export async function scenarioCommand(command: ScenarioCommand): Promise<number> {
  if (command.action === "list") {
    for (const name of listScenarios()) {
      const { scenario } = loadScenario(name);
      process.stdout.write(`${name.padEnd(NAME_WIDTH)} ${scenario.description.replace(/\s+/g, " ").slice(0, DESCRIPTION_CHARS)}\n`);
    }
    return 0;
  }
  if (!command.name) throw new UsageError("scenario run needs a NAME (campus-power scenario list shows them)");
  if (command.speed !== undefined && !(command.speed > 0)) throw new UsageError("--speed must be above 0");
  const { scenario, campus, campusFile } = loadScenario(command.name, command.config);
  const { env, log } = loadContext({ ...process.env, CAMPUS_CONFIG: campusFile }, "scenario", command.check ? ["SERVICE_PASSWORD"] : []);
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
  if (outcome.report) process.stdout.write(formatReport(scenario.name, outcome.report, scenario.noOtherAlerts));
  for (const key of outcome.blockedBy) process.stdout.write(`  FAIL ${key} was already open before the run (acknowledge or resolve it first)\n`);
  return outcome.ok ? 0 : 1;
}
