// `npm run bench:sim`: what one simulator process does against the real broker (in this process, as
// `up` runs it): connections established per second, readings per second it sustains, and memory per
// simulated device. Prints a table. Not a test (shared/STYLE.md).
//   BENCH_DEVICES   simulated devices (default 2000)
//   BENCH_SPEED     campus clock speed for the throughput phase (default 20: every device reports
//                   every 5–10 s of event time, i.e. 2–4 times a second); raise it until messages
//                   are dropped to find the ceiling
//   BENCH_SECONDS   length of the throughput phase (default 15)
// 10,000 connections from one machine: see docs/simulator.md ("Load tests") — broker and simulators
// in separate processes, `ulimit -n` raised.
import os from "node:os";
import { startBroker } from "../broker/index.js";
import { loadCampus } from "../infra/campus-file.js";
import { readEnv } from "../domain/env.js";
import { createLogger } from "../infra/logger.js";
import { createRegistry } from "../infra/metrics.js";
import { scaleCampus } from "../simulator/scale.js";
import { startSimulator } from "../simulator/index.js";
import { parseBenchArgs } from "./args.js";

const HELP = `npm run bench:sim (no options: the environment sets the run)
What one simulator process does against the real broker (in the same process, as up runs it): connections
established per second, readings per second it sustains, and memory per simulated device.
  BENCH_DEVICES=N   simulated devices, scenarios/campus.yaml cloned (default 2000)
  BENCH_SPEED=N     campus clock speed of the throughput phase (default 20: every device reports 2–4 times a
                    second); raise it until messages are dropped to find the ceiling
  BENCH_SECONDS=N   length of the throughput phase, s (default 15)
  --help            this text
10,000 connections from one machine: docs/simulator.md ("Load tests").`;

const { number } = parseBenchArgs("sim", HELP, {});
const devices = number("BENCH_DEVICES", process.env.BENCH_DEVICES ?? 2_000);
const speed = number("BENCH_SPEED", process.env.BENCH_SPEED ?? 20, { whole: false });
const seconds = number("BENCH_SECONDS", process.env.BENCH_SECONDS ?? 15, { whole: false });
const KEY = "bench-group-key-0123456789abcdef";

const campus = scaleCampus(loadCampus("scenarios/campus.yaml"), devices);
const env = readEnv({ DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "bench-service-password", LOG_LEVEL: "silent" });
const log = createLogger("silent");
const broker = await startBroker({ env, campus, log, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1" });
const url = `mqtt://127.0.0.1:${broker.tcpPort}`;

const heap = () => (global.gc?.(), process.memoryUsage());
const before = heap();
const connectStart = Date.now();
const simulator = await startSimulator({
  campus,
  mqttUrl: url,
  deviceGroupKey: KEY,
  log,
  seed: 1,
  speed,
  startMs: (wall) => wall - seconds * 1000 * speed,
  durationMs: seconds * 1000,
  connectConcurrency: 64,
  maxInFlight: 1_000,
});
const connectS = (Date.now() - connectStart) / 1000;
const afterConnect = heap();
const publishedAtStart = simulator.stats().published;
const runStart = Date.now();
const loadStart = os.loadavg()[0]!;
let cpuStart = process.cpuUsage();
await simulator.finished;
const runS = (Date.now() - runStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
cpuStart = process.cpuUsage();
const stats = simulator.stats();
const readings = stats.published - publishedAtStart;
const after = heap();
await simulator.stop();
await broker.stop();

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const rows: [string, string][] = [
  ["simulated devices (connected / failed)", `${simulator.connected || devices - simulator.failed.length} / ${simulator.failed.length}`],
  ["connections established per second", (devices / connectS).toFixed(0)],
  [`messages published per second (at ${speed}×, ${runS.toFixed(1)} s)`, (readings / runS).toFixed(0)],
  ["messages per second the campus clock asked for", ((stats.published + stats.dropped - publishedAtStart) / (seconds)).toFixed(0)],
  ["dropped / failed publishes", `${stats.dropped} / ${stats.failures}`],
  ["process CPU during the run (user+system, % of one core)", `${(((cpu.user + cpu.system) / 1e6 / runS) * 100).toFixed(0)} %`],
  ["RSS after connecting (broker + simulator)", `${mib(afterConnect.rss)} MiB`],
  ["memory per device (RSS growth while connecting)", `${kib((afterConnect.rss - before.rss) / devices)} KiB`],
  ["memory per device (heap growth while connecting)", `${kib((afterConnect.heapUsed - before.heapUsed) / devices)} KiB`],
  ["RSS at the end of the run", `${mib(after.rss)} MiB`],
];
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`\nbench:sim — ${devices} devices (scenarios/campus.yaml cloned), broker in the same process\n`);
process.stdout.write(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${mib(os.totalmem())} MiB, Node ${process.version}; load average at start ${loadStart.toFixed(2)}\n\n`);
process.stdout.write(`| ${"measure".padEnd(width)} | value |\n|${"-".repeat(width + 2)}|-------|\n`);
for (const [k, v] of rows) process.stdout.write(`| ${k.padEnd(width)} | ${v} |\n`);
process.exit(0);
