// One bench:e2e run of campus-power: `campus-power up` started as the README starts it (the bin, the campus
// file and secrets in the environment, no flags), a dashboard's live stream connected, then load.mjs (the
// peer's own load generator: mqtt.js devices in separate processes) publishing every reading once, counted
// in InfluxDB from the first publish until all are stored. Nothing is excluded as warm-up.
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { freePort } from "../../infra/free-port.js";
import { waitFor } from "../../tests/helpers/wait.js";
import { influxClient } from "../district/measures.js";
import { type Command, progress, sampleProcess, startCommand, stopCommand } from "../district/processes.js";
import { type Band, writeCampus } from "./campus.js";
import { countStored, type LoadResult, runLoad } from "./load.js";

export const KEY = "bench-e2e-group-key-0123456789abcdef";
const TOKEN = "bench-e2e-admin-token-0123456789";
const MiB = 1024 * 1024;
const SETTLE_MS = 30_000;

export interface UpRun {
  band: Band;
  load: LoadResult;
  stored: number;
  secs: number;
  rate: number;
  /** Peak and final RSS of `up` and every process it started (influxd is not one of them here), MiB. */
  peakRssMiB: number;
  endRssMiB: number;
  /** RSS SETTLE_MS after the run, MiB. */
  settledRssMiB: number;
  processes: number;
  cpuSeconds: number;
  /** influxd's CPU seconds over the same span (it stores for `up`; its share of the 2 cores is not `up`'s). */
  influxdCpuSeconds: number | null;
  /** Storm only: `overload` alerts by device (open or resolved), and the devices with more than one. */
  alerts?: { devices: number; total: number; duplicated: number };
  liveFrames: number;
}

/** `pid` and its descendants (the processes `up` supervises), from /proc. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone while we looked
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

export function sampleTree(pid: number) {
  let rssBytes = 0;
  let cpuSeconds = 0;
  const pids = processTree(pid);
  for (const one of pids) {
    try {
      const sample = sampleProcess(one);
      rssBytes += sample.rssBytes;
      cpuSeconds += sample.cpuSeconds;
    } catch {
      // exited
    }
  }
  return { rssBytes, cpuSeconds, processes: pids.length };
}

/**
 * `campus-power up` as the README starts it (the bin, the campus file and secrets in the environment, no flags),
 * once it answers GET /api/ready. `name` names its log, its database and its data folder.
 */
export async function startUp(o: { name: string; dir: string; campusFile: string; influxUrl: string; logDir: string; nodeFlags?: string[]; env?: Record<string, string> }): Promise<{ up: Command; http: string; mqttPort: number; httpPort: number; db: string }> {
  const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const http = `http://127.0.0.1:${httpPort}`;
  const db = `bench_${o.name.replace(/\W/g, "_")}`;
  const env = {
    CAMPUS_CONFIG: o.campusFile, DATA_DIR: join(o.dir, `data-${o.name}`), INFLUX_URL: o.influxUrl, INFLUX_DB: db, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "bench-e2e-service-password", API_TOKENS: `admin:${TOKEN}`,
    MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), ...o.env,
  };
  const up = startCommand(`up-${o.name}`, ["up"], env, o.logDir, undefined, o.nodeFlags ?? []);
  const ready = async () => (await fetch(`${http}/api/ready`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5_000) }).catch(() => null))?.status === 200;
  if (!(await waitFor(ready, 120_000, 250))) throw new Error(`campus-power up did not answer GET /api/ready within 120 s (log: ${o.logDir}/up-${o.name}.log)`);
  return { up, http, mqttPort, httpPort, db };
}

export async function runUp(options: { dir: string; band: Band; devices: number; readings: number; procs: number; window: number; loadScript: string; influxUrl: string; influxdPid: number | null; logDir: string }): Promise<UpRun> {
  const { dir, band } = options;
  const { campusFile, idsFile } = writeCampus(dir, options.devices, band);
  progress(`${band}: starting campus-power up (${options.devices} devices in ${campusFile})`);
  // BENCH_PROFILE=dir: a --cpu-prof of up's threads in dir/<band>, written when it stops (read with bench/cpu-profile.ts).
  // BENCH_NODE_FLAGS="…": node flags for up after its shebang's (A/B runs of V8 settings).
  // BENCH_HEAP_SNAPSHOT=dir: a heap snapshot of up in dir/<band> once the run is stored (read with Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${join(process.env.BENCH_PROFILE, band)}`] : [];
  const heap = process.env.BENCH_HEAP_SNAPSHOT ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${join(process.env.BENCH_HEAP_SNAPSHOT, band)}`] : [];
  const nodeFlags = [...profile, ...heap, ...(process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [])];
  const { up, http, mqttPort, httpPort, db } = await startUp({ name: band, dir, campusFile, influxUrl: options.influxUrl, logDir: options.logDir, nodeFlags });

  // The dashboard's live stream, on every device of the campus (what the dashboard's first page shows).
  let liveFrames = 0;
  const live = new WebSocket(`ws://127.0.0.1:${httpPort}/api/live?token=${TOKEN}`);
  live.on("message", () => liveFrames++);
  await waitFor(() => liveFrames > 0, 10_000, { what: "the live stream's snapshot" });

  let peak = sampleTree(up.pid);
  const startCpu = peak.cpuSeconds;
  const influxdCpu = () => (options.influxdPid === null ? null : sampleProcess(options.influxdPid).cpuSeconds);
  const influxdStartCpu = influxdCpu();
  const sampler = setInterval(() => {
    const now = sampleTree(up.pid);
    if (now.rssBytes > peak.rssBytes) peak = now;
  }, 500);
  const influx = influxClient(options.influxUrl, db);
  const loadRun = runLoad({ script: options.loadScript, url: `mqtt://127.0.0.1:${mqttPort}`, key: KEY, idsFile, readings: options.readings, procs: options.procs, window: options.window });
  const counted = await countStored(influx, loadRun);
  clearInterval(sampler);
  const end = sampleTree(up.pid);
  const influxdEndCpu = influxdCpu();
  if (process.env.BENCH_HEAP_SNAPSHOT) await heapSnapshot(up.pid, join(process.env.BENCH_HEAP_SNAPSHOT, band));
  let alerts: UpRun["alerts"];
  if (band === "storm") alerts = await stormAlerts(http, options.devices);
  // Settled: V8 gives back the pages of a burst's garbage only after it has been idle a while (its memory reducer).
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const settled = sampleTree(up.pid);
  live.close();
  await stopCommand(up);
  return {
    band, load: counted.load, stored: counted.stored, secs: counted.secs, rate: counted.stored / counted.secs,
    peakRssMiB: Math.max(peak.rssBytes, end.rssBytes) / MiB, endRssMiB: end.rssBytes / MiB, settledRssMiB: settled.rssBytes / MiB, processes: end.processes,
    cpuSeconds: end.cpuSeconds - startCpu, influxdCpuSeconds: influxdEndCpu === null || influxdStartCpu === null ? null : influxdEndCpu - influxdStartCpu, alerts, liveFrames,
  };
}

/** Every device's `overload` alert, once the alerts service has opened them all (or 60 s have passed). */
async function stormAlerts(http: string, devices: number) {
  const list = async () => {
    const response = await fetch(`${http}/api/alerts?state=all`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await response.json()) as { rule: string; device: string }[]).filter((a) => a.rule === "overload");
  };
  let alerts = await list();
  await waitFor(async () => (alerts = await list()).length >= devices, 60_000, 1_000);
  const perDevice = new Map<string, number>();
  for (const alert of alerts) perDevice.set(alert.device, (perDevice.get(alert.device) ?? 0) + 1);
  return { devices: perDevice.size, total: alerts.length, duplicated: [...perDevice.values()].filter((n) => n > 1).length };
}

/** Asks up for a heap snapshot (SIGUSR2, --heapsnapshot-signal) and waits until its file stops growing (≤ 2 min). */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  process.kill(pid, "SIGUSR2");
  let size = -1;
  await waitFor(() => {
    const file = readdirSync(dir).find((name) => name.endsWith(".heapsnapshot"));
    const now = file ? statSync(join(dir, file)).size : -1;
    const stable = now > 0 && now === size;
    size = now;
    return stable;
  }, 120_000, 2_000);
  progress(`heap snapshot of up in ${dir}`);
}
