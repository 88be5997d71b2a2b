// bench:ha's throughput runs: readings/s stored by one broker and one ingest as today (no Redis: the broker's
// journal, the ingest's MQTT session), and by two broker nodes and two ingest workers on Redis (AOF, appendfsync
// always), with the same devices and readings, on the same machine, one after the other. The load is the
// peer's load.mjs (mqtt.js devices, QoS 1, a window in flight); with two brokers, half the devices publish to each.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../infra/free-port.js";
import { startLocalRedis } from "../../infra/local-redis.js";
import { progress, sampleProcess, startCommand, stopCommand, type Command } from "../district/processes.js";
import { influxClient } from "../district/measures.js";
import { deviceIds, writeCampus } from "../e2e/campus.js";
import { countStored, type LoadResult, runLoad } from "../e2e/load.js";
import { waitFor } from "../../tests/helpers/wait.js";

const KEY = "bench-ha-group-key-0123456789abcdef";
const PASSWORD = "bench-ha-service-password";

export interface ThroughputRun {
  mode: "one broker" | "two brokers + Redis";
  stored: number;
  published: number;
  secs: number;
  rate: number;
  /** CPU seconds of the campus-power processes over the run (not Redis, not the load generator). */
  cpuSeconds: number;
}

export interface ThroughputOptions {
  dir: string;
  influxUrl: string;
  logDir: string;
  loadScript: string;
  devices: number;
  readings: number;
  window: number;
}

/** Both load generators as one result: the first publish of either to the last of both. */
function combined(results: LoadResult[]): LoadResult {
  return {
    ...results[0]!,
    readings_published: results.reduce((sum, r) => sum + r.readings_published, 0),
    publish_failed: results.reduce((sum, r) => sum + r.publish_failed, 0),
    connect_failed: results.reduce((sum, r) => sum + r.connect_failed, 0),
    publish_start_ms: Math.min(...results.map((r) => r.publish_start_ms)),
    publish_end_ms: Math.max(...results.map((r) => r.publish_end_ms)),
    timed_out: results.some((r) => r.timed_out),
    cpu_seconds: null,
  };
}

const untilLine = (pattern: RegExp) => {
  let seen = false;
  return { onLine: (line: string) => { if (pattern.test(line)) seen = true; }, seen: () => seen };
};

export async function runThroughput(mode: ThroughputRun["mode"], options: ThroughputOptions): Promise<ThroughputRun> {
  const cluster = mode !== "one broker";
  const tag = cluster ? "cluster" : "single";
  const { campusFile, idsFile } = writeCampus(options.dir, options.devices, "normal");
  const db = `bench_ha_${tag}`;
  const redis = cluster ? await startLocalRedis({ dir: join(options.dir, "redis"), appendfsync: "always" }) : null;
  const nodes = cluster ? ["a", "b"] : ["a"];
  const ports = Object.fromEntries(await Promise.all(nodes.map(async (n) => [n, { mqtt: await freePort(), ws: await freePort() }] as const)));
  const mqttUrl = nodes.map((n) => `mqtt://127.0.0.1:${ports[n]!.mqtt}`).join(",");
  const base = {
    CAMPUS_CONFIG: campusFile, INFLUX_URL: options.influxUrl, INFLUX_DB: db, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, MQTT_URL: mqttUrl, MQTT_MAX_CONNECTIONS_PER_ADDRESS: "5000",
    ...(redis ? { REDIS_URL: redis.url } : {}),
  };
  const commands: Command[] = [];
  const start = async (name: string, service: string, env: Record<string, string>, ready: RegExp) => {
    const watch = untilLine(ready);
    const command = startCommand(`${tag}-${name}`, [service], { ...base, LOG_LEVEL: "info", ...env }, options.logDir, watch.onLine);
    commands.push(command);
    if (!(await waitFor(watch.seen, 60_000, 100))) throw new Error(`${tag}-${name} did not start (log: ${options.logDir}/${tag}-${name}.log)`);
  };
  progress(`${mode}: starting ${nodes.length} broker(s) and ${nodes.length} ingest(s)`);
  for (const n of nodes) await start(`broker-${n}`, "broker", { MQTT_PORT: String(ports[n]!.mqtt), MQTT_WS_PORT: String(ports[n]!.ws), DATA_DIR: join(options.dir, `${tag}-broker-${n}`) }, /MQTT broker listening/);
  for (const n of nodes) await start(`ingest-${n}`, "ingest", { INSTANCE_NAME: `ingest-${n}`, DATA_DIR: join(options.dir, `${tag}-ingest-${n}`) }, /ingest started/);

  // With two brokers, device i publishes to broker i mod 2, as a load balancer would spread them.
  const ids = deviceIds(options.devices);
  const loads = nodes.map((n, k) => {
    const file = join(options.dir, `ids-${tag}-${n}.txt`);
    writeFileSync(file, `${ids.filter((_, i) => i % nodes.length === k).join("\n")}\n`);
    return runLoad({ script: options.loadScript, url: `mqtt://127.0.0.1:${ports[n]!.mqtt}`, key: KEY, idsFile: file, readings: Math.round(options.readings / nodes.length), procs: 1, window: options.window });
  });
  void idsFile;
  const cpuOf = () => commands.reduce((sum, c) => { try { return sum + sampleProcess(c.pid).cpuSeconds; } catch { return sum; } }, 0);
  const cpuBefore = cpuOf();
  const counted = await countStored(influxClient(options.influxUrl, db), Promise.all(loads).then(combined));
  const cpuSeconds = cpuOf() - cpuBefore;
  for (const command of commands.reverse()) await stopCommand(command);
  await redis?.stop();
  return { mode, stored: counted.stored, published: counted.load.readings_published, secs: counted.secs, rate: counted.stored / counted.secs, cpuSeconds };
}
