// One environment variable as the schema declares it (its name is its key in a table), and the reading
// of a table: every variable's text (or its default) through its kind, every problem kept.
import type { Problem } from "../errors.js";
import type { ValueKind } from "./values.js";

/** The `campus-power` commands (cli/main.ts), for "which commands read it". */
export const COMMANDS = ["up", "broker", "ingest", "alerts", "api", "simulate", "scenario", "record", "replay", "device-secret", "check-config", "backfill", "user"] as const;
export type Command = (typeof COMMANDS)[number];

/** The values read so far, by variable name (a default may derive from an earlier variable). */
export type ValuesByName = Readonly<Record<string, unknown>>;

export interface EnvVariable<T> {
  /** Where the value lands in `Env`; absent for a variable a library reads itself (documented only). */
  field?: string;
  value: ValueKind<T>;
  /** The text used when the variable is unset or empty; a function of earlier values for a derived default. */
  default: string | ((earlier: ValuesByName) => string);
  /** The default as the docs show it (Markdown), when the literal text would mislead or is empty. */
  shownDefault?: string;
  /** What it is for (Markdown, one sentence or two). */
  meaning: string;
  readBy: readonly Command[];
  /** Commands that refuse to start without it (`up --demo` generates the secrets instead). */
  requiredBy?: readonly Command[];
}

/** Declares a variable, keeping its `field` name as a literal type (so `Env` can be derived). */
export const variable = <const Field extends string, T>(spec: EnvVariable<T> & { field: Field }) => spec;
/** Declares a variable that no `Env` field holds (a library reads it). */
export const libraryVariable = <T>(spec: Omit<EnvVariable<T>, "field">): EnvVariable<T> => spec;

export type VariableTable = Readonly<Record<string, EnvVariable<unknown>>>;

type ValueOf<V> = V extends { value: ValueKind<infer T> } ? T : never;
/** The object a table reads into: each variable's value under its `field`. */
export type FieldsOf<Table> = {
  readonly [Name in keyof Table as Table[Name] extends { field: infer Field extends string } ? Field : never]: ValueOf<Table[Name]>;
};

/** The text a variable has in `source`; unset and empty both mean "use the default" (CONTRACT §1). */
export function textOf(source: NodeJS.ProcessEnv, name: string, spec: Pick<EnvVariable<unknown>, "default">, earlier: ValuesByName): string {
  const value = source[name];
  if (value !== undefined && value !== "") return value;
  return typeof spec.default === "function" ? spec.default(earlier) : spec.default;
}

/**
 * Reads every variable of a table. A variable with problems takes its default's value, so a default
 * derived from it stays sane (a bad MQTT_PORT must not also make MQTT_URL "wrong"); the caller throws
 * when any problem was found, so that value is never used.
 */
export function readTable<Table extends VariableTable>(table: Table, source: NodeJS.ProcessEnv, problems: Problem[], earlier: Record<string, unknown>): FieldsOf<Table> {
  const fields: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const parsed = spec.value.parse(textOf(source, name, spec, earlier), name);
    let value: unknown;
    if (parsed.ok) value = parsed.value;
    else {
      problems.push(...parsed.problems);
      const fallback = spec.value.parse(textOf({}, name, spec, earlier), name);
      value = fallback.ok ? fallback.value : undefined;
    }
    earlier[name] = value;
    if (spec.field !== undefined) fields[spec.field] = value;
  }
  // Every variable of the table was read into its field above: the shape FieldsOf<Table> names.
  return fields as FieldsOf<Table>;
}
