// npm run bench:live — the live stream at campus scale, and the 30-day energy query.
//   live:   a server process (broker + API) with a 1,000-device campus; 200 WebSocket clients on the
//           whole campus (batch frames, as the dashboard); publishers put 5,000 readings/s on the
//           internal readings topic (what the ingest publishes; the device → ingest hop is bench:ingest).
//           Phase 1: all clients read. Phase 2: 50 of them stop reading (frozen).
//   energy: a local influxd, 30 days of hourly rollups for 1,000 devices, GET /api/energy timed.
// Options: --only live|energy, --seconds N (per phase, default 20), --clients N, --rate N, --coalesce-ms N.
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { buildApp } from "../src/api/app.js";
import { startApi } from "../src/api/index.js";
import { LiveState } from "../src/api/live-state.js";
import { startBroker } from "../src/broker/index.js";
import { loadCampus } from "../src/domain/campus.js";
import { parseApiTokens, readEnv } from "../src/domain/env.js";
import { toLines } from "../src/domain/line-protocol.js";
import { internalTopic } from "../src/domain/topics.js";
import { InfluxClient } from "../src/infra/influx.js";
import { freePort, startLocalInfluxd } from "../src/infra/local-influxd.js";
import { createLogger } from "../src/infra/logger.js";
import { createRegistry } from "../src/infra/metrics.js";
import { connectService } from "../src/infra/mqtt.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const TOKEN = "viewer-token-bench-0123456789";
const PASSWORD = "service-password-bench-0123";
const READING_MARKER = Buffer.from('"type":"reading"');
const BUILDINGS = 20;
const PER_BUILDING = 50;

/** A campus file of 20 buildings × 50 devices; `flat` = every device top level (energy's worst case). */
function writeCampus(dir: string, flat: boolean): string {
  const lines = ["site: { id: bench, name: Bench School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }", "buildings:"];
  for (let b = 0; b < BUILDINGS; b++) lines.push(`  - { id: b${b}, name: Building ${b}, kind: ${b % 2 ? "classroom" : "dormitory"} }`);
  lines.push("devices:");
  for (let b = 0; b < BUILDINGS; b++) {
    lines.push(`  - { id: b${b}-main, kind: breaker, building: b${b}, rating_a: 250, curve: C }`);
    for (let d = 1; d < PER_BUILDING; d++) lines.push(`  - { id: b${b}-d${d}, kind: breaker, building: b${b}, room: "${100 + d}", ${flat ? "" : `parent: b${b}-main, `}rating_a: 16, curve: C }`);
  }
  const file = join(dir, flat ? "campus-flat.yaml" : "campus.yaml");
  writeFileSync(file, lines.join("\n"));
  return file;
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : NaN);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

// ---- the server process: broker + API, reporting its CPU and memory every second ----
async function server(campusFile: string, coalesceMs: number) {
  const campus = loadCampus(campusFile);
  const env = readEnv({ API_TOKENS: `viewer:${TOKEN}`, SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "bench-group-key-0123456789", HTTP_PORT: "0", LOG_LEVEL: "silent", DATA_DIR: mkdtempSync(join(tmpdir(), "bench-live-")) });
  const base = { campus, log: createLogger("silent"), metrics: createRegistry(false) };
  const broker = await startBroker({ ...base, env }, { port: 0, wsPort: 0, host: "127.0.0.1" });
  const api = await startApi({ ...base, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` } }, { influx: new InfluxClient({ url: "http://127.0.0.1:9", db: "none" }), host: "127.0.0.1", port: 0, live: { coalesceMs } });
  let cpu = process.cpuUsage();
  let at = Date.now();
  setInterval(async () => {
    const used = process.cpuUsage(cpu);
    const now = Date.now();
    const terminated = (await base.metrics.getSingleMetric("campus_power_api_live_terminated_total")?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;
    const memory = process.memoryUsage();
    process.send!({ type: "stats", cpu: (used.user + used.system) / 1000 / (now - at), rss: memory.rss, heap: memory.heapUsed + memory.external + memory.arrayBuffers, terminated });
    cpu = process.cpuUsage();
    at = now;
  }, 1000);
  process.send!({ type: "ready", http: api.url, mqtt: `mqtt://127.0.0.1:${broker.tcpPort}` });
}

// ---- the load: publishers and WebSocket clients ----
async function live() {
  const seconds = Number(arg("seconds", "20"));
  const clientsN = Number(arg("clients", "200"));
  const frozenN = Number(arg("frozen", "50"));
  const rate = Number(arg("rate", "5000"));
  const coalesceMs = Number(arg("coalesce-ms", "1000"));
  const dir = mkdtempSync(join(tmpdir(), "bench-live-"));
  const campusFile = writeCampus(dir, false);
  const devices = loadCampus(campusFile).devices.map((d) => d.id);
  const child = fork(process.argv[1]!, ["--server", campusFile, String(coalesceMs)], { execArgv: process.execArgv });
  const stats: { cpu: number; rss: number; heap: number; terminated: number; t: number }[] = [];
  const ready = new Promise<{ http: string; mqtt: string }>((resolve) => child.on("message", (m: any) => (m.type === "ready" ? resolve(m) : stats.push({ ...m, t: Date.now() }))));
  const { http, mqtt } = await ready;

  const publishers = await Promise.all([0, 1].map((i) => connectService(mqtt, PASSWORD, `bench-pub-${i}`)));
  let phase = "warmup";
  const latencies: Record<string, number[]> = { steady: [], frozen: [] };
  const delivered: Record<string, number> = { steady: 0, frozen: 0 };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < clientsN; i++) {
    const socket = new WebSocket(`${http.replace("http", "ws")}/api/live?token=${TOKEN}`);
    socket.on("open", () => socket.send(JSON.stringify({ type: "subscribe", batch: true })));
    // The load generator shares the machine: count readings by their marker, and parse only a sample
    // of the frames for latency, so the clients are not the bottleneck being measured.
    socket.on("message", (data: Buffer) => {
      if (!(phase in delivered)) return;
      const now = Date.now();
      let count = 0;
      for (let at = data.indexOf(READING_MARKER); at !== -1; at = data.indexOf(READING_MARKER, at + 1)) count++;
      delivered[phase]! += count;
      if (Math.random() >= 0.05) return;
      const frame = JSON.parse(data.toString());
      for (const m of frame.type === "batch" ? frame.messages : [frame]) if (m.type === "reading") latencies[phase]!.push(now - m.values.sent_at);
    });
    socket.on("error", () => undefined);
    sockets.push(socket);
  }
  await new Promise((r) => setTimeout(r, 2000));

  // 5,000 readings/s: every 10 ms, rate/100 readings of consecutive devices, spread over two connections.
  let next = 0;
  let published = 0;
  const ticker = setInterval(() => {
    for (let i = 0; i < rate / 100; i++) {
      const device = devices[next++ % devices.length]!;
      const sent_at = Date.now();
      publishers[i % 2]!.publish(internalTopic.reading(device), JSON.stringify({ device, ts: sent_at, values: { power_w: 500 + (next % 700), current_a: 2.3, voltage_v: 221, sent_at } }), { qos: 0 });
      published++;
    }
  }, 10);

  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
  await sleep(5);
  const rssBefore = stats.at(-1)!.rss;
  const heapBefore = stats.at(-1)!.heap;
  phase = "steady";
  const t1 = Date.now();
  const p1 = published;
  await sleep(seconds);
  const steadyStats = stats.filter((s) => s.t > t1);
  const steadyMs = Date.now() - t1;
  const steadyPublished = published - p1;
  for (const socket of sockets.slice(0, frozenN)) (socket as unknown as { _socket: { pause(): void } })._socket.pause();
  phase = "frozen";
  const t2 = Date.now();
  await sleep(seconds * 1.5);
  const frozenStats = stats.filter((s) => s.t > t2);
  const frozenMs = Date.now() - t2;
  clearInterval(ticker);

  const row = (name: string, ms: number, receivers: number, st: typeof stats) => {
    const sorted = latencies[name]!.sort((a, b) => a - b);
    const rssPeak = Math.max(...st.map((s) => s.rss));
    return {
      phase: name,
      receivers,
      "updates/s (all clients)": Math.round((delivered[name]! / ms) * 1000),
      "per client/s": Math.round((delivered[name]! / ms) * 1000 / receivers),
      "p50 ms": pct(sorted, 50),
      "p99 ms": pct(sorted, 99),
      "max ms": sorted.at(-1),
      "server CPU %": Math.round((st.reduce((n, s) => n + s.cpu, 0) / st.length) * 100),
      "RSS MB (peak)": mb(rssPeak),
      "RSS growth MB": mb(rssPeak - rssBefore),
      "heap+buffers MB (peak)": mb(Math.max(...st.map((s) => s.heap))),
      "terminated": st.at(-1)?.terminated,
    };
  };
  console.log(`live: ${devices.length} devices, ${clientsN} clients (batch frames), coalescing ${coalesceMs} ms, published ${Math.round((steadyPublished / steadyMs) * 1000)} readings/s; server RSS ${mb(rssBefore)} MB, heap+buffers ${mb(heapBefore)} MB after 5 s of warm-up`);
  console.table([row("steady", steadyMs, clientsN, steadyStats), row("frozen", frozenMs, clientsN - frozenN, frozenStats)]);
  for (const s of sockets) s.terminate();
  await Promise.all(publishers.map((p) => p.endAsync()));
  child.kill();
  rmSync(dir, { recursive: true, force: true });
}

async function energy() {
  for (const flat of [false, true]) await energyOn(flat);
}

/** 30 days of hourly rollups for 1,000 devices, then GET /api/energy timed (first run discarded). */
async function energyOn(flat: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "bench-energy-"));
  const influxd = await startLocalInfluxd({ dir: join(dir, "influxd") });
  try {
    const campus = loadCampus(writeCampus(dir, flat));
    const influx = new InfluxClient({ url: influxd.url, db: "bench_energy" });
    await influx.ensureDatabase();
    await influx.query(`CREATE RETENTION POLICY "rollup_1m" ON "bench_energy" DURATION 400d REPLICATION 1`);
    await influx.query(`CREATE RETENTION POLICY "rollup_1h" ON "bench_energy" DURATION INF REPLICATION 1`);
    const HOUR = 3_600_000;
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const started = Date.now();
    for (let h = 0; h < 30 * 24; h += 10) {
      const lines = [];
      for (let k = h; k < h + 10; k++) for (const d of campus.devices) lines.push({ measurement: "electrical", tags: { device: d.id, kind: d.kind, building: d.building, ...(d.room ? { room: d.room } : {}) }, fields: { energy_delta_kwh: 0.1 + (k % 24) / 100, power_w_mean: 300 }, ts: end - (k + 1) * HOUR });
      await influx.write(toLines(lines), "rollup_1h");
    }
    const shape = flat ? "flat campus: all 1,000 devices are top level and count" : "electrical tree: a main breaker per building above 49 circuits";
    console.log(`energy (${shape}): wrote ${30 * 24 * campus.devices.length} hourly rollup points in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const app = buildApp({ campus, tokens: parseApiTokens(`viewer:${TOKEN}`), state: new LiveState(campus), influx, ack: async () => ({ ok: false, code: "X", message: "" }), probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent") });
    await app.listen({ port: await freePort(), host: "127.0.0.1" });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const rows = [];
    for (const query of ["by=building&every=1h", "by=building&every=1d", "by=building&every=1d&after_hours=false", "by=device&every=1d", "by=device&every=1d&after_hours=false"]) {
      const times: number[] = [];
      let body: any;
      for (let i = 0; i < 4; i++) {
        const t = performance.now();
        const res = await fetch(`${url}/api/energy?${query}&from=${end - 30 * 24 * HOUR}&to=${end}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        body = await res.json();
        if (i > 0) times.push(performance.now() - t); // the first run warms InfluxDB's caches
      }
      times.sort((a, b) => a - b);
      rows.push({ query: `${query}, 30 days`, series: body.series.length, points: body.series.reduce((n: number, s: any) => n + s.points.length, 0), "median ms": Math.round(pct(times, 50)), "max ms": Math.round(times.at(-1)!) });
    }
    console.table(rows);
    await app.close();
  } finally {
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--server") {
  await server(process.argv[3]!, Number(process.argv[4]));
} else {
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, ${mb(totalmem())} MB, Node ${process.version}; load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const only = arg("only", "all");
  if (only === "all" || only === "live") await live();
  if (only === "all" || only === "energy") await energy();
  process.exit(0);
}
