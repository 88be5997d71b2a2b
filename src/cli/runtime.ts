// What every long-running command shares: env and campus loading with every problem printed,
// demo secrets, and SIGTERM/SIGINT mapped to an orderly stop.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Campus, loadCampus } from "../domain/campus.js";
import { type Env, formatApiTokens, readEnv, type SecretVariable } from "../domain/env.js";
import { CampusError, formatProblems } from "../domain/errors.js";
import { createLogger, type Logger } from "../infra/logger.js";
import { createRegistry, type Registry } from "../infra/metrics.js";
import type { RunningService, ServiceContext } from "../infra/service.js";

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

/** Reads env and campus file; prints every problem and exits 1 before anything listens. */
export function loadContext(source: NodeJS.ProcessEnv, required: readonly SecretVariable[], name: string): Loaded {
  try {
    const env = readEnv(source, required);
    const campus = loadCampus(env.campusConfig);
    const log = createLogger(env.logLevel, name);
    const metrics = createRegistry();
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
export function demoSecrets(source: NodeJS.ProcessEnv, dataDir: string): DemoSecrets {
  const file = join(dataDir, "demo-secrets.json");
  const stored: Partial<Record<SecretVariable, string>> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const token = () => randomBytes(18).toString("base64url");
  const fresh: Record<SecretVariable, () => string> = {
    DEVICE_GROUP_KEY: () => randomBytes(24).toString("hex"),
    SERVICE_PASSWORD: token,
    API_TOKENS: () => formatApiTokens([
      { role: "viewer", token: token() },
      { role: "operator", token: token() },
      { role: "admin", token: token() },
    ]),
  };
  const values: Partial<Record<SecretVariable, string>> = {};
  const generated: SecretVariable[] = [];
  for (const name of Object.keys(fresh) as SecretVariable[]) {
    if (source[name]) continue;
    values[name] = stored[name] ?? fresh[name]();
    generated.push(name);
  }
  if (generated.length > 0) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ ...stored, ...values }, null, 2), { mode: 0o600 });
  }
  return { values, generated };
}

/**
 * Runs until SIGTERM/SIGINT, then stops the services in reverse order and exits 0
 * (CONTRACT §1: within 10 s; a stop that hangs is cut off at 9 s with exit 1).
 */
export function stopOnSignals(services: () => RunningService[], log: Logger, before?: () => void): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    before?.();
    log.info({ signal }, "stopping");
    const deadline = setTimeout(() => {
      log.error("stop took longer than 9 s; exiting");
      process.exit(1);
    }, 9_000);
    deadline.unref();
    for (const service of [...services()].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        log.error({ err: error }, "error while stopping a service");
      }
    }
    log.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

/** Parses durations like 500ms, 90s, 10m, 2h, 1d into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new UsageError(`"${text}" is not a duration (use e.g. 90s, 10m, 2h)`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}
