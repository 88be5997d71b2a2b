// Two of every service on one Redis, as real `campus-power` processes (CONTRACT §12), and devices that
// publish to them: the failure drills (tests/integration/ha-drills.test.ts) and `npm run bench:ha` kill parts
// of it and check what the users would see.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../infra/free-port.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { type CliProcess, startCli } from "./cli.js";

export const HA_KEY = "ha-drill-group-key-0123456789";
export const HA_PASSWORD = "ha-drill-service-password";
export const HA_ADMIN = "ha-drill-admin-token-0123456789";

export type Service = "broker" | "ingest" | "alerts" | "api";
export type ProcessName = `${Service}-${"a" | "b"}`;
/** What each service prints once it is serving (or, for an alerts standby, waiting). */
const READY: Record<Service, RegExp> = {
  broker: /MQTT broker listening/,
  ingest: /ingest started/,
  alerts: /alerts service started|standby/,
  api: /api is running/,
};

/** A campus of `rooms` dormitory room breakers (16 A) in 4 buildings, for the drills. */
export function drillCampus(dir: string, rooms: number): { file: string; devices: string[] } {
  const devices = Array.from({ length: rooms }, (_, i) => `brk-${i}`);
  const lines = [
    "site: { id: ha-school, name: HA School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }",
    "buildings:",
    ...[0, 1, 2, 3].map((b) => `  - { id: dorm-${b}, name: Dormitory ${b}, kind: dormitory }`),
    "devices:",
    ...devices.map((id, i) => `  - { id: ${id}, kind: breaker, building: dorm-${i % 4}, room: "${i}", rating_a: 16, curve: C, report_interval_s: 5 }`),
  ];
  const file = join(dir, "campus.yaml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return { file, devices };
}

export interface Cluster {
  redis: LocalRedis;
  brokerPorts: Record<"a" | "b", number>;
  apiPorts: Record<"a" | "b", number>;
  /** METRICS_PORT of each broker, ingest and alerts process (the API serves /metrics on its HTTP port). */
  metricsPorts: Partial<Record<ProcessName, number>>;
  /** MQTT_URL as every service and device gets it: both brokers. */
  mqttUrl: string;
  processes: Map<ProcessName, CliProcess>;
  start(name: ProcessName): Promise<CliProcess>;
  /** kill -9, and waits for the exit. */
  kill(name: ProcessName): Promise<void>;
  /** Everything each process printed (for a failing test's message); `only`: those whose name starts with it. */
  logs(only?: string): string;
  stop(): Promise<void>;
}

export async function startCluster(options: { influxUrl: string; db: string; campusFile: string; dir?: string; extraEnv?: NodeJS.ProcessEnv }): Promise<Cluster> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "campus-ha-"));
  const redis = await startLocalRedis({ dir: join(dir, "redis") });
  const brokerPorts = { a: await freePort(), b: await freePort() };
  const wsPorts = { a: await freePort(), b: await freePort() };
  const apiPorts = { a: await freePort(), b: await freePort() };
  const metricsPorts: Partial<Record<ProcessName, number>> = {};
  for (const service of ["broker", "ingest", "alerts"] as const) for (const side of ["a", "b"] as const) metricsPorts[`${service}-${side}`] = await freePort();
  const mqttUrl = `mqtt://127.0.0.1:${brokerPorts.a},mqtt://127.0.0.1:${brokerPorts.b}`;
  const processes = new Map<ProcessName, CliProcess>();
  const finished: string[] = [];
  const envOf = (name: ProcessName): NodeJS.ProcessEnv => {
    const side = name.endsWith("-a") ? "a" : "b";
    return {
      CAMPUS_CONFIG: options.campusFile, REDIS_URL: redis.url, INSTANCE_NAME: name,
      // Each process its own data folder, as on its own machine (the ingest's spool, the API's files).
      DATA_DIR: join(dir, name), INFLUX_URL: options.influxUrl, INFLUX_DB: options.db,
      DEVICE_GROUP_KEY: HA_KEY, SERVICE_PASSWORD: HA_PASSWORD, API_TOKENS: `admin:${HA_ADMIN}`, LOG_LEVEL: "info",
      // A service starts on the broker of its own side, and moves to the other when it goes away.
      MQTT_URL: side === "a" ? mqttUrl : `mqtt://127.0.0.1:${brokerPorts.b},mqtt://127.0.0.1:${brokerPorts.a}`,
      MQTT_PORT: String(brokerPorts[side]), MQTT_WS_PORT: String(wsPorts[side]), HTTP_PORT: String(apiPorts[side]),
      MQTT_MAX_CONNECTIONS_PER_ADDRESS: "5000", METRICS_PORT: String(metricsPorts[name] ?? ""),
      ...options.extraEnv,
    };
  };
  const cluster: Cluster = {
    redis, brokerPorts, apiPorts, metricsPorts, mqttUrl, processes,
    async start(name) {
      const started = startCli([name.slice(0, -2)], envOf(name));
      processes.set(name, started);
      await started.waitForOutput(READY[name.slice(0, -2) as Service], 60_000);
      return started;
    },
    async kill(name) {
      const running = processes.get(name);
      if (!running) return;
      finished.push(`--- ${name} (killed) ---\n${running.output()}`);
      await running.stop("SIGKILL");
      processes.delete(name);
    },
    logs: (only = "") => [...finished, ...[...processes].map(([name, p]) => `--- ${name} ---\n${p.output()}`)].filter((text) => text.startsWith(`--- ${only}`)).join("\n"),
    async stop() {
      await Promise.all([...processes.values()].map((p) => p.stop("SIGTERM")));
      processes.clear();
      await redis.stop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  // Brokers first (the others wait for one), then one of each, then the second of each.
  await Promise.all([cluster.start("broker-a"), cluster.start("broker-b")]);
  await Promise.all([cluster.start("ingest-a"), cluster.start("alerts-a"), cluster.start("api-a")]);
  await Promise.all([cluster.start("ingest-b"), cluster.start("alerts-b"), cluster.start("api-b")]);
  return cluster;
}
