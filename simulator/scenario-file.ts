// The bundled scenarios (scenarios/*.yaml) and any scenario file, read and checked against its campus
// with every problem listed, as the campus file is (infra/campus-file.ts).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Campus } from "../domain/campus.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import { loadCampus } from "../infra/campus-file.js";
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
  scenario: Scenario;
  campus: Campus;
  campusFile: string;
}

/** Reads a scenario and its campus (the scenario's own, or `campusFile` when given); throws listing every problem. */
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
  const problems = checkScenarioDevices(parsed.scenario, campus);
  if (problems.length > 0) throw new CampusError(ErrorCodes.CONFIG_INVALID, `scenario ${file} does not fit campus ${chosen}`, problems);
  return { scenario: parsed.scenario, campus, campusFile: chosen };
}
