// `npm run bench:ingest` — readings per second persisted end to end, against the broker's own
// pass-through rate measured in the same run (docs/benchmarks.md "Ingest").
//   throughput (default): N device connections (own credentials, QoS 1, a window of W in flight each)
//     phase 1  pass-through: the broker → one counting subscriber, no ingest
//     phase 2  end to end: the broker → `campus-power ingest` (spool, InfluxDB), counted in InfluxDB
//   devices: --client lean (default; bench/ingest/lean-device.ts, a firmware-sized MQTT client) or mqttjs
//   --drill: readings at --rate/s, InfluxDB stopped for --outage, then started: the backlog measured in the
//     ingest's spool at that moment (read from its folder), how long it took to drain, the drain rate
//     against the inflow, and lost readings (must be 0).
// Every part is real and on this machine: influxd (own temp folder), the broker, the ingest, the devices.
// Every phase first runs --warmup readings per device (default 20; JIT, connections, buffers) and times
// only what follows, so short runs measure the steady rate rather than the start.
// Options: --devices 1000 --per-device 100 --window 4 --warmup 20 --client lean|mqttjs | --drill --rate 2000 --outage 10m --after 30s
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { UniqueMessageIdProvider } from "mqtt";
import { devicePassword } from "../domain/credentials.js";
import { parseDurationMs } from "../domain/duration.js";
import { InfluxClient, rows } from "../infra/influx.js";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { visitBacklog } from "../infra/spool/disk-scan.js";
import { splitRecord } from "../ingest/durable-sink.js";
import { parseBenchArgs } from "./args.js";
import { LeanDevice } from "./ingest/lean-device.js";

const HELP = `npm run bench:ingest -- [options]
Readings per second persisted end to end (broker → campus-power ingest → InfluxDB, counted there) against the
broker's own pass-through rate in the same run. With --drill: InfluxDB stopped for --outage under a steady
inflow, then started: the spool's backlog, how long it takes to drain, and readings lost (must be 0).
  --devices N     device connections, each with its own credentials (default 1000)
  --per-device N  timed QoS 1 readings per device (default 100)
  --window N      unacknowledged readings per device at most (default 4)
  --warmup N      readings per device first, not timed (default 20; 0 for none)
  --client NAME   lean (a firmware-sized MQTT client; the default) or mqttjs
  --drill         the outage drill instead (100 devices)
  --rate N        --drill: readings/s offered (default 2000)
  --outage TIME   --drill: how long InfluxDB is stopped (default 10m)
  --after TIME    --drill: steady load before the outage (default 30s)
  --help          this text
BENCH_PROFILE=DIR writes a CPU profile of every child process there (read it with bench/cpu-profile.ts).`;

const { values: args, number, fail } = parseBenchArgs("ingest", HELP, {
  devices: { type: "string" }, client: { type: "string" }, warmup: { type: "string" }, "per-device": { type: "string" }, window: { type: "string" },
  drill: { type: "boolean" }, rate: { type: "string" }, outage: { type: "string" }, after: { type: "string" },
});
const CLIENT = args.client ?? "lean";
if (CLIENT !== "lean" && CLIENT !== "mqttjs") fail(`--client takes lean or mqttjs, not "${CLIENT}"`);
const duration = (label: string, text: string) => {
  const ms = parseDurationMs(text, { unitRequired: true }); // as the CLI reads durations (cli/runtime.ts parseDuration)
  return Number.isNaN(ms) ? fail(`${label} takes a duration such as 90s, 10m or 2h, not "${text}"`) : ms;
};
/** The options, checked before anything starts. */
const OPTIONS = {
  devices: number("--devices", args.devices ?? 1_000),
  perDevice: number("--per-device", args["per-device"] ?? 100),
  window: number("--window", args.window ?? 4),
  warmup: number("--warmup", args.warmup ?? 20, { zero: true }),
  rate: number("--rate", args.rate ?? 2_000, { whole: false }),
  outageMs: duration("--outage", args.outage ?? "10m"),
  afterMs: duration("--after", args.after ?? "30s"),
};
const KEY = "bench-group-key-0123456789abcdef";
const PASSWORD = "bench-service-password-0123";
const dir = mkdtempSync(join(tmpdir(), "campus-bench-ingest-"));
const children: ChildProcess[] = [];
const cleanup = () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL"));
process.on("exit", cleanup);

function campusFile(devices: number): string {
  const lines = ["site: { id: bench, name: Bench School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }", "buildings:", "  - { id: b1, name: Bench, kind: dormitory }", "devices:"];
  for (let i = 0; i < devices; i++) lines.push(`  - { id: dev-${i}, kind: socket, building: b1, room: "r${i % 50}", rating_a: 10 }`);
  const file = join(dir, "campus.yaml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

// The node flags the product runs with: those of the bin's shebang (`#!/usr/bin/env -S node <flags>`).
const PRODUCT_NODE_FLAGS = readFileSync("bin/campus-power.js", "utf8").split("\n")[0]!.split(/\s+/).filter((part) => part.startsWith("--"));

/** Spawns a TypeScript entry (tsx) or the CLI; resolves with the first line matching `ready`. */
function spawnTs(entry: string[], env: Record<string, string>, ready: RegExp, onLine?: (line: string) => void): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  // BENCH_PROFILE=dir writes a CPU profile of every child process there (read it with Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, ...PRODUCT_NODE_FLAGS, "--import", "tsx", ...entry], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = "";
    let resolved = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const match = line.match(ready);
        if (match && !resolved) (resolved = true), resolve({ child, match });
        onLine?.(line);
      }
    });
    child.once("exit", (code) => !resolved && reject(new Error(`${entry.join(" ")} exited with ${code}`)));
  });
}

/** A device connection that publishes QoS 1 readings on its own telemetry topic. */
interface BenchDevice {
  publish(payload: string): Promise<unknown>;
  end(): Promise<unknown>;
}

async function connectDevice(port: number, i: number): Promise<BenchDevice> {
  const id = `dev-${i}`;
  const topic = `campus/devices/${id}/telemetry`;
  if (CLIENT === "lean") {
    const device = new LeanDevice({ port, clientId: id, username: id, password: devicePassword(id, KEY), topic });
    await device.connect();
    return device;
  }
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4, clientId: id, username: id, password: devicePassword(id, KEY), clean: true, reconnectPeriod: 1_000, keepalive: 120,
    messageIdProvider: new UniqueMessageIdProvider(),
  });
  return { publish: (payload) => client.publishAsync(topic, payload, { qos: 1 }), end: () => client.endAsync(true) };
}

async function connectDevices(port: number, count: number): Promise<BenchDevice[]> {
  const devices: BenchDevice[] = [];
  for (let i = 0; i < count; i += 50) devices.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => connectDevice(port, i + j)))));
  return devices;
}

const reading = (i: number, t0: number) => JSON.stringify({ ts: t0 + i * 10, power_w: 500 + (i % 100), voltage_v: 221.5, current_a: 2.27, energy_kwh: 1000 + i / 1000 });

/** Every device publishes `perDevice` readings with at most `window` unacknowledged at a time. */
async function flood(devices: BenchDevice[], perDevice: number, window: number, t0: number): Promise<void> {
  await Promise.all(devices.map(async (device) => {
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < perDevice; i++) {
      const p = device.publish(reading(i, t0));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }));
}

/** SIGTERM, and wait (≤ 10 s) for the children to exit (and write their profiles). */
async function stopChildren(): Promise<void> {
  await Promise.all(children.splice(0).map((c) => new Promise((resolve) => {
    if (c.exitCode !== null) return resolve(undefined);
    const timer = setTimeout(() => c.kill("SIGKILL"), 10_000);
    c.once("exit", () => (clearTimeout(timer), resolve(undefined)));
    c.kill("SIGTERM");
  })));
}

/** Readings in InfluxDB; with `one`, whether that one reading is there (0 or 1). */
const influxCount = async (influx: InfluxClient, one?: { device: string; ts: number }) =>
  Number(rows(await influx.query(`SELECT count(power_w) FROM electrical${one ? ` WHERE device = '${one.device}' AND time = ${one.ts}ms` : ""}`).catch(() => []))[0]?.count ?? 0);

/** The ingest's spool backlog as it is on disk: records, readings, bytes, the oldest's append time, and the newest reading. */
function spoolBacklog(dir: string) {
  const backlog = { records: 0, readings: 0, bytes: 0, oldestAppendedAt: null as number | null, newest: null as { device: string; ts: number } | null };
  visitBacklog(dir, (record) => {
    const { header, lines } = splitRecord(record.body);
    backlog.records++;
    backlog.bytes += record.end - record.offset;
    backlog.oldestAppendedAt ??= record.appendedAt;
    for (const count of Object.values(header.f)) backlog.readings += count;
    const last = lines.findLast((line) => line.startsWith("electrical,") && !line.includes(",phase="));
    if (last) backlog.newest = { device: /,device=([^, ]+)/.exec(last)![1]!, ts: Number(last.slice(last.lastIndexOf(" ") + 1)) };
  });
  return backlog;
}
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

async function throughput(): Promise<void> {
  const { devices: deviceCount, perDevice, window, warmup } = OPTIONS;
  const total = deviceCount * perDevice;
  const warm = deviceCount * warmup;
  const t0 = Date.now() - 3_600_000;
  const tWarm = t0 - 3_600_000; // warm-up readings have timestamps of their own: they are extra points
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  const env = { CAMPUS_CONFIG: campusFile(deviceCount), DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, INFLUX_URL: influxd.url, INFLUX_DB: "bench" };
  const results: string[][] = [];

  // Phase 1: pass-through ceiling.
  const broker1 = await spawnTs(["bench/ingest/broker-process.ts"], { ...env, DATA_DIR: join(dir, "p1") }, /^PORT (\d+)/);
  const port1 = Number(broker1.match[1]);
  let passed = 0;
  await spawnTs(["bench/ingest/subscriber-process.ts"], { ...env, MQTT_URL: `mqtt://127.0.0.1:${port1}` }, /^READY/, (line) => {
    const m = /^COUNT (\d+)/.exec(line);
    if (m) passed = Number(m[1]);
  });
  let devices = await connectDevices(port1, deviceCount);
  process.stderr.write(`phase 1: pass-through, ${deviceCount} devices connected; warming up (${warm.toLocaleString("en")} readings) …\n`);
  await flood(devices, warm / deviceCount, window, tWarm);
  await until(() => passed >= warm, 120_000, 20);
  process.stderr.write(`phase 1: ${total.toLocaleString("en")} readings …\n`);
  let started = performance.now();
  await flood(devices, perDevice, window, t0);
  await until(() => passed >= warm + total, 120_000, 20);
  passed -= warm;
  const passSeconds = (performance.now() - started) / 1000;
  results.push(["pass-through (broker → 1 subscriber)", String(passed), passSeconds.toFixed(2), Math.round(passed / passSeconds).toLocaleString("en")]);
  await Promise.all(devices.map((d) => d.end()));
  children.splice(0).forEach((c) => c.kill("SIGKILL"));

  // Phase 2: end to end, counted in InfluxDB.
  const broker2 = await spawnTs(["bench/ingest/broker-process.ts"], { ...env, DATA_DIR: join(dir, "p2") }, /^PORT (\d+)/);
  const port2 = Number(broker2.match[1]);
  await spawnTs(["bin/campus-power.js", "ingest"], { ...env, DATA_DIR: join(dir, "p2"), MQTT_URL: `mqtt://127.0.0.1:${port2}`, LOG_LEVEL: "info" }, /ingest started/);
  const influx = new InfluxClient({ url: influxd.url, db: "bench" });
  devices = await connectDevices(port2, deviceCount);
  process.stderr.write(`phase 2: end to end, ${deviceCount} devices connected; warming up (${warm.toLocaleString("en")} readings) …\n`);
  await flood(devices, warm / deviceCount, window, tWarm);
  await until(async () => (await influxCount(influx)) >= warm, 300_000, 50);
  process.stderr.write(`phase 2: ${total.toLocaleString("en")} readings …\n`);
  started = performance.now();
  await flood(devices, perDevice, window, t0);
  const acceptedSeconds = (performance.now() - started) / 1000;
  await until(async () => (await influxCount(influx)) >= warm + total, 300_000, 50); // polled once the devices are done: no load on influxd during the flood
  const e2eSeconds = (performance.now() - started) / 1000;
  const stored = (await influxCount(influx)) - warm;
  results.push(["end to end (→ ingest → InfluxDB, counted there)", String(stored), e2eSeconds.toFixed(2), Math.round(stored / e2eSeconds).toLocaleString("en")]);
  results.push(["  of which accepted by the broker (all PUBACKs)", String(total), acceptedSeconds.toFixed(2), Math.round(total / acceptedSeconds).toLocaleString("en")]);
  await Promise.all(devices.map((d) => d.end()));
  await stopChildren();
  await influxd.stop();

  console.log(`\n${deviceCount} device connections (${CLIENT === "lean" ? "lean MQTT client" : "mqtt.js"}) × ${perDevice} QoS 1 readings (window ${window} each) = ${total.toLocaleString("en")} readings, timed after ${warm.toLocaleString("en")} warm-up readings\n`);
  console.log("| phase | readings | seconds | readings/s |\n|---|---|---|---|");
  for (const row of results) console.log(`| ${row.join(" | ")} |`);
  const ratio = (stored / e2eSeconds) / (passed / passSeconds);
  console.log(`\nend to end / pass-through = ${(ratio * 100).toFixed(0)} %  (goal ≥ 60 %; goal ≥ 20,000 readings/s end to end)`);
}

async function drill(): Promise<void> {
  const { rate, outageMs, afterMs } = OPTIONS;
  const deviceCount = 100;
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  const env = { CAMPUS_CONFIG: campusFile(deviceCount), DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, INFLUX_URL: influxd.url, INFLUX_DB: "drill", DATA_DIR: join(dir, "drill") };
  const broker = await spawnTs(["bench/ingest/broker-process.ts"], env, /^PORT (\d+)/);
  const port = Number(broker.match[1]);
  await spawnTs(["bin/campus-power.js", "ingest"], { ...env, MQTT_URL: `mqtt://127.0.0.1:${port}`, LOG_LEVEL: "info" }, /ingest started/);
  const influx = new InfluxClient({ url: influxd.url, db: "drill" });
  const devices = await connectDevices(port, deviceCount);
  const t0 = Date.now() - 3 * 3_600_000;
  let sent = 0;
  let stop = false;
  // A steady inflow: every 100 ms each device publishes rate/10/devices readings.
  const perTick = rate / 10 / deviceCount;
  const pump = (async () => {
    let tick = 0;
    const start = performance.now();
    while (!stop) {
      for (const [d, device] of devices.entries()) {
        for (let k = 0; k < perTick; k++) void device.publish(reading(tick * perTick + k, t0 + d));
      }
      sent += perTick * deviceCount;
      tick++;
      const wait = start + tick * 100 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const phase = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await phase(afterMs);
  await until(async () => (await influxCount(influx)) >= sent - rate, 60_000, 500);
  console.log(`stopping InfluxDB for ${outageMs / 1000} s at ${rate} readings/s ...`);
  await influxd.stop();
  await phase(outageMs);
  // What waits in the ingest's spool now, read from its folder (read-only, beside the running ingest): the
  // records after its last checkpoint, which is saved at most once a second, so up to a second of them may
  // already have been written before the outage began.
  const backlog = spoolBacklog(join(env.DATA_DIR, "ingest", "campus-ingest"));
  const sentAtRestart = sent;
  const oldestAgeS = backlog.oldestAppendedAt === null ? null : (Date.now() - backlog.oldestAppendedAt) / 1000;
  await influxd.restart();
  const back = performance.now();
  // The drainer writes in spool order: the backlog is in InfluxDB once its newest reading is.
  const drained = backlog.newest === null || (await until(async () => (await influxCount(influx, backlog.newest!)) > 0, 30 * 60_000, 100));
  const drainSeconds = (performance.now() - back) / 1000;
  stop = true;
  await pump;
  await phase(3_000);
  await until(async () => (await influxCount(influx)) >= sent, 120_000, 250);
  const stored = await influxCount(influx);
  const readingsPerS = backlog.readings / drainSeconds;
  console.log("\n| measure | value |\n|---|---|");
  console.log(`| inflow | ${rate.toLocaleString("en")} readings/s (${deviceCount} devices) |`);
  console.log(`| outage | InfluxDB stopped ${(outageMs / 1000).toFixed(0)} s |`);
  console.log(`| backlog in the spool when InfluxDB came back (measured) | ${backlog.readings.toLocaleString("en")} readings in ${backlog.records.toLocaleString("en")} records, ${(backlog.bytes / 1048576).toFixed(1)} MiB, oldest ${oldestAgeS === null ? "–" : `${oldestAgeS.toFixed(0)} s`} old; ${sentAtRestart.toLocaleString("en")} sent by then |`);
  console.log(`| time to drain that backlog | ${drainSeconds.toFixed(1)} s${drained ? "" : " (not drained!)"} |`);
  console.log(`| drain rate | ${Math.round(readingsPerS).toLocaleString("en")} readings/s = ${(readingsPerS / rate).toFixed(1)} × the inflow (goal ≥ 5×) |`);
  console.log(`| sent / stored / lost | ${sent.toLocaleString("en")} / ${stored.toLocaleString("en")} / ${(sent - stored).toLocaleString("en")} |`);
  await Promise.all(devices.map((d) => d.end()));
  await stopChildren();
  await influxd.stop();
}

try {
  await (args.drill ? drill() : throughput());
} finally {
  cleanup();
  await new Promise((r) => setTimeout(r, 500)); // the children's last writes into the temp folder
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
