// `npm run bench:e2e` — the benchmark of record (docs/benchmarks.md "End to end"): campus-power as users run it
// against the Mosquitto + Node-RED peer, with the same load, in the same run, on this machine.
//   normal  `campus-power up` (the bin, no flags, the campus in CAMPUS_CONFIG) with its alerts service and API,
//           a dashboard's live stream connected; load.mjs's mqtt.js devices (separate processes, QoS 1) publish
//           --readings readings; counted in InfluxDB from the first publish until all are stored; no warm-up
//           excluded. RSS of up (and whatever it supervises) at its peak and after the run.
//   storm   the same with every device above its rating (bench/e2e/campus.ts): hundreds of `overload` alerts open
//           during the run; its rate against normal's, and whether every alert opened exactly once.
//   ceiling the same load against a bare Mosquitto storing nothing (bench/e2e/ceiling.ts): what the load
//           generator can publish on this machine at all; it takes CPU from whatever it feeds.
//   peer    ../shared/peers/node-red/run.sh with the same connections, readings, processes and window.
//   idle    RSS per idle mqtt.js device connection of up at 1,000 and 10,000 connections, beside a bare aedes
//           given the same connections (bench/e2e/idle.ts).
// influxd is a throwaway local one for campus-power (the peer starts its own, the same Debian build).
// Options: --devices 1000 --readings 100000 --procs 2 --window 1000 --peer DIR --no-peer --no-storm --no-idle
// BENCH_LOG_DIR=dir keeps every log.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { parseBenchArgs } from "./args.js";
import { progress, stopAll } from "./district/processes.js";
import { runCeiling } from "./e2e/ceiling.js";
import { runIdle } from "./e2e/idle.js";
import { printE2e, type PeerRun } from "./e2e/report.js";
import { runUp, type UpRun } from "./e2e/run-up.js";

const HELP = `npm run bench:e2e -- [options]
The benchmark of record: readings/s stored by campus-power up (alerts, API, a dashboard's live stream) under the
peer's load.mjs devices, normal and in an alert storm, beside a bare Mosquitto storing nothing (the load's
ceiling) and the Mosquitto + Node-RED peer, all on this machine; RSS of up at its peak and after the run, and per
idle device connection at 1,000 and 10,000 beside a bare aedes.
  --devices N    device connections, each with its own credentials (default 1000)
  --readings N   QoS 1 readings in all (default 100000)
  --procs N      load generator processes (default 2)
  --window N     unacknowledged readings at most, all processes together (default 1000)
  --peer DIR     the peer's harness: load.mjs and run.sh (default $PEER_DIR, else ../shared/peers/node-red)
  --no-peer      without the Node-RED peer
  --no-storm     without the alert storm
  --no-idle      without the idle connections (RSS per connection at 1,000 and 10,000, up and a bare aedes)
  --help         this text
BENCH_LOG_DIR=DIR keeps every log; BENCH_PROFILE=DIR writes a --cpu-prof of up; BENCH_HEAP_SNAPSHOT=DIR a heap
snapshot of up once the readings are stored.`;

const { values: args, number, fail } = parseBenchArgs("e2e", HELP, {
  devices: { type: "string" }, readings: { type: "string" }, procs: { type: "string" }, window: { type: "string" },
  peer: { type: "string" }, "no-peer": { type: "boolean" }, "no-storm": { type: "boolean" }, "no-idle": { type: "boolean" },
});
const DEVICES = number("--devices", args.devices ?? 1_000);
const READINGS = number("--readings", args.readings ?? 100_000);
const PROCS = number("--procs", args.procs ?? 2);
const WINDOW = number("--window", args.window ?? 1_000);
const PEER_DIR = resolve(args.peer ?? process.env.PEER_DIR ?? "../shared/peers/node-red");
const LOAD_SCRIPT = join(PEER_DIR, "load.mjs");
if (!existsSync(LOAD_SCRIPT)) fail(`no peer harness at ${PEER_DIR} (load.mjs is the load generator of both sides): pass --peer DIR or set PEER_DIR`);

const dir = mkdtempSync(join(tmpdir(), "campus-bench-e2e-"));
const logDir = process.env.BENCH_LOG_DIR ?? join(dir, "logs");
mkdirSync(logDir, { recursive: true });

function runPeer(): Promise<PeerRun> {
  progress(`peer: ${PEER_DIR}/run.sh (Mosquitto + Node-RED + InfluxDB, batched flow)`);
  const child = spawn("bash", [join(PEER_DIR, "run.sh"), "--connections", String(DEVICES), "--readings", String(READINGS), "--procs", String(PROCS), "--window", String(WINDOW)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolvePeer, reject) => child.once("exit", (code) => {
    try {
      resolvePeer(JSON.parse(out.trim().split("\n").at(-1)!) as PeerRun);
    } catch {
      reject(new Error(`the peer's run.sh exited with ${code} and no result (is mosquitto installed? apt-get install mosquitto)`));
    }
  }));
}

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  progress(`files in ${dir}; starting a local influxd`);
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  const common = { dir, devices: DEVICES, readings: READINGS, procs: PROCS, window: WINDOW, loadScript: LOAD_SCRIPT, influxUrl: influxd.url, influxdPid: influxd.pid(), logDir };
  const runs: UpRun[] = [await runUp({ ...common, band: "normal" })];
  progress(`normal: ${Math.round(runs[0]!.rate)} readings/s stored`);
  if (!args["no-storm"]) {
    runs.push(await runUp({ ...common, band: "storm" }));
    progress(`storm: ${Math.round(runs[1]!.rate)} readings/s stored`);
  }
  const idle = args["no-idle"] ? [] : await runIdle({ dir, counts: [1_000, 10_000], influxUrl: influxd.url, logDir });
  await influxd.stop();
  const ceiling = await runCeiling({ dir, idsFile: join(dir, "ids.txt"), readings: READINGS, procs: PROCS, window: WINDOW, loadScript: LOAD_SCRIPT });
  const peer = args["no-peer"] ? null : await runPeer();
  printE2e({ devices: DEVICES, readings: READINGS, procs: PROCS, window: WINDOW, runs, ceiling, peer, idle, loadAtStart });
}

try {
  await main();
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
