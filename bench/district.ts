// `npm run bench:district` — a district at scale on this machine (issue 12 §9), every part real and run as
// users run it: a district file of --schools schools × --devices devices (bench/district/school-files.ts),
// a local influxd, `campus-power up` on that file, and the devices from `campus-power simulate --shard K/N`
// as --shards separate processes (docs/simulator.md "Load tests"), each device its own MQTT connection
// reporting every --interval s. Measured, and printed as a table (progress on standard error):
//   connect time    from spawning the shards until every device is connected (and until the API counts them online)
//   readings/s      stored (counted in InfluxDB) over --window s of steady load, against what the shards published
//   lost            acknowledged publishes − readings stored once the run settles (must be 0)
//   memory          RSS of `up` (proc(5) VmRSS) before the devices connect, right after, and settled (the run's
//                   end), per connection, beside a bare aedes (bench/district/bare-aedes.ts) given the same
//                   devices by the same shards, first
//   CPU             of up, influxd and the shards in the window: per reading, and per connection while connecting
//   API             GET /api/sites and GET /api/devices?site=<one school>, 100 each, p50/p99, a district admin's token
//   dashboard       headless Chromium, navigation → every school's tile drawn (bench/district/browser.ts)
// A process may hold no more descriptors than its open-files limit, and `up` holds one per device connection
// beside its own: when the district does not fit, the largest number of devices that does connects (each
// school cut to the same count with `simulate --devices`), and the table says so. A broker that has not taken
// every device within CONNECT_DEADLINE_MS ends the run with how far it got.
// --cluster measures the district on two broker nodes, an ingest worker, an alerts service and an API on one Redis
// (bench/district/system.ts, docs/ha.md) instead of up: the way past one process's open-files limit.
// --notify routes every school's alerts to a DingTalk robot route of its own (bench/district/notify.ts), so the
// storms of the run (every device offline before the shards connect, and again after they end) go through the
// notifier, as in a district that configured its schools' notifications.
// Options: --schools 20 --devices 1000 --interval 10 --shards 4 --window 120 --cluster --notify. BENCH_LOG_DIR=dir keeps every log;
// BENCH_PROFILE=dir writes a CPU profile of up (or of the cluster's API) there when it stops.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../infra/free-port.js";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { resultWithin } from "../infra/timeout.js";
import { waitFor } from "../tests/helpers/wait.js";
import { parseBenchArgs } from "./args.js";
import { measureDashboardLoad } from "./district/browser.js";
import { devicesOnline, influxClient, settledReadings, storedReadings, timeRequests } from "./district/measures.js";
import { cpuSecondsOf, findProcess, progress, sampleProcess, startCommand, stopAll, stopCommand } from "./district/processes.js";
import { sampleSystem, startClusterSystem, startUpSystem, systemCapacity } from "./district/system.js";
import { printReport } from "./district/report.js";
import { type NotifyBench, startNotifyBench } from "./district/notify.js";
import { schoolOf, writeBenchDistrict } from "./district/school-files.js";
import { startShards } from "./district/shards.js";

const HELP = `npm run bench:district -- [options]
A district at scale, run as users run it: campus-power up on --schools × --devices devices, each its own MQTT
connection from simulate --shard processes. Connect time, readings/s stored and lost, memory and CPU of up beside
a bare aedes given the same devices, API latency, and the dashboard drawn in headless Chromium.
  --schools N    schools in the district (default 20)
  --devices N    devices per school (default 1000)
  --interval N   seconds between a device's readings (default 10)
  --shards N     simulator processes (default 4)
  --window N     seconds of steady load measured (default 120)
  --cluster      the district on two broker nodes, an ingest worker, an alerts service and an API on one Redis
                 (docs/ha.md) instead of up: past one process's open-files limit; figures are their sums
  --notify       every school's alerts to a DingTalk robot route of its own (a local stand-in that checks
                 each request as DingTalk does); the messages it accepted are reported
  --help         this text
BENCH_LOG_DIR=DIR keeps every log; BENCH_PROFILE=DIR writes a CPU profile of up (with --cluster: of the API) there.`;

const { values: args, number } = parseBenchArgs("district", HELP, { schools: { type: "string" }, devices: { type: "string" }, interval: { type: "string" }, shards: { type: "string" }, window: { type: "string" }, cluster: { type: "boolean" }, notify: { type: "boolean" } });
const SCHOOLS = number("--schools", args.schools ?? 20);
const DEVICES = number("--devices", args.devices ?? 1_000);
const INTERVAL_S = number("--interval", args.interval ?? 10);
const SHARDS = number("--shards", args.shards ?? 4);
const WINDOW_S = number("--window", args.window ?? 120);
/** Load before the window: every device has reported at least once, the JIT and the spool are warm, s. */
const WARMUP_S = Math.max(20, 2 * INTERVAL_S);
/** Shards keep publishing this long after the window, for the API and dashboard figures to be taken under load, s. */
const AFTER_WINDOW_S = 60;
/**
 * Each shard runs --duration from the moment its own devices are connected, so the first one ends earlier than the
 * last by the spread of their connect times: this much is added to every shard's run to cover it, s.
 */
const CONNECT_SPREAD_S = 60;
const SHARD_RUN_S = WARMUP_S + WINDOW_S + AFTER_WINDOW_S + CONNECT_SPREAD_S;
/** A broker that has not taken every device by then will not: the bench reports how far it got and ends, ms. */
const CONNECT_DEADLINE_MS = 300_000;
const REQUESTS = 100;
/** Descriptors kept free in `up` for what it opens after start (measures.ts connectionCapacity). */
const FD_RESERVE = 200;
const KEY = "bench-district-group-key-0123456789";
const ADMIN_TOKEN = "bench-district-admin-token-0123456789";

const dir = mkdtempSync(join(tmpdir(), "campus-bench-district-"));
const logDir = process.env.BENCH_LOG_DIR ?? join(dir, "logs");
mkdirSync(logDir, { recursive: true });

const MiB = 1024 * 1024;
const fmt = (value: number) => value.toLocaleString("en", { maximumFractionDigits: 0 });
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The bare aedes yardstick: its RSS and CPU before and after the same shards' devices connect to it. Connections
 * are counted as the descriptors it gained (one socket each), so a deadline that cuts the connecting short still
 * divides by what it holds.
 */
async function measureBareAedes(config: string, devicesPerSchool: number | undefined, env: Record<string, string>) {
  let portLine!: (port: number) => void;
  const port = new Promise<number>((resolve) => (portLine = resolve));
  const bare = startCommand("bare-aedes", ["bench/district/bare-aedes.ts"], {}, logDir, (line) => /^PORT (\d+)/.test(line) && portLine(Number(line.slice(5))));
  const mqttUrl = `mqtt://127.0.0.1:${await port}`;
  const before = sampleProcess(bare.pid);
  const fleet = startShards({ shards: SHARDS, config, devicesPerSchool, env: { ...env, MQTT_URL: mqttUrl }, logDir, name: "bare-shard" });
  const connected = await resultWithin(fleet.connected, CONNECT_DEADLINE_MS, null);
  const after = sampleProcess(bare.pid);
  const devices = after.fds - before.fds;
  const took = connected ? seconds(connected.wallMs) : `more than ${seconds(CONNECT_DEADLINE_MS)} (${fleet.failures()} gave up)`;
  progress(`bare aedes: ${fmt(devices)} devices connected in ${took}; RSS ${fmt(before.rssBytes / MiB)} → ${fmt(after.rssBytes / MiB)} MiB; settling ${WARMUP_S} s`);
  // Right after connecting, RSS still holds the connections' garbage; as for `up`, a settled figure beside it.
  await sleep(WARMUP_S * 1000);
  const settled = sampleProcess(bare.pid);
  await fleet.stop();
  await stopCommand(bare);
  return { before, after, settled, devices, wallMs: connected?.wallMs ?? null };
}

/**
 * What must end with the bench whatever happened: the system (stopped first, so its supervisor starts nothing
 * again: a failed run once left a whole cluster running) and the schools' robot (--notify).
 */
const running: { system: { stop(): Promise<void> } | null; notify: NotifyBench | null } = { system: null, notify: null };

async function main(): Promise<void> {
  const loadAtStart = loadavg();
  const notify = args.notify ? await startNotifyBench(Array.from({ length: SCHOOLS }, (_, i) => schoolOf(i))) : null;
  running.notify = notify;
  const district = writeBenchDistrict(dir, SCHOOLS, DEVICES, INTERVAL_S, notify?.routes);
  progress(`district of ${SCHOOLS} schools × ${fmt(DEVICES)} devices (${fmt(district.devices)}), every device every ${INTERVAL_S} s; files in ${dir}`);
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  const influxPid = findProcess(join(dir, "influxd", "influxdb.conf"));
  const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    CAMPUS_CONFIG: district.file, DATA_DIR: join(dir, "data"), INFLUX_URL: influxd.url, INFLUX_DB: "bench", LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "bench-district-service-password", API_TOKENS: `admin:${ADMIN_TOKEN}`,
    MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
    // Every device here connects from 127.0.0.1, like a school behind one NAT address: above the broker's per-address limit (default 2,000).
    MQTT_MAX_CONNECTIONS_PER_ADDRESS: "20000",
    ...notify?.env,
  };

  const system = args.cluster ? await startClusterSystem(env, join(dir, "cluster"), logDir, ADMIN_TOKEN) : await startUpSystem(env, logDir, ADMIN_TOKEN);
  running.system = system;
  const { label, http } = system;
  progress(`${label} is ready (${system.parts})`);
  const capacity = systemCapacity(system, FD_RESERVE);
  const cappedPerSchool = capacity.connections < district.devices ? Math.floor(capacity.connections / SCHOOLS) : undefined;
  const planned = cappedPerSchool === undefined ? district.devices : cappedPerSchool * SCHOOLS;
  const where = system.brokerPids().length > 1 ? `each of ${system.brokerPids().length} broker nodes` : label;
  progress(`${where} may open ${fmt(capacity.limit)} files and holds ${capacity.idle} idle: ${fmt(planned)} of ${fmt(district.devices)} devices fit (${FD_RESERVE} descriptors kept free)`);
  // The bare aedes is one process: it is given at most what one of the system's broker processes may hold.
  const barePerSchool = Math.min(cappedPerSchool ?? DEVICES, Math.floor(capacity.connections / system.brokerPids().length / SCHOOLS));

  progress(`bare aedes: connecting ${fmt(barePerSchool * SCHOOLS)} devices from ${SHARDS} shards`);
  const bare = await measureBareAedes(district.file, barePerSchool < DEVICES ? barePerSchool : undefined, env);

  progress(`${label}: connecting ${fmt(planned)} devices from ${SHARDS} shards`);
  const influx = influxClient(influxd.url, "bench");
  const upBefore = sampleSystem(system);
  const fleet = startShards({ shards: SHARDS, config: district.file, devicesPerSchool: cappedPerSchool, durationS: SHARD_RUN_S, env: { ...env, MQTT_URL: system.mqttUrl }, logDir, name: "shard" });
  const shardsStarted = performance.now();
  const connected = await resultWithin(fleet.connected, CONNECT_DEADLINE_MS, null);
  const upConnected = sampleSystem(system);
  if (connected === null) {
    throw new Error(
      `${label} holds ${fmt(Math.max(0, upConnected.fds - upBefore.fds))} device connections of ${fmt(planned)} after ${seconds(CONNECT_DEADLINE_MS)}; ${fmt(fleet.failures())} devices gave up ` +
        `(no CONNACK within the simulator's 10 s); ${label} used ${fmt(upConnected.cpuSeconds - upBefore.cpuSeconds)} s of CPU meanwhile (logs: ${logDir})`,
    );
  }
  progress(`${label}: ${fmt(connected.devices)} devices connected (${connected.failed} failed) in ${seconds(connected.wallMs)}; RSS ${fmt(upBefore.rssBytes / MiB)} → ${fmt(upConnected.rssBytes / MiB)} MiB`);
  const allOnline = await waitFor(async () => (await devicesOnline(http, ADMIN_TOKEN)) >= connected.devices, 120_000, 1_000);
  const onlineMs = allOnline ? performance.now() - shardsStarted : null;

  progress(`warming up ${WARMUP_S} s, then ${WINDOW_S} s of steady load`);
  await sleep(WARMUP_S * 1000);
  const cpuOf = () => ({ up: sampleSystem(system).cpuSeconds, influxd: influxPid ? cpuSecondsOf(influxPid) : NaN, shards: fleet.pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) });
  const start = { at: performance.now(), stored: await storedReadings(influx), published: fleet.published(), cpu: cpuOf() };
  for (let left = WINDOW_S; left > 0; left -= 30) {
    await sleep(Math.min(30, left) * 1000);
    progress(`window: ${fmt(fleet.published() - start.published)} published, ${fmt((await storedReadings(influx)) - start.stored)} stored so far`);
  }
  const end = { at: performance.now(), stored: await storedReadings(influx), published: fleet.published(), cpu: cpuOf() };
  const window = {
    seconds: (end.at - start.at) / 1000,
    stored: end.stored - start.stored,
    published: end.published - start.published,
    cpu: { up: end.cpu.up - start.cpu.up, influxd: end.cpu.influxd - start.cpu.influxd, shards: end.cpu.shards - start.cpu.shards },
    endedShards: fleet.ended(),
    spreadAllowanceS: CONNECT_SPREAD_S,
  };

  const school = district.schools[Math.floor(SCHOOLS / 2)]!;
  progress(`API: ${REQUESTS} × GET /api/sites, ${REQUESTS} × GET /api/devices?site=${school}`);
  const sites = await timeRequests(`${http}/api/sites`, ADMIN_TOKEN, REQUESTS);
  const devices = await timeRequests(`${http}/api/devices?site=${school}`, ADMIN_TOKEN, REQUESTS);
  progress("dashboard: headless Chromium");
  const dashboard = await measureDashboardLoad(http, ADMIN_TOKEN, SCHOOLS);
  const dashboardUnderLoad = fleet.published() > end.published;

  progress("waiting for the shards to end their run, then for InfluxDB to settle");
  const offered = await resultWithin(fleet.finished, SHARD_RUN_S * 1000 + 120_000, null);
  if (offered === null) throw new Error(`the shards did not end their run (logs: ${logDir})`);
  const stored = await settledReadings(influx, offered);
  const backlog = await system.streamBacklog().catch(() => null);
  const upAtEnd = sampleSystem(system);
  const influxdRssBytes = influxPid ? sampleProcess(influxPid).rssBytes : NaN;
  const notified = notify?.counts() ?? null;
  await system.stop();
  await influxd.stop();

  printReport({
    schools: SCHOOLS, devicesPerSchool: DEVICES, intervalS: INTERVAL_S, shards: SHARDS, districtDevices: district.devices, capacity, cappedPerSchool,
    label, parts: system.parts, restarts: system.restarts(), backlog, connected, onlineMs, window, offered, stored, up: { before: upBefore, connected: upConnected, end: upAtEnd }, bare, influxdRssBytes,
    school, requests: REQUESTS, sites, devices, dashboard, dashboardUnderLoad, loadAtStart, notified,
  });
}

try {
  await main();
} finally {
  await running.system?.stop().catch((error: unknown) => progress(`stopping the system failed: ${String(error)}`));
  await stopAll();
  await running.notify?.close();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
