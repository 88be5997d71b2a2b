// What every long-running command shares: env and campus loading with every problem printed,
// demo secrets, and SIGTERM/SIGINT mapped to an orderly stop.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Campus } from "../domain/campus.js";
import { loadCampus } from "../infra/campus-file.js";
import { type Env, formatApiTokens, readEnv, requiredFor, type SecretVariable } from "../domain/env.js";
import { tokenSiteProblems } from "../domain/env/api-tokens.js";
import type { Command } from "../domain/env/variable.js";
import { parseDurationMs } from "../domain/duration.js";
import { CampusError, ErrorCodes, formatProblems } from "../domain/errors.js";
import { createLogger, type Logger } from "../infra/logger.js";
import { createRegistry, type Registry } from "../infra/metrics.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { finishesWithin } from "../infra/timeout.js";

/** Exit code for bad usage or configuration. */
export const EXIT_CONFIG = 1;

export class UsageError extends Error {}

/** Prints a configuration error with every problem and exits 1; anything else is rethrown. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof CampusError) {
    process.stderr.write(`campus-power: ${error.message}\n${formatProblems(error.problems)}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (error instanceof UsageError) {
    process.stderr.write(`campus-power: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  throw error;
}

export interface Loaded {
  ctx: ServiceContext;
  env: Env;
  campus: Campus;
  log: Logger;
  metrics: Registry;
}

/**
 * Reads env and campus file for `command`; prints every problem and exits 1 before anything listens.
 * The secrets it needs are the environment schema's (`requiredFor`, the same that `--help` shows),
 * plus `alsoRequired` for an option that needs more (`scenario --check`).
 */
export function loadContext(source: NodeJS.ProcessEnv, command: Command, alsoRequired: readonly SecretVariable[] = [], options: { processMetrics?: boolean } = {}): Loaded {
  try {
    const env = readEnv(source, [...new Set([...requiredFor(command), ...alsoRequired])]);
    const campus = loadCampus(env.campusConfig);
    // A token scoped to a site the district lacks is refused here, before anything listens (named by position).
    const scoped = tokenSiteProblems(env.apiTokens, new Set(campus.sites.map((s) => s.site.id)));
    if (scoped.length > 0) throw new CampusError(ErrorCodes.ENV_INVALID, "API_TOKENS scopes a token to a site the district does not have", scoped);
    const log = createLogger(env.logLevel, command === "up" ? "campus-power" : `campus-power-${command}`);
    // A thread of `up` (./service-thread.ts) leaves the process's metrics (CPU, memory, event loop) to the main thread.
    const metrics = createRegistry(options.processMetrics ?? true);
    return { ctx: { env, campus, log, metrics }, env, campus, log, metrics };
  } catch (error) {
    exitOnConfigError(error);
  }
}

export interface DemoSecrets {
  values: Partial<Record<SecretVariable, string>>;
  generated: SecretVariable[];
}

/**
 * Fills the secrets the demo needs but the environment lacks. Generated values are kept in
 * DATA_DIR/demo-secrets.json (mode 0600) so tokens a newcomer copied keep working after a restart.
 */
export function demoSecrets(source: NodeJS.ProcessEnv, dataDir: string, create = true): DemoSecrets {
  const file = join(dataDir, "demo-secrets.json");
  const stored: Partial<Record<SecretVariable, string>> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const token = () => randomBytes(18).toString("base64url");
  const fresh: Record<SecretVariable, () => string> = {
    DEVICE_GROUP_KEY: () => randomBytes(24).toString("hex"),
    SERVICE_PASSWORD: token,
    API_TOKENS: () => formatApiTokens([
      { role: "viewer", token: token(), sites: null },
      { role: "operator", token: token(), sites: null },
      { role: "admin", token: token(), sites: null },
    ]),
  };
  const values: Partial<Record<SecretVariable, string>> = {};
  const generated: SecretVariable[] = [];
  for (const name of Object.keys(fresh) as SecretVariable[]) {
    if (source[name]) continue;
    const value = stored[name] ?? (create ? fresh[name]() : undefined);
    if (value === undefined) continue;
    values[name] = value;
    generated.push(name);
  }
  if (create && generated.length > 0) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ ...stored, ...values }, null, 2), { mode: 0o600 });
  }
  return { values, generated };
}

/** The whole stop must end within CONTRACT §1's 10 s; this leaves room for the process to exit. */
export const STOP_BUDGET_MS = 8_500;

/**
 * Runs until SIGTERM/SIGINT/SIGHUP, then stops the services in reverse order of start and exits 0.
 * One deadline is shared: each service gets the time left divided by the services left, so a quick
 * stop leaves more for the ingest's flush, and no slow one can push the exit past 10 s.
 */
export function stopOnSignals(services: () => RunningService[], log: Logger, before?: () => void): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    before?.();
    log.info({ signal }, "stopping");
    const deadline = Date.now() + STOP_BUDGET_MS;
    const hardStop = setTimeout(() => {
      log.error("stop is stuck past its deadline; exiting");
      process.exit(1);
    }, STOP_BUDGET_MS + 1_000);
    hardStop.unref();
    const list = [...services()].reverse();
    for (const [index, service] of list.entries()) {
      const budgetMs = Math.max(100, (deadline - Date.now()) / (list.length - index));
      const stopped = await finishesWithin(service.stop(), budgetMs).catch((error: unknown) => {
        log.error({ err: error }, "error while stopping a service");
        return true; // it failed, but it is not still running: nothing to warn about being late
      });
      if (!stopped) log.warn({ budgetMs: Math.round(budgetMs) }, "a service did not stop within its share of the deadline; going on");
    }
    log.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGHUP", () => void stop("SIGHUP")); // the terminal closed: stop as orderly as for Ctrl-C
}

/**
 * Parses a command-line duration like 500ms, 90s, 10m, 2h, 1d into milliseconds: the environment's
 * grammar (domain/duration.ts), but with its unit required (a bare `--duration 90` is ambiguous).
 */
export function parseDuration(text: string): number {
  const ms = parseDurationMs(text, { unitRequired: true });
  if (Number.isNaN(ms)) throw new UsageError(`"${text}" is not a duration (use e.g. 90s, 10m, 2h)`);
  return ms;
}
