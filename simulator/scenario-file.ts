// The bundled scenarios (scenarios/*.yaml) and any scenario file, read, its devices picked on the campus it
// runs on (its own, or any campus or district file given) and checked against it, with every problem listed,
// as the campus file is (infra/campus-file.ts).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Campus } from "../domain/campus.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import { loadCampus } from "../infra/campus-file.js";
import type { Picked } from "./scenario-pick.js";
import { applyPicks, type Skipped } from "./scenario-pick-apply.js";
import { checkScenarioDevices, parseScenarioText, type Scenario } from "./scenario.js";

export const SCENARIOS_DIR = fileURLToPath(new URL("../scenarios/", import.meta.url));
/** The campus file the bundled scenarios run on, not a scenario itself. */
const SCENARIOS_CAMPUS = "campus.yaml";

/** `overload` → scenarios/overload.yaml; a path (with `/` or `.yaml`) is taken as it is. */
export function scenarioFile(name: string): string {
  return name.includes("/") || /\.ya?ml$/.test(name) ? resolve(name) : join(SCENARIOS_DIR, `${name}.yaml`);
}

/** The bundled scenarios' names, sorted. */
export function listScenarios(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith(".yaml") && f !== SCENARIOS_CAMPUS)
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

export interface LoadedScenario {
  /** With the devices it picked on `campus` in place of its `$name`s, and its expectations that do not apply there left out. */
  scenario: Scenario;
  campus: Campus;
  campusFile: string;
  picked: readonly Picked[];
  skipped: readonly Skipped[];
}

/**
 * Reads a scenario and its campus (the scenario's own, or `campusFile` when given: a campus or a district
 * file) and picks its devices there; throws listing every problem, among them each pick the campus has
 * nothing for.
 */
export function loadScenario(name: string, campusFile?: string): LoadedScenario {
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
  const applied = applyPicks(parsed.scenario, campus);
  if (!applied.ok) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${parsed.scenario.name} needs what ${chosen} does not have`, applied.problems);
  const problems = checkScenarioDevices(applied.scenario, campus);
  if (problems.length > 0) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${file} does not fit campus ${chosen}`, problems);
  return { scenario: applied.scenario, campus, campusFile: chosen, picked: applied.picked, skipped: applied.skipped };
}
