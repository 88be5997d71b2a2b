// The `campus-power` command: the composition root, the only place that wires services together.
import { parseArgs } from "node:util";
import { readCampusConfig } from "../infra/campus-file.js";
import { devicePassword } from "../domain/credentials.js";
import { DEMO_CAMPUS_FILE } from "../domain/env.js";
import { formatProblems } from "../domain/errors.js";
import { emailEnvironmentProblems } from "../domain/district/notify-check.js";
import { COMMAND_HELP, MAIN_HELP } from "./help.js";
import { demoSecrets, exitOnConfigError, loadContext, parseDuration, stopOnSignals, UsageError } from "./runtime.js";
import { InfluxClient } from "../infra/influx.js";
import { reloadOnHangup, tlsFromEnv } from "../infra/tls.js";
import type { RunningService } from "../infra/service.js";
import { existsSync } from "node:fs";
import { alertsHa, apiHa, brokerHa, ingestHa, alertsInstanceName, instanceName } from "./ha.js";

type Handler = (args: string[]) => Promise<void>;

/** Runs node's parseArgs, turning its errors (unknown option, missing value) into usage errors. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const influxOf = (env: { influxUrl: string; influxDb: string; influxUsername: string; influxPassword: string }) =>
  new InfluxClient({ url: env.influxUrl, db: env.influxDb, username: env.influxUsername, password: env.influxPassword });

/** TLS_CERT_FILE and TLS_KEY_FILE's pair (CONTRACT §13), reloaded on SIGHUP (which then no longer stops the service), or null. */
function tlsReloadedOnHangup(env: Parameters<typeof tlsFromEnv>[0], log: Parameters<typeof tlsFromEnv>[1]) {
  const tls = tlsFromEnv(env, log);
  if (tls) reloadOnHangup(tls);
  return tls;
}

/** A started service that may say which role it holds (the alerts service: active or standby). */
type Started = RunningService & { role?: () => string };

/**
 * Runs one service alone until a signal stops it. The broker, ingest and alerts also serve /metrics and
 * /ready on METRICS_PORT when it is set (the API serves them on HTTP_PORT), from before the service starts,
 * so a scrape shows "starting" while it waits for Redis or InfluxDB.
 */
async function runAlone(name: "broker" | "ingest" | "alerts" | "api", start: (ctx: ReturnType<typeof loadContext>) => Promise<Started>) {
  const loaded = loadContext(process.env, name);
  const { env, log } = loaded;
  const services: RunningService[] = [];
  stopOnSignals(() => services, log);
  let started: Started | null = null;
  if (name !== "api" && env.metricsPort !== null) {
    const { startMetricsEndpoint } = await import("../infra/metrics-server.js");
    const clustered = env.redisUrl !== "";
    const fixedRole = name === "broker" ? (clustered ? "node" : "single") : name === "ingest" ? (clustered ? "worker" : "single") : "single";
    const role = () => (started === null ? null : (started.role?.() ?? fixedRole));
    services.push(await startMetricsEndpoint({ host: env.bindHost, port: env.metricsPort, registry: loaded.metrics, token: env.metricsToken, log, service: name, instance: !clustered ? "" : name === "alerts" ? alertsInstanceName(env) : instanceName(env), role }));
  }
  started = await start(loaded);
  services.push(started);
  log.info(`${name} is running`);
}

const commands: Record<string, Handler> = {
  async up(args) {
    const options = { demo: { type: "boolean" }, district: { type: "boolean" }, seed: { type: "string" }, history: { type: "string" }, tls: { type: "boolean" } } as const;
    const { values } = usage(() => parseArgs({ args, options }));
    const { runUp } = await import("./up.js");
    const history = values.history !== undefined ? { history: values.history } : {};
    await runUp({ demo: values.demo ?? false, district: values.district ?? false, seed: Number(values.seed ?? 1), tls: values.tls ?? false, ...history });
  },
  async broker(args) {
    usage(() => parseArgs({ args, options: {} }));
    const { startBroker } = await import("../broker/index.js");
    await runAlone("broker", ({ ctx, env, log }) => startBroker(ctx, { tls: tlsReloadedOnHangup(env, log), ...brokerHa(env, ctx.campus) }));
  },
  async ingest(args) {
    usage(() => parseArgs({ args, options: {} }));
    const { startIngest } = await import("../ingest/index.js");
    await runAlone("ingest", ({ ctx, env }) => startIngest(ctx, { influx: influxOf(env), ...ingestHa(env) }));
  },
  async alerts(args) {
    usage(() => parseArgs({ args, options: {} }));
    const { startAlerts } = await import("../alerts/index.js");
    // Stood down (another instance holds the lease): exit 3 at once, publishing nothing more; the supervisor restarts it as a standby.
    await runAlone("alerts", ({ ctx, env, log }) => startAlerts(ctx, { influx: influxOf(env), environment: process.env, ...alertsHa(env, () => (log.warn("alerts: stood down; exiting so the supervisor starts a standby"), process.exit(3))) }));
  },
  async api(args) {
    usage(() => parseArgs({ args, options: {} }));
    const { startApi } = await import("../api/index.js");
    await runAlone("api", ({ ctx, env, log }) => startApi(ctx, { influx: influxOf(env), tls: tlsReloadedOnHangup(env, log), ...apiHa(env) }));
  },
  async simulate(args) {
    const { values } = usage(() => parseArgs({ args, options: {
      config: { type: "string" },
      seed: { type: "string" },
      speed: { type: "string" },
      duration: { type: "string" },
      start: { type: "string" },
      scenario: { type: "string" },
      devices: { type: "string" },
      "print-config": { type: "boolean" },
      shard: { type: "string" },
      "mqtt-url": { type: "string", multiple: true },
    } }));
    const shard = values.shard === undefined ? undefined : /^(\d+)\/(\d+)$/.exec(values.shard);
    if (shard === null || (shard && !(Number(shard[1]) < Number(shard[2])))) throw new UsageError('--shard must be K/N with 0 ≤ K < N, e.g. 0/4');
    const start = values.start === undefined ? undefined : /^\d+$/.test(values.start) ? Number(values.start) : Date.parse(values.start);
    if (start !== undefined && !Number.isFinite(start)) throw new UsageError(`--start "${values.start}" is not an ISO 8601 time with offset or epoch milliseconds`);
    const { simulateCommand } = await import("./simulate.js");
    await simulateCommand({
      ...(values.config ? { config: values.config } : {}),
      seed: Number(values.seed ?? 1),
      speed: Number(values.speed ?? 1),
      ...(values.duration ? { durationMs: parseDuration(values.duration) } : {}),
      ...(start !== undefined ? { startMs: start } : {}),
      scenario: values.scenario ?? "demo",
      ...(values.devices !== undefined ? { devices: Number(values.devices) } : {}),
      printConfig: values["print-config"] ?? false,
      ...(shard ? { shard: { index: Number(shard[1]), count: Number(shard[2]) } } : {}),
      ...(values["mqtt-url"] ? { mqttUrls: values["mqtt-url"] } : {}),
    });
  },
  async scenario(args) {
    const { values, positionals } = usage(() => parseArgs({ args, options: {
      check: { type: "boolean" },
      speed: { type: "string" },
      seed: { type: "string" },
      config: { type: "string" },
    }, allowPositionals: true }));
    const [action, name, ...extra] = positionals;
    if ((action !== "run" && action !== "list") || extra.length > 0) throw new UsageError("usage: campus-power scenario list | scenario run NAME [--check] [--speed X] [--seed N] [--config FILE]");
    const { scenarioCommand } = await import("./scenario.js");
    process.exitCode = await scenarioCommand({
      action,
      ...(name !== undefined ? { name } : {}),
      check: values.check ?? false,
      ...(values.speed !== undefined ? { speed: Number(values.speed) } : {}),
      ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
      ...(values.config !== undefined ? { config: values.config } : {}),
    });
  },
  async record(args) {
    const { values } = usage(() => parseArgs({ args, options: { out: { type: "string" }, topics: { type: "string" }, duration: { type: "string" } } }));
    if (!values.out) throw new UsageError("record needs --out FILE");
    const { runRecord } = await import("./record-replay.js");
    await runRecord({ out: values.out, topics: values.topics?.split(",").filter(Boolean), durationMs: values.duration ? parseDuration(values.duration) : undefined });
  },
  async replay(args) {
    const { values, positionals } = usage(() => parseArgs({ args, options: { speed: { type: "string" }, loop: { type: "boolean" }, restamp: { type: "boolean" }, topics: { type: "string" } }, allowPositionals: true }));
    if (positionals.length !== 1) throw new UsageError("replay needs exactly one FILE");
    const { runReplay } = await import("./record-replay.js");
    const topics = values.topics?.split(",").filter(Boolean);
    await runReplay({ file: positionals[0]!, speed: Number(values.speed ?? 1), loop: values.loop ?? false, restamp: values.restamp ?? false, ...(topics ? { topics } : {}) });
  },
  async "device-secret"(args) {
    const { positionals } = usage(() => parseArgs({ args, options: {}, allowPositionals: true }));
    if (positionals.length !== 1) throw new UsageError("device-secret needs exactly one device ID");
    // Without DEVICE_GROUP_KEY, the key a demo generated (DATA_DIR/demo-secrets.json) is used.
    const key = process.env.DEVICE_GROUP_KEY || demoSecrets({}, process.env.DATA_DIR || "./data", false).values.DEVICE_GROUP_KEY;
    if (!key) throw new UsageError("DEVICE_GROUP_KEY is not set (it is the fleet key the broker uses)");
    process.stdout.write(`${devicePassword(positionals[0]!, key)}\n`);
  },
  async backfill(args) {
    const { values } = usage(() => parseArgs({ args, options: { from: { type: "string" }, to: { type: "string" } } }));
    const { runBackfill } = await import("./backfill.js");
    await runBackfill({ ...(values.from ? { from: values.from } : {}), ...(values.to ? { to: values.to } : {}) });
  },
  async user(args) {
    const { userCommand } = await import("./user.js");
    await userCommand(args);
  },
  async "notify-test"(args) {
    const { positionals } = usage(() => parseArgs({ args, options: {}, allowPositionals: true }));
    if (positionals.length !== 1) throw new UsageError("notify-test needs exactly one ROUTE (its index in notify: or its name)");
    const { notifyTestCommand } = await import("./notify-test.js");
    process.exitCode = await notifyTestCommand(positionals[0]!, process.env);
  },
  async "check-config"(args) {
    const { positionals } = usage(() => parseArgs({ args, options: {}, allowPositionals: true }));
    if (positionals.length > 1) throw new UsageError("check-config takes one FILE");
    const file = positionals[0] ?? process.env.CAMPUS_CONFIG ?? DEMO_CAMPUS_FILE;
    if (!existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
    const result = readCampusConfig(file);
    if (result.ok) {
      const { campus } = result;
      // CONTRACT §14: e-mail routes need SMTP_URL and SMTP_FROM in the environment they will run in.
      const environment = emailEnvironmentProblems(campus.notify, process.env);
      if (environment.length > 0) {
        process.stdout.write(`${file}: ${environment.length} problem${environment.length === 1 ? "" : "s"} in the environment\n${formatProblems(environment)}\n`);
        process.exitCode = 1;
        return;
      }
      const sites = campus.sites.length > 1 ? `${campus.sites.length} sites, ` : "";
      process.stdout.write(`${file}: valid — ${sites}${campus.buildings.length} buildings, ${campus.devices.length} devices\n`);
      return;
    }
    const { problems } = result;
    process.stdout.write(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${formatProblems(problems)}\n`);
    process.exitCode = 1;
  },
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(MAIN_HELP);
    return;
  }
  const handler = commands[name];
  if (!handler) {
    process.stderr.write(`campus-power: unknown command "${name}"\n\n${MAIN_HELP}`);
    process.exit(1);
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(COMMAND_HELP[name] ?? MAIN_HELP);
    return;
  }
  await handler(rest);
}

// A reader that went away (`campus-power scenario list | head`) ends the output, not the program with a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

main(process.argv.slice(2)).catch((error: unknown) => {
  try {
    exitOnConfigError(error);
  } catch (unexpected) {
    process.stderr.write(`campus-power: ${(unexpected as Error).stack ?? String(unexpected)}\n`);
    process.exit(1);
  }
});
