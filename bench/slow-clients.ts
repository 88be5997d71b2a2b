// `npm run bench:slow-clients` — how many idle attacking connections the stack survives while 1,000
// devices keep publishing with no reading lost (issue 16 item 5; docs/benchmarks.md "Slow and greedy clients").
// The stack (this process): the real broker and API with their default limits (docs/tls.md), and a
// counting subscriber on the service account in place of the ingest. Two child processes, so their
// sockets do not count against the stack's 20,000 open files:
//   devices    1,000 mqtt.js clients from ONE address (a school behind NAT), each publishing a numbered
//              reading at QoS 1 every second; a reading counts as sent once the broker acknowledged it.
//   attackers  N idle connections from 253 loopback addresses (127.0.0.2–254): half open MQTT and never
//              send CONNECT, half trickle HTTP headers (slow-loris); each one cut is reopened at once.
// Per step: readings sent, received and lost, the devices' publish-to-acknowledgement p99, the stack's
// event-loop delay p99 and RSS, and how many attacking connections were open at the end.
// Options: --steps 0,2000,5000,10000,16000 --seconds 20 --devices 1000
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import mqtt from "mqtt";
import { devicePassword } from "../domain/credentials.js";
import { readEnv } from "../domain/env.js";
import { loadCampus } from "../infra/campus-file.js";
import { InfluxClient } from "../infra/influx.js";
import { createLogger } from "../infra/logger.js";
import { createRegistry } from "../infra/metrics.js";
import { connectService } from "../infra/mqtt.js";
import { parseBenchArgs } from "./args.js";

const HELP = `npm run bench:slow-clients -- [options]
How many idle attacking connections (MQTT never sending CONNECT, HTTP headers trickled slow-loris style) the
broker and API survive while --devices devices publish a QoS 1 reading every second with none lost: per step,
readings sent, received and lost, the publish p99, the stack's event-loop delay p99 and RSS.
  --steps LIST   idle attacking connections of each step, comma-separated (default 0,2000,5000,10000,16000)
  --seconds N    length of each step (default 20)
  --devices N    publishing devices, from one address (default 1000)
  --help         this text
(--role, --mqtt, --http and --count are the bench's own, for its child processes.)`;

const { values: args, number } = parseBenchArgs("slow-clients", HELP, { role: { type: "string" }, steps: { type: "string" }, seconds: { type: "string" }, devices: { type: "string" }, mqtt: { type: "string" }, http: { type: "string" }, count: { type: "string" } });
const KEY = "bench-slow-clients-key-0123456789";
const PASSWORD = "bench-slow-clients-service-password";
const seconds = number("--seconds", args.seconds ?? 20, { whole: false });
const deviceCount = number("--devices", args.devices ?? 1000);
const steps = (args.steps ?? "0,2000,5000,10000,16000").split(",").map((step) => number("--steps", step, { zero: true }));

/** A child's last word: one JSON line on stdout. */
const report = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function runDevices(port: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: deviceCount }, (_, i) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId: `dev-${i}`, username: `dev-${i}`, password: devicePassword(`dev-${i}`, KEY), reconnectPeriod: 1_000, keepalive: 30 })));
  let sent = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  let seq = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    seq += 1;
    await Promise.all(clients.map(async (client, i) => {
      const start = performance.now();
      await client.publishAsync(`campus/devices/dev-${i}/telemetry`, JSON.stringify({ ts: tick, power_w: seq }), { qos: 1 });
      latencies.push(performance.now() - start);
      sent += 1;
    }));
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
  }
  await Promise.all(clients.map((c) => c.endAsync()));
  latencies.sort((a, b) => a - b);
  report({ sent, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 });
}

async function runAttackers(mqttPort: number, httpPort: number, count: number): Promise<void> {
  const open = new Set<Socket>();
  let reopened = 0;
  let stopping = false;
  const attack = (index: number) => {
    const toHttp = index % 2 === 1;
    const socket = connectTcp({ host: "127.0.0.1", port: toHttp ? httpPort : mqttPort, localAddress: `127.0.0.${2 + (index % 253)}` });
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      open.add(socket);
      if (toHttp) socket.write("GET /api/health HTTP/1.1\r\nhost: x\r\n");
    });
    socket.once("close", () => {
      open.delete(socket);
      if (stopping) return;
      reopened += 1;
      setTimeout(() => attack(index), 100);
    });
  };
  for (let i = 0; i < count; i++) {
    attack(i);
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50)); // a SYN backlog's pace
  }
  const trickle = setInterval(() => { for (const s of open) if (s.remotePort === httpPort) s.write("x-a: 1\r\n"); }, 5_000);
  process.on("message", () => {
    stopping = true;
    clearInterval(trickle);
    report({ open: open.size, reopened });
    for (const s of open) s.destroy();
    process.exit(0);
  });
  process.send?.("ready");
}

/** Runs a child role; resolves with its report (devices: when done; attackers: once told to stop). */
function child(role: string, extra: string[]): { process: ChildProcess; ready: Promise<void>; result: Promise<Record<string, number>> } {
  const proc = fork(new URL(import.meta.url).pathname, ["--role", role, ...extra], { stdio: ["ignore", "pipe", "inherit", "ipc"], execArgv: ["--import", "tsx"] });
  let out = "";
  proc.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const ready = new Promise<void>((resolve) => proc.once("message", () => resolve()));
  const result = new Promise<Record<string, number>>((resolve, reject) => proc.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!)) : reject(new Error(`${role} exited ${code}`)))));
  return { process: proc, ready, result };
}

async function runStack(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "campus-bench-slow-"));
  const lines = ["site: { id: bench, name: Bench School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }", "buildings:", "  - { id: b1, name: Bench, kind: dormitory }", "devices:"];
  for (let i = 0; i < deviceCount; i++) lines.push(`  - { id: dev-${i}, kind: socket, building: b1, room: "r${i % 50}", rating_a: 10 }`);
  writeFileSync(join(dir, "campus.yaml"), `${lines.join("\n")}\n`);
  const env = readEnv({ DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, API_TOKENS: "viewer:bench-slow-clients-viewer-token", LOG_LEVEL: "error", DATA_DIR: dir, BIND_HOST: "0.0.0.0" });
  const ctx = { env, campus: loadCampus(join(dir, "campus.yaml")), log: createLogger("error"), metrics: createRegistry(false) };
  const { startBroker } = await import("../broker/index.js");
  const { startApi } = await import("../api/index.js");
  const broker = await startBroker(ctx, { port: 0, wsPort: 0, journal: false });
  const local = { ...ctx, env: Object.freeze({ ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }) };
  const api = await startApi(local, { influx: new InfluxClient({ url: "http://127.0.0.1:9", db: "none" }), port: 0 });
  const counter = await connectService(local.env.mqttUrl, PASSWORD, "bench-counter");
  const received = new Set<string>();
  counter.on("message", (topic, payload) => received.add(`${topic} ${(JSON.parse(payload.toString()) as { power_w: number }).power_w}`));
  await counter.subscribeAsync("campus/devices/+/telemetry", { qos: 1 });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  const rows: string[][] = [["idle attackers", "open at end", "reopened", "readings sent", "received", "lost", "publish p99 ms", "stack loop p99 ms", "stack RSS MiB"]];
  for (const count of steps) {
    received.clear();
    const attackers = child("attackers", ["--mqtt", String(broker.tcpPort), "--http", String(api.port), "--count", String(count)]);
    await attackers.ready;
    delay.reset();
    const devices = child("devices", ["--mqtt", String(broker.tcpPort), "--seconds", String(seconds), "--devices", String(deviceCount)]);
    const sent = await devices.result;
    await new Promise((r) => setTimeout(r, 2_000)); // the last acknowledged readings reach the subscriber
    attackers.process.send("stop");
    const attacked = await attackers.result;
    const lost = sent.sent! - received.size;
    rows.push([count, attacked.open, attacked.reopened, sent.sent, received.size, lost, sent.p99Ms!.toFixed(1), (delay.percentile(99) / 1e6).toFixed(1), (process.memoryUsage().rss / 2 ** 20).toFixed(0)].map(String));
    process.stdout.write(`${rows.at(-1)!.join("  ")}\n`);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  process.stdout.write(`\n${rows.map((r) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`).join("\n")}\n`);
  await counter.endAsync();
  await api.stop();
  await broker.stop();
  process.exit(0);
}

if (args.role === "devices") await runDevices(Number(args.mqtt));
else if (args.role === "attackers") await runAttackers(Number(args.mqtt), Number(args.http), Number(args.count));
else await runStack();
