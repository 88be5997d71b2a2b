// `npm run bench:ha` — no single point of failure, measured (docs/benchmarks.md "HA", docs/ha.md):
//   throughput  readings/s stored by one broker + one ingest as today (no Redis) and by two broker nodes + two
//               ingest workers on Redis (AOF, appendfsync always), the same devices and readings, one after the
//               other on this machine; the peer's load.mjs (mqtt.js devices, QoS 1, a window in flight each)
//   failover    two of every service on Redis, 200 devices at 500 readings/s (tests/helpers/ha-cluster.ts), and
//               the five drills of tests/integration/ha-drills.test.ts, each timed: kill -9 of a broker node,
//               an ingest worker, the active alerts service, an API instance; Redis killed and restarted
// Options: --devices 1000 --readings 100000 --window 1000 --peer DIR --no-failover --no-throughput
// BENCH_LOG_DIR=dir keeps every log.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { createLogger } from "../infra/logger.js";
import { connectRedis } from "../infra/redis.js";
import { drillCampus, HA_ADMIN, HA_KEY, startCluster } from "../tests/helpers/ha-cluster.js";
import { DrillDevices } from "../tests/helpers/ha-devices.js";
import { killActiveAlerts, killApi, killBroker, killIngest, restartRedis } from "../tests/helpers/ha-drills.js";
import { parseBenchArgs } from "./args.js";
import { progress, stopAll } from "./district/processes.js";
import { runThroughput, type ThroughputRun } from "./ha/throughput.js";

const HELP = `npm run bench:ha -- [options]
No single point of failure, measured: readings/s stored by one broker + one ingest against two broker nodes + two
ingest workers on Redis under the peer's load.mjs devices; then two of every service on Redis, and five failovers
timed: kill -9 of a broker node, an ingest worker, the active alerts service, an API instance; Redis restarted.
  --devices N      device connections of the throughput runs (default 1000)
  --readings N     QoS 1 readings of each throughput run (default 100000)
  --window N       unacknowledged readings at most (default 1000)
  --peer DIR       the peer's harness holding load.mjs (default $PEER_DIR, else ../shared/peers/node-red)
  --no-failover    the throughput runs only
  --no-throughput  the failover drills only
  --help           this text
BENCH_LOG_DIR=DIR keeps every log.`;

const { values: args, number } = parseBenchArgs("ha", HELP, {
  devices: { type: "string" }, readings: { type: "string" }, window: { type: "string" }, peer: { type: "string" },
  "no-failover": { type: "boolean" }, "no-throughput": { type: "boolean" },
});
const DEVICES = number("--devices", args.devices ?? 1_000);
const READINGS = number("--readings", args.readings ?? 100_000);
const WINDOW = number("--window", args.window ?? 1_000);
const PEER_DIR = resolve(args.peer ?? process.env.PEER_DIR ?? "../shared/peers/node-red");
const LOAD_SCRIPT = join(PEER_DIR, "load.mjs");
const dir = mkdtempSync(join(tmpdir(), "campus-bench-ha-"));
const logDir = process.env.BENCH_LOG_DIR ?? join(dir, "logs");
mkdirSync(logDir, { recursive: true });

async function failover(influxUrl: string): Promise<Record<string, Record<string, number>>> {
  progress("failover: two of every service on Redis, 200 devices at 500 readings/s");
  const campus = drillCampus(dir, 200);
  const cluster = await startCluster({ influxUrl, db: "bench_ha_failover", campusFile: campus.file, dir: join(dir, "failover") });
  const redis = connectRedis(cluster.redis.url, { name: "bench-watcher", log: createLogger("silent") });
  const devices = new DrillDevices({ brokerPorts: Object.values(cluster.brokerPorts), devices: campus.devices, key: HA_KEY, rate: 2.5 });
  try {
    await devices.connect();
    devices.start();
    const d = { cluster, devices, redis };
    const results: Record<string, Record<string, number>> = {};
    progress("failover: kill -9 of broker-a");
    results["broker node"] = await killBroker(d);
    progress("failover: kill -9 of ingest-a");
    results["ingest worker"] = await killIngest(d);
    progress("failover: kill -9 of the active alerts service");
    // The breach: a temperature over 85 °C opens `overtemperature` at once (CONTRACT §5).
    let alerted = false;
    const watch = setInterval(async () => {
      const response = await fetch(`http://127.0.0.1:${cluster.apiPorts.b}/api/alerts?state=open`, { headers: { authorization: `Bearer ${HA_ADMIN}` } }).catch(() => null);
      const open = response?.ok ? ((await response.json()) as { device: string; rule: string }[]) : [];
      alerted ||= open.some((a) => a.device === "brk-1" && a.rule === "overtemperature");
    }, 200);
    results["active alerts service"] = await killActiveAlerts(d, () => devices.set("brk-1", { temperature_c: 90 }), () => alerted);
    clearInterval(watch);
    progress("failover: kill -9 of api-a");
    results["API instance"] = await killApi(d);
    progress("failover: Redis killed, started again 3 s later");
    results.Redis = await restartRedis(d);
    await devices.stopPublishing(60_000);
    return results;
  } finally {
    await devices.end();
    redis.disconnect();
    await cluster.stop();
  }
}

function print(throughput: ThroughputRun[], drills: Record<string, Record<string, number>> | null, loadAtStart: number[]): void {
  const out: string[] = [];
  out.push(`machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 20)} MB, Node ${process.version}; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}`);
  if (throughput.length > 0) {
    out.push("", "| setup | published | stored | s | stored/s | CPU s of campus-power |", "|---|---|---|---|---|---|");
    for (const r of throughput) out.push(`| ${r.mode} | ${r.published.toLocaleString("en")} | ${r.stored.toLocaleString("en")} | ${r.secs.toFixed(1)} | ${Math.round(r.rate).toLocaleString("en")} | ${r.cpuSeconds.toFixed(1)} |`);
    if (throughput.length === 2) out.push("", `two brokers + Redis / one broker: ${(throughput[1]!.rate / throughput[0]!.rate).toFixed(2)}×`);
  }
  if (drills) {
    out.push("", "| drill | measured |", "|---|---|");
    for (const [name, result] of Object.entries(drills)) out.push(`| ${name} | ${Object.entries(result).map(([k, v]) => `${k} ${v.toLocaleString("en")}`).join(", ")} |`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  progress(`files in ${dir}; starting a local influxd`);
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  const throughput: ThroughputRun[] = [];
  if (!args["no-throughput"]) {
    if (!existsSync(LOAD_SCRIPT)) throw new Error(`no load generator at ${LOAD_SCRIPT}: pass --peer DIR (the peer's harness holds load.mjs)`);
    const options = { dir, influxUrl: influxd.url, logDir, loadScript: LOAD_SCRIPT, devices: DEVICES, readings: READINGS, window: WINDOW };
    for (const mode of ["one broker", "two brokers + Redis"] as const) {
      const run = await runThroughput(mode, options);
      progress(`${mode}: ${Math.round(run.rate)} readings/s stored (${run.stored} of ${run.published})`);
      throughput.push(run);
    }
  }
  const drills = args["no-failover"] ? null : await failover(influxd.url);
  await influxd.stop();
  print(throughput, drills, loadAtStart);
}

try {
  await main();
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
