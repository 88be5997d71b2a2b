// `npm run bench:alerts`: alert latency from a device's publish to the alert on MQTT, on the API's
// WebSocket and at the webhook receiver, p50/p99, while the stack ingests ~10,000 readings/s — and how
// many of the readings sent during the measured window InfluxDB actually holds afterwards (counted
// there with a query, not taken from what was sent), so the load the latency was measured under is known.
// Everything real and in one process, as `campus-power up` runs it: local influxd, broker, ingest,
// alerts, API; load devices publish batches of readings; probe devices each report one arc event
// (arc-fault opens at once, so the figure is the pipeline, not a rule's on-delay).
// Options (env): BENCH_LOAD_DEVICES (50), BENCH_BATCH (20), BENCH_PERIOD_MS (100), BENCH_PROBES (200),
// BENCH_GROUP_MS (webhook grouping window, 0 here; the product default is 3 s).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import WebSocket from "ws";
import { startAlerts } from "../alerts/index.js";
import { startApi } from "../api/index.js";
import { startBroker } from "../broker/index.js";
import { loadCampus } from "../infra/campus-file.js";
import { devicePassword } from "../domain/credentials.js";
import { readEnv } from "../domain/env.js";
import { InfluxClient, rows } from "../infra/influx.js";
import { freePort } from "../infra/free-port.js";
import { startLocalInfluxd } from "../infra/local-influxd.js";
import { createLogger } from "../infra/logger.js";
import { createRegistry } from "../infra/metrics.js";
import { connectService } from "../infra/mqtt.js";
import { startIngest } from "../ingest/index.js";
import { parseBenchArgs, type NumberRule } from "./args.js";

const HELP = `npm run bench:alerts (no options: the environment sets the load)
Alert latency from a device's publish to the alert on MQTT, on the API's WebSocket and at the webhook receiver,
p50/p99, while the stack (one process, as up runs it) ingests ~10,000 readings/s; and how many of the readings
sent meanwhile InfluxDB holds afterwards, counted there.
  BENCH_LOAD_DEVICES=N  load devices (default 50)
  BENCH_BATCH=N         readings in each batch a load device sends (default 20)
  BENCH_PERIOD_MS=N     ms between a load device's batches (default 100)
  BENCH_PROBES=N        probe devices, each reporting one arc event (default 200)
  BENCH_GROUP_MS=N      the webhook grouping window, ms (default 0 here; the product's default is 3 s)
  --help                this text`;

const { number } = parseBenchArgs("alerts", HELP, {});
const n = (name: string, fallback: number, rule?: NumberRule) => number(name, process.env[name] ?? fallback, rule);
const LOAD = n("BENCH_LOAD_DEVICES", 50);
const BATCH = n("BENCH_BATCH", 20);
const PERIOD_MS = n("BENCH_PERIOD_MS", 100);
const PROBES = n("BENCH_PROBES", 200);
const GROUP_MS = n("BENCH_GROUP_MS", 0, { zero: true });
const KEY = "bench-group-key-0123456789abcdef";
const PASSWORD = "bench-service-password";
const TOKEN = "viewer-bench-token-0123456789";

const dir = mkdtempSync(join(tmpdir(), "campus-power-bench-alerts-"));
const ids = { load: Array.from({ length: LOAD }, (_, i) => `load-${i}`), probe: Array.from({ length: PROBES }, (_, i) => `probe-${i}`) };
const campusFile = join(dir, "campus.yaml");
writeFileSync(
  campusFile,
  [
    "site: { id: bench, name: Bench School, timezone: Asia/Shanghai }",
    "buildings: [ { id: b1, name: Bench Building, kind: other } ]",
    "devices:",
    ...[...ids.load, ...ids.probe].map((id) => `  - { id: ${id}, kind: breaker, building: b1, room: r, rating_a: 16, curve: C, report_interval_s: 1 }`),
    // No watchdog noise during the run.
    "alerts: { rules: { offline: { silent_intervals: 100000 } } }",
  ].join("\n"),
);

const influxd = await startLocalInfluxd({ dir: join(dir, "influxdb") });
const hookPort = await freePort();
const webhookAt = new Map<string, number>();
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const json = JSON.parse(body) as { alerts?: { alert: { device: string } }[]; alert: { device: string } };
    for (const item of json.alerts ?? [{ alert: json.alert }]) if (!webhookAt.has(item.alert.device)) webhookAt.set(item.alert.device, performance.now());
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(hookPort, "127.0.0.1", r));

const env = readEnv({
  DATA_DIR: join(dir, "data"), LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: KEY, API_TOKENS: `viewer:${TOKEN}`,
  INFLUX_URL: influxd.url, CAMPUS_CONFIG: campusFile,
  ALERT_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`, ALERT_WEBHOOK_SECRET: "bench-secret", ALERT_WEBHOOK_GROUP: String(GROUP_MS),
});
const metrics = createRegistry(false);
let ctx = { env, campus: loadCampus(campusFile), log: createLogger("silent"), metrics };
const influx = new InfluxClient({ url: influxd.url, db: env.influxDb });
await influx.ensureDatabase();
const broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1" });
ctx = { ...ctx, env: Object.freeze({ ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }) };
const ingest = await startIngest(ctx, { influx });
const alerts = await startAlerts(ctx, { influx });
const api = await startApi(ctx, { influx, port: 0, host: "127.0.0.1" });

const mqttAt = new Map<string, number>();
const watcher = await connectService(ctx.env.mqttUrl, PASSWORD, "bench-watcher");
watcher.on("message", (_t, payload) => {
  if (payload.length === 0) return;
  const device = (JSON.parse(payload.toString()) as { device: string }).device;
  if (!mqttAt.has(device)) mqttAt.set(device, performance.now());
});
await watcher.subscribeAsync("campus/alerts/+/arc-fault", { qos: 1 });
const wsAt = new Map<string, number>();
const ws = new WebSocket(`ws://127.0.0.1:${api.port}/api/live?token=${TOKEN}`);
ws.on("message", (data) => {
  const msg = JSON.parse(String(data)) as { type: string; alert?: { device: string } };
  if (msg.type === "alert" && msg.alert && !wsAt.has(msg.alert.device)) wsAt.set(msg.alert.device, performance.now());
});
await new Promise((r) => ws.once("open", r));

const connect = (id: string) =>
  mqtt.connectAsync(ctx.env.mqttUrl, { username: id, password: devicePassword(id, KEY), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
const loadClients = await Promise.all(ids.load.map(connect));
const probeClients = await Promise.all(ids.probe.map(connect));

// Load: every device sends a batch of BATCH readings every PERIOD_MS; the readings of a device are 1 ms
// apart in event time (distinct points: InfluxDB keeps one point per series and timestamp).
let sentMessages = 0;
let eventTs = Date.now() - 3_600_000;
let running = true;
/** The readings sent while latency is measured: how many, and their event-time range. */
const measured = { on: false, sent: 0, fromTs: Infinity, toTs: -Infinity };
const loadLoop = (async () => {
  while (running) {
    const tick = performance.now();
    const fromTs = eventTs;
    eventTs += BATCH;
    if (measured.on) {
      measured.fromTs = Math.min(measured.fromTs, fromTs);
      measured.toTs = Math.max(measured.toTs, eventTs - 1);
      measured.sent += LOAD * BATCH;
    }
    await Promise.all(
      loadClients.map((c, i) => {
        const batch = Array.from({ length: BATCH }, (_, k) => ({ ts: fromTs + k, current_a: 5 + (i % 3), voltage_v: 221, power_w: 1100 }));
        sentMessages += 1;
        return c.publishAsync(`campus/devices/${ids.load[i]}/telemetry`, JSON.stringify(batch), { qos: 1 });
      }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, PERIOD_MS - (performance.now() - tick))));
  }
})();

const ingested = async () => {
  const text = await metrics.metrics();
  return [...text.matchAll(/^campus_power_ingest_messages_total\{kind="telemetry"[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
};
await new Promise((r) => setTimeout(r, 3_000)); // warm up
const messagesBefore = await ingested();
const started = performance.now();
measured.on = true;
const publishedAt = new Map<string, number>();
for (const [i, client] of probeClients.entries()) {
  const id = ids.probe[i]!;
  publishedAt.set(id, performance.now());
  await client.publishAsync(`campus/devices/${id}/events`, JSON.stringify({ ts: Date.now(), type: "arc" }), { qos: 1 });
  await new Promise((r) => setTimeout(r, 50));
}
await new Promise((r) => setTimeout(r, 3_000 + GROUP_MS));
measured.on = false;
const seconds = (performance.now() - started) / 1000;
const ingestedPerS = ((await ingested()) - messagesBefore) * BATCH / seconds;
running = false;
await loadLoop;

// What InfluxDB holds of the measured window, once every message sent reached the ingest and its spool drained.
const settleBy = Date.now() + 60_000;
while ((await ingested()) < sentMessages && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 100));
await ingest.flush();
const stored = Number(
  rows(await influx.query(`SELECT count("current_a") FROM "electrical" WHERE "device" =~ /^load-/ AND time >= ${measured.fromTs}ms AND time <= ${measured.toTs}ms`))[0]?.count ?? 0,
);

const pct = (values: number[], p: number) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;
const row = (name: string, arrived: Map<string, number>) => {
  const lat = ids.probe.flatMap((id) => (arrived.has(id) ? [arrived.get(id)! - publishedAt.get(id)!] : []));
  return `| ${name.padEnd(9)} | ${String(lat.length).padStart(4)}/${PROBES} | ${pct([...lat], 50).toFixed(1).padStart(7)} | ${pct([...lat], 99).toFixed(1).padStart(7)} | ${Math.max(...lat).toFixed(1).padStart(7)} |`;
};
console.log(`\nalerts latency under load — ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`${LOAD} load devices × ${BATCH} readings per ${PERIOD_MS} ms; webhook group window ${GROUP_MS} ms; measured for ${seconds.toFixed(1)} s\n`);
console.log("| readings of the measured window     | count     | per s   |");
console.log("|-------------------------------------|-----------|---------|");
const countRow = (name: string, count: number) => `| ${name.padEnd(35)} | ${String(Math.round(count)).padStart(9)} | ${(count / seconds).toFixed(0).padStart(7)} |`;
console.log(countRow("sent by the load devices", measured.sent));
console.log(countRow("decoded by the ingest (same time)", ingestedPerS * seconds));
console.log(countRow("stored in InfluxDB (counted)", stored));
console.log("");
console.log("| channel   | received | p50 ms  | p99 ms  | max ms  |");
console.log("|-----------|----------|---------|---------|---------|");
console.log(row("MQTT", mqttAt));
console.log(row("WebSocket", wsAt));
console.log(row("webhook", webhookAt));

ws.close();
await Promise.all([...loadClients, ...probeClients].map((c) => c.endAsync(true)));
await watcher.endAsync();
await api.stop();
await alerts.stop();
await ingest.stop();
await broker.stop();
receiver.close();
await influxd.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
