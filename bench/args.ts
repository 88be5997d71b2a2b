// Every bench's command line: node:util parseArgs with --help (-h) added. --help prints the bench's usage and
// exits 0 before anything starts; a mistyped option or value is one line on standard error and exit 2, never a
// stack trace, and never a bench run with NaN in it (which would take minutes to print a table of nonsense).
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The options' values as parseArgs gives them: absent unless given (each bench applies its own defaults). */
export type BenchValues<O extends Options> = { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };

/** What a number must be: a whole number (the default) or any, above 0 (the default) or 0 too. */
export interface NumberRule {
  whole?: boolean;
  zero?: boolean;
}

export interface BenchArgs<O extends Options> {
  values: BenchValues<O>;
  /** The arguments that are not options (only with `positionals: true`; otherwise one is a usage error). */
  positionals: string[];
  /**
   * `value` as a number, checked against `rule`: `number("--devices", args.devices ?? 1_000)`, or an environment
   * variable's `number("BENCH_PROBES", process.env.BENCH_PROBES ?? 200)`. `label` names it in the error.
   */
  number(label: string, value: string | number, rule?: NumberRule): number;
  /** A usage error: `bench:<name>: <message> (see --help)` on standard error, exit 2. */
  fail(message: string): never;
}

/** Parses `argv` (default: this process's) for `npm run bench:<name>`; `usage` is what --help prints. */
export function parseBenchArgs<O extends Options>(name: string, usage: string, options: O, settings: { positionals?: boolean; argv?: string[] } = {}): BenchArgs<O> {
  const fail = (message: string): never => {
    process.stderr.write(`bench:${name}: ${message} (see --help)\n`);
    return process.exit(2);
  };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: settings.argv ?? process.argv.slice(2),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: settings.positionals ?? false,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS_")) throw error;
    // Node's messages go on with advice about positionals and dashes over several lines: the first sentence says what is wrong.
    return fail((error as Error).message.split(/\n|\.\s/)[0]!);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  const number = (label: string, value: string | number, { whole = true, zero = false }: NumberRule = {}): number => {
    // Number("") and Number(" ") are 0: an empty value is no number.
    const n = typeof value === "number" ? value : value.trim() === "" ? NaN : Number(value);
    if (Number.isFinite(n) && (!whole || Number.isInteger(n)) && (zero ? n >= 0 : n > 0)) return n;
    return fail(`${label} takes ${whole ? "a whole number" : "a number"} ${zero ? "of 0 or more" : "above 0"}, not "${value}"`);
  };
  return { values: parsed.values as BenchValues<O>, positionals: parsed.positionals, number, fail };
}
