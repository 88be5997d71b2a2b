// The environment schema is the one source of the README's table and of `--help`, and it names every
// variable the product reads.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_HELP, MAIN_HELP } from "../../../cli/help.js";
import { ALL_ENV_VARIABLES, envTableIn, renderEnvTable, withEnvTable } from "../../../domain/env/docs.js";
import { textOf } from "../../../domain/env/variable.js";

const ROOT = join(import.meta.dirname, "../../..");
const names = ALL_ENV_VARIABLES.map((v) => v.name);

/** Product source files (services, domain, infra, CLI), not tests or benchmarks. */
function productSources(dir = ROOT, under = ["broker", "ingest", "alerts", "api", "simulator", "domain", "infra", "cli"]): string[] {
  return under.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return productSources(path, readdirSync(path));
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

describe("the environment schema", () => {
  it("is what README.md's table says (run npm run docs:env after changing it)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(envTableIn(readme)).toBe(renderEnvTable());
  });

  it("replaces only what stands between the README's markers", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const rewritten = withEnvTable(readme, "| a table |");
    expect(envTableIn(rewritten)).toBe("| a table |");
    expect(withEnvTable(rewritten, renderEnvTable())).toBe(readme);
  });

  it("names every variable the product reads from process.env", () => {
    const read = new Set<string>();
    for (const file of productSources()) {
      for (const match of readFileSync(file, "utf8").matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[["']([A-Z][A-Z0-9_]*)["']\])/g)) read.add((match[1] ?? match[2])!);
    }
    expect(read.size).toBeGreaterThan(0);
    expect([...read].filter((name) => !names.includes(name))).toEqual([]);
  });

  it("holds the contract's variables (CONTRACT §1) and the extensions, each once", () => {
    const contract = ["CAMPUS_CONFIG", "MQTT_PORT", "MQTT_WS_PORT", "MQTT_URL", "HTTP_PORT", "INFLUX_URL", "INFLUX_DB", "INFLUX_USERNAME", "INFLUX_PASSWORD", "DATA_DIR", "DEVICE_GROUP_KEY", "API_TOKENS", "SERVICE_PASSWORD", "LOG_LEVEL"];
    const extensions = ["RAW_RETENTION_DAYS", "SPOOL_MAX_MB", "BIND_HOST", "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "ALERT_WEBHOOK_ESCALATION_URL", "ALERT_WEBHOOK_ESCALATION_SECRET", "ALERT_WEBHOOK_GROUP", "ALERT_WEBHOOK_REPEAT", "ALERT_WEBHOOK_ESCALATE_AFTER", "ALERT_WEBHOOK_EXPIRE", "ALERT_WEBHOOK_RETRY", "ALERT_WEBHOOK_TIMEOUT"];
    expect(names).toEqual(expect.arrayContaining([...contract, ...extensions]));
    expect(new Set(names).size).toBe(names.length);
  });

  it("has defaults its own parsers accept", () => {
    const earlier: Record<string, unknown> = { MQTT_PORT: 1883, ALERT_WEBHOOK_SECRET: "" };
    for (const { name, spec } of ALL_ENV_VARIABLES) {
      const text = textOf({}, name, spec, earlier);
      // The webhook target has no default: it is read only when set.
      if (name === "ALERT_WEBHOOK_URL") continue;
      expect(spec.value.parse(text, name).ok, `${name}=${JSON.stringify(text)}`).toBe(true);
    }
  });
});

describe("--help", () => {
  it("lists every variable of the schema in the main help", () => {
    for (const name of names) expect(MAIN_HELP).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  /** A variable's entry in a help text, its wrapped lines joined; undefined when the help does not list it. */
  function entryOf(help: string, name: string): string | undefined {
    const match = new RegExp(`^  ${name} +(.*(?:\n {36}.*)*)`, "m").exec(help);
    return match?.[1]?.replace(/\n +/g, " ");
  }

  it("shows each command the variables it reads, with the secrets it cannot start without", () => {
    expect(entryOf(COMMAND_HELP.broker!, "DEVICE_GROUP_KEY")).toMatch(/\(required\)$/);
    expect(entryOf(COMMAND_HELP.broker!, "MQTT_WS_PORT")).toMatch(/\(default: 9001\)$/);
    expect(entryOf(COMMAND_HELP.broker!, "HTTP_PORT")).toBeUndefined();
    expect(entryOf(COMMAND_HELP.api!, "API_TOKENS")).toMatch(/\(required\)$/);
    expect(entryOf(COMMAND_HELP.api!, "DEVICE_GROUP_KEY")).toBeUndefined();
    expect(entryOf(COMMAND_HELP.alerts!, "ALERT_WEBHOOK_RETRY")).toBe("first retry delay; doubles per attempt, at most 5 min (default: 1s)");
    expect(entryOf(COMMAND_HELP.ingest!, "SPOOL_MAX_MB")).toMatch(/\(default: 1024\)$/);
    expect(entryOf(COMMAND_HELP.backfill!, "RAW_RETENTION_DAYS")).toMatch(/\(default: 90\)$/);
    expect(entryOf(COMMAND_HELP["device-secret"]!, "DEVICE_GROUP_KEY")).toMatch(/\(default: generated in --demo, required otherwise\)$/);
    expect(entryOf(COMMAND_HELP["check-config"]!, "CAMPUS_CONFIG")).toMatch(/\(default: config\/demo-campus\.yaml\)$/);
  });
});
