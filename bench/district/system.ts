// What bench:district measures: `campus-power up` as the README starts it, or (`--cluster`) the district on two
// broker nodes with an ingest worker, an alerts service and an API on one Redis (CONTRACT §12, docs/ha.md), the
// way past one process's open-files limit. Either is a set of processes whose memory, CPU and descriptors the
// bench adds up, the broker processes among them, an HTTP address for the API and the MQTT URL devices are given.
import { join } from "node:path";
import { freePort } from "../../infra/free-port.js";
import { INGEST_GROUP, PARTITION_KEYS } from "../../infra/device-stream.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { connectRedis, untilReady } from "../../infra/redis.js";
import { waitFor } from "../../tests/helpers/wait.js";
import { type Capacity, connectionCapacity } from "./measures.js";
import { type Command, cpuSecondsOf, findProcess, progress, type ProcessSample, sampleProcess, startCommand, stopCommand } from "./processes.js";

/** How long a process may take to say it is ready (`up` on a district of 20,000 devices takes a while), ms. */
const READY_MS = 180_000;

export interface System {
  /** How the table names it: "up", or "cluster" (its parts said once in the table). */
  label: string;
  parts: string;
  http: string;
  /** MQTT_URL for the devices: one broker, or every node (the simulator spreads its devices over them). */
  mqttUrl: string;
  /** Every process of it now, for the sums; the broker processes, which hold the device connections. */
  pids(): number[];
  brokerPids(): number[];
  /** Processes the bench started again after they exited ("alerts-1 ×1"). */
  restarts(): string[];
  /** Device messages acknowledged but not yet handled by an ingest worker (the cluster's device stream); null for up. */
  streamBacklog(): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Entries of the device stream's partitions that the ingest group has not acknowledged: delivered and pending, or
 * not yet read (XINFO GROUPS' `pending` and `lag`, Redis 7). They are kept in Redis, not lost: an ingest worker
 * handles them when it gets to them.
 */
async function streamBacklog(url: string): Promise<number> {
  const log = createLogger("silent");
  const redis = connectRedis(url, { name: "bench-backlog", log });
  try {
    await untilReady(redis, url, log, AbortSignal.timeout(30_000));
    let backlog = 0;
    for (const key of PARTITION_KEYS) {
      const groups = (await redis.call("XINFO", "GROUPS", key)) as unknown[][];
      for (const group of groups) {
        const field = (name: string) => Number(group[group.indexOf(name) + 1] ?? 0);
        if (group[group.indexOf("name") + 1] === INGEST_GROUP) backlog += field("pending") + field("lag");
      }
    }
    return backlog;
  } finally {
    redis.disconnect();
  }
}

/** A process that has just exited (and is being started again) counts as nothing. */
function cpuSafeSample(pid: number): ProcessSample {
  try {
    return sampleProcess(pid);
  } catch {
    return { rssBytes: 0, cpuSeconds: 0, fds: 0 };
  }
}

/** RSS, CPU and descriptors of every process of the system, added up. */
export function sampleSystem(system: System): ProcessSample {
  return system.pids().map(cpuSafeSample).reduce((sum, s) => ({ rssBytes: sum.rssBytes + s.rssBytes, cpuSeconds: sum.cpuSeconds + s.cpuSeconds, fds: sum.fds + s.fds }));
}

/**
 * Device connections the system can hold: each broker process its own open-files limit, less what it holds
 * idle and the reserve. The simulator deals devices to the nodes in turn, so the fullest node sets the total.
 */
export function systemCapacity(system: System, reserve: number): Capacity {
  const each = system.brokerPids().map((pid) => connectionCapacity(pid, reserve));
  const fullest = each.reduce((a, b) => (b.connections < a.connections ? b : a));
  return { ...fullest, connections: fullest.connections * each.length };
}

/** Resolves once `url` answers 200 (GET, with `token` when given), each probe bounded; false after `timeoutMs`. */
async function answers(url: string, timeoutMs: number, token?: string): Promise<boolean> {
  // A time limit on every probe: a process whose event loop is blocked accepts the connection and never answers.
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const ok = async () => (await fetch(url, { headers, signal: AbortSignal.timeout(5_000) }).catch(() => null))?.status === 200;
  return (await waitFor(ok, timeoutMs, 500)) === true;
}

/** Starts `campus-power <service>` and resolves once its `ready` URL answers; throws when it exits first or never does. */
async function startReady(name: string, service: string, env: Record<string, string>, logDir: string, ready: string, token?: string): Promise<Command> {
  const command = startCommand(name, [service], env, logDir, undefined, profileFlags(service));
  const exited = command.exited.then((code) => `exited with ${code}`);
  const up = answers(ready, READY_MS, token).then((ok) => (ok ? null : `did not answer ${ready} within ${READY_MS / 1000} s`));
  const problem = await Promise.race([exited, up]);
  if (problem !== null) {
    const cpu = cpuSecondsOf(command.pid);
    await stopCommand(command);
    throw new Error(`${name} ${problem}; it used ${cpu.toFixed(0)} s of CPU meanwhile (log: ${logDir}/${name}.log)`);
  }
  return command;
}

/** BENCH_PROFILE=dir: a CPU profile of `up`, or of the cluster's API (the process that answers the API's timings), into dir. */
function profileFlags(service: string): string[] {
  const dir = process.env.BENCH_PROFILE;
  return dir && (service === "up" || service === "api") ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

export async function startUpSystem(env: Record<string, string>, logDir: string, token: string): Promise<System> {
  const http = `http://127.0.0.1:${env.HTTP_PORT}`;
  const up = await startReady("up", "up", env, logDir, `${http}/api/ready`, token);
  return { label: "up", parts: "campus-power up", http, mqttUrl: env.MQTT_URL!, pids: () => [up.pid], brokerPids: () => [up.pid], restarts: () => [], streamBacklog: async () => null, stop: async () => void (await stopCommand(up)) };
}

/** One process of the cluster, started again whenever it exits, as compose's `restart: unless-stopped` does. */
interface Supervised {
  name: string;
  command: Command;
  restarts: number;
}

/**
 * Redis (AOF, appendfsync always, as docs/ha.md runs it), two broker nodes, one ingest worker, an active alerts
 * service and its standby, and one API, each process with its own INSTANCE_NAME and data folder as on a machine
 * of its own. One ingest worker and one API: a second would only add memory on these 2 cores (bench:ha times the
 * failovers). A process that exits (an alerts service that lost its lease exits for its supervisor to start it
 * again as a standby) is started again, and the table counts it.
 */
export async function startClusterSystem(env: Record<string, string>, dir: string, logDir: string, token: string): Promise<System> {
  let redis: LocalRedis | undefined = await startLocalRedis({ dir: join(dir, "redis") });
  const processes: Supervised[] = [];
  let stopping = false;
  try {
    const brokers = [await freePort(), await freePort()];
    const mqttUrl = brokers.map((port) => `mqtt://127.0.0.1:${port}`).join(",");
    const http = `http://127.0.0.1:${env.HTTP_PORT}`;
    // broker, ingest and alerts say ready on METRICS_PORT /ready (docs/ha.md), the API on /api/ready.
    const started = async (name: string, extra: Record<string, string> = {}) => {
      const metricsPort = String(await freePort());
      const service = name.replace(/-\d$/, "");
      const ready = service === "api" ? `${http}/api/ready` : `http://127.0.0.1:${metricsPort}/ready`;
      const childEnv = { ...env, REDIS_URL: redis!.url, INSTANCE_NAME: name, DATA_DIR: join(dir, name), MQTT_URL: mqttUrl, METRICS_PORT: metricsPort, ...extra };
      const entry: Supervised = { name, command: await startReady(name, service, childEnv, logDir, ready, token), restarts: 0 };
      const supervise = (command: Command) =>
        void command.exited.then(async () => {
          if (stopping) return;
          entry.restarts++;
          progress(`${name} exited; starting it again (restart ${entry.restarts})`);
          entry.command = startCommand(`${name}.${entry.restarts}`, [service], childEnv, logDir);
          supervise(entry.command);
        });
      supervise(entry.command);
      processes.push(entry);
      return entry;
    };
    const nodes = await Promise.all(brokers.map(async (port, i) => started(`broker-${i + 1}`, { MQTT_PORT: String(port), MQTT_WS_PORT: String(await freePort()) })));
    await Promise.all([started("ingest-1"), started("alerts-1"), started("api-1")]);
    await started("alerts-2");
    const redisPid = findProcess(`127.0.0.1:${redis.port}`);
    const stop = async () => {
      stopping = true;
      // The services first, then the broker nodes they are connected to, then Redis: each stops in order, as an operator would.
      for (const entry of [...processes].reverse()) await stopCommand(entry.command);
      await redis?.stop();
      redis = undefined;
    };
    return {
      label: "cluster",
      parts: "2 broker nodes, 1 ingest worker, 2 alerts services (active and standby), 1 API and Redis (AOF, appendfsync always)",
      http,
      mqttUrl,
      pids: () => [...processes.map((entry) => entry.command.pid), ...(redisPid ? [redisPid] : [])],
      brokerPids: () => nodes.map((node) => node.command.pid),
      restarts: () => processes.filter((entry) => entry.restarts > 0).map((entry) => `${entry.name} ×${entry.restarts}`),
      streamBacklog: () => streamBacklog(redis!.url),
      stop,
    };
  } catch (error) {
    stopping = true;
    await Promise.all(processes.map((entry) => stopCommand(entry.command)));
    await redis?.stop();
    throw error;
  }
}
