// The environment schema as documentation: the list of every variable in the order the docs show them,
// the ones a command reads, and the README's table (`npm run docs:env` writes it between the markers).
import { ALERT_WEBHOOK_VARIABLES, NOTIFY_VARIABLES } from "../env-alerts.js";
import { type Command, COMMANDS, type EnvVariable } from "./variable.js";
import { ENV_VARIABLES } from "./variables.js";

export interface DocumentedVariable {
  name: string;
  spec: EnvVariable<unknown>;
}

export const ALL_ENV_VARIABLES: readonly DocumentedVariable[] = [...Object.entries(ENV_VARIABLES), ...Object.entries(ALERT_WEBHOOK_VARIABLES), ...Object.entries(NOTIFY_VARIABLES)].map(
  ([name, spec]): DocumentedVariable => ({ name, spec }),
);

export const variablesReadBy = (command: Command): DocumentedVariable[] => ALL_ENV_VARIABLES.filter((v) => v.spec.readBy.includes(command));

/** The default as the docs show it (Markdown). */
export function shownDefault(spec: EnvVariable<unknown>): string {
  if (spec.shownDefault !== undefined) return spec.shownDefault;
  return typeof spec.default === "string" && spec.default !== "" ? `\`${spec.default}\`` : "empty";
}

/** "required by up, api" and the commands that only read it, in the order of COMMANDS. */
function readers(spec: EnvVariable<unknown>): string {
  const inOrder = (commands: readonly Command[]) => COMMANDS.filter((c) => commands.includes(c));
  const required = inOrder(spec.requiredBy ?? []);
  const optional = inOrder(spec.readBy).filter((c) => !required.includes(c));
  if (required.length === 0) return optional.join(", ");
  return `required by ${required.join(", ")}${optional.length > 0 ? `; read by ${optional.join(", ")}` : ""}`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

export const ENV_TABLE_START = "<!-- env-table:start (written by `npm run docs:env` from domain/env/variables.ts; do not edit) -->";
export const ENV_TABLE_END = "<!-- env-table:end -->";

/** The README's environment table, one row a variable. */
export function renderEnvTable(): string {
  const rows = ALL_ENV_VARIABLES.map(({ name, spec }) => `| \`${name}\` | ${cell(shownDefault(spec))} | ${cell(spec.meaning)} | ${readers(spec)} |`);
  return ["| variable | default | meaning | read by |", "|---|---|---|---|", ...rows].join("\n");
}

/** The table as it stands between the markers of a README, or null when the markers are missing. */
export function envTableIn(readme: string): string | null {
  const start = readme.indexOf(ENV_TABLE_START);
  const end = readme.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) return null;
  return readme.slice(start + ENV_TABLE_START.length, end).trim();
}

/** The README with the table between the markers replaced by `table`; throws when the markers are missing. */
export function withEnvTable(readme: string, table: string): string {
  const start = readme.indexOf(ENV_TABLE_START);
  const end = readme.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) throw new Error(`the README has no ${ENV_TABLE_START} … ${ENV_TABLE_END} markers`);
  return `${readme.slice(0, start + ENV_TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
