// bench:district's table (markdown, as docs/benchmarks.md records it): every figure of one run, with what it
// was measured against beside it.
import { cpus, loadavg, totalmem } from "node:os";
import type { DashboardLoad } from "./browser.js";
import type { Capacity, Latency } from "./measures.js";
import type { ProcessSample } from "./processes.js";

export interface DistrictRun {
  /** What was measured: "up", or "cluster" (`parts` says of what). */
  label: string;
  parts: string;
  /** Processes of a cluster started again after they exited ("alerts-1 ×1"). */
  restarts: string[];
  /** The cluster's device stream at the end: acknowledged messages no ingest worker has handled yet (null for up). */
  backlog: number | null;
  schools: number;
  devicesPerSchool: number;
  intervalS: number;
  shards: number;
  /** Devices the district file holds. */
  districtDevices: number;
  capacity: Capacity;
  /** Set when the open-files limit cut every school to this many connected devices. */
  cappedPerSchool: number | undefined;
  connected: { devices: number; failed: number; wallMs: number; slowestShardS: number };
  /** From spawning the shards until GET /api/sites counted every connected device online; null: not within the wait. */
  onlineMs: number | null;
  /** The steady window: its length, readings stored and published in it, CPU seconds each process used in it. */
  window: { seconds: number; stored: number; published: number; cpu: Record<"up" | "influxd" | "shards", number>; endedShards: number; spreadAllowanceS: number };
  /** Acknowledged publishes of the whole run, and the readings InfluxDB holds once it settled. */
  offered: number;
  stored: number;
  up: { before: ProcessSample; connected: ProcessSample; end: ProcessSample };
  /** The bare aedes phase; `wallMs` null when not every device connected within the bench's deadline. */
  bare: { before: ProcessSample; after: ProcessSample; settled: ProcessSample; devices: number; wallMs: number | null };
  influxdRssBytes: number;
  school: string;
  requests: number;
  sites: Latency;
  devices: Latency;
  dashboard: DashboardLoad;
  dashboardUnderLoad: boolean;
  loadAtStart: number[];
  /** With --notify: the messages the schools' robot routes accepted and refused, and how many schools they named. */
  notified: { accepted: number; refused: number; schools: number } | null;
}

const MiB = 1024 * 1024;
const fmt = (value: number, digits = 0) => value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => `${fmt(bytes / MiB)} MiB`;
const seconds = (ms: number) => `${fmt(ms / 1000, 1)} s`;
/** Growth from `before` to `after` per connection: RSS in KiB, CPU in µs. */
const perConnection = (before: ProcessSample, after: ProcessSample, connections: number) => ({
  kib: (after.rssBytes - before.rssBytes) / 1024 / connections,
  micros: ((after.cpuSeconds - before.cpuSeconds) / connections) * 1e6,
});

function rows(run: DistrictRun): [string, string][] {
  const { connected, window, capacity } = run;
  const up = perConnection(run.up.before, run.up.connected, connected.devices);
  const bare = perConnection(run.bare.before, run.bare.after, run.bare.devices);
  // RSS right after connecting still holds the connections' garbage; "settled" is taken once the process has run a while.
  const upSettled = perConnection(run.up.before, run.up.end, connected.devices);
  const bareSettled = perConnection(run.bare.before, run.bare.settled, run.bare.devices);
  const share = (name: keyof DistrictRun["window"]["cpu"]) => `${fmt((window.cpu[name] / window.seconds) * 100)} %`;
  const perReading = (name: keyof DistrictRun["window"]["cpu"]) => `${fmt((window.cpu[name] / window.stored) * 1e6)} µs/reading`;
  const { label } = run;
  const holder = label === "up" ? "up" : "each broker node";
  const capped = run.cappedPerSchool === undefined ? "" : ` — capped: ${holder} may open ${fmt(capacity.limit)} files (RLIMIT_NOFILE) and holds ${capacity.idle} of its own idle; ${run.cappedPerSchool} devices a school connect, ${capacity.reserve} descriptors kept free`;
  const ended = window.endedShards > 0 ? ` — ${window.endedShards} shard(s) had ended their run by the window's end (connect times spread more than ${window.spreadAllowanceS} s): understated` : "";
  const latency = (l: Latency, digits: number) => `${l.p50Ms} / ${l.p99Ms} / ${l.maxMs} ms (${run.requests} requests, ${fmt(l.bytes / 1024, digits)} KiB)`;
  return [
    ["measured", label === "up" ? "campus-power up, one process" : `${label}: ${run.parts}; memory and CPU are the sums of these processes; started again after exiting: ${run.restarts.join(", ") || "none"}`],
    ["district", `${run.schools} schools × ${fmt(run.devicesPerSchool)} devices = ${fmt(run.districtDevices)} (per building: 1 feeder meter, 33 room breakers, 66 sockets), every device every ${run.intervalS} s`],
    ["device connections made", `${fmt(connected.devices)} of ${fmt(run.districtDevices)}, ${connected.failed} failed${capped}`],
    ["connect time, all devices", `${seconds(connected.wallMs)} from spawning ${run.shards} shards (slowest shard's handshakes: ${fmt(connected.slowestShardS, 1)} s); all online in GET /api/sites after ${run.onlineMs === null ? "— (not within 120 s)" : seconds(run.onlineMs)}`],
    ["readings/s stored vs offered", `${fmt(window.stored / window.seconds)} stored (InfluxDB) vs ${fmt(window.published / window.seconds)} published (acknowledged) per s; nominal ${fmt(connected.devices / run.intervalS)} (devices ÷ ${run.intervalS} s); window ${fmt(window.seconds)} s${ended}`],
    ["lost (offered − stored, settled)", `${fmt(run.offered - run.stored)} (offered ${fmt(run.offered)} acknowledged publishes, stored ${fmt(run.stored)})${run.backlog === null ? "" : `; the device stream still held ${fmt(run.backlog)} not yet handled by the ingest`}`],
    [`${label} RSS per connection: connected / settled`, `${fmt(up.kib, 1)} / ${fmt(upSettled.kib, 1)} KiB (${mib(run.up.before.rssBytes)} → ${mib(run.up.connected.rssBytes)} connected → ${mib(run.up.end.rssBytes)} at the end of the run)`],
    ["bare aedes RSS per connection: connected / settled", `${fmt(bare.kib, 1)} / ${fmt(bareSettled.kib, 1)} KiB (${mib(run.bare.before.rssBytes)} → ${mib(run.bare.after.rssBytes)} → ${mib(run.bare.settled.rssBytes)}; ${fmt(run.bare.devices)} connections from the same shards in ${run.bare.wallMs === null ? "— (not all within the deadline)" : seconds(run.bare.wallMs)})`],
    ["influxd RSS at the end", `${mib(run.influxdRssBytes)} (series of ${fmt(connected.devices)} devices; ${fmt(run.stored)} readings stored)`],
    ["CPU while connecting, per connection", `${label} ${fmt(up.micros)} µs; bare aedes ${fmt(bare.micros)} µs`],
    ["CPU in the window (share of one core)", `${label} ${share("up")} = ${perReading("up")}; influxd ${share("influxd")} = ${perReading("influxd")}; shards ${share("shards")}`],
    ["GET /api/sites p50 / p99 / max", latency(run.sites, 1)],
    [`GET /api/devices?site=${run.school} p50 / p99 / max`, latency(run.devices, 0)],
    [`dashboard, Chromium: navigation → ${run.dashboard.measured}`, `${fmt(run.dashboard.coldMs)} ms cold, ${fmt(run.dashboard.warmMs)} ms reload${run.dashboardUnderLoad ? "" : " (the shards had ended: without load)"}`],
    ...(run.notified ? [["notifications (a DingTalk robot route per school)", `${fmt(run.notified.accepted)} messages accepted, ${fmt(run.notified.refused)} refused, naming ${run.notified.schools} of ${run.schools} schools (at most 20 a minute per route: §14)`] as [string, string]] : []),
    ["load average (1, 5, 15 min)", `${run.loadAtStart.map((l) => fmt(l, 2)).join(", ")} at the start; ${loadavg().map((l) => fmt(l, 2)).join(", ")} at the end`],
  ];
}

export function printReport(run: DistrictRun): void {
  console.log(`\nbench:district — ${new Date().toISOString()}; ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${fmt(totalmem() / MiB)} MiB, Node ${process.version}`);
  console.log("\n| measure | value |\n|---|---|");
  for (const [measure, value] of rows(run)) console.log(`| ${measure} | ${value} |`);
}
