// bench:live's server under test, alone in its process: broker + API on the bench campus. Reports its
// CPU (share of one core), RSS, heap used, external memory (Buffers; it includes array buffers) and terminated live clients every second.
// argv: campus file, coalescing ms.
import v8 from "node:v8";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApi } from "../../api/index.js";
import { startBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { cpuMeter, loopDelayMeter, PASSWORD, TOKEN } from "./common.js";

const [campusFile, coalesceMs] = [process.argv[2]!, Number(process.argv[3])];
const campus = loadCampus(campusFile);
const env = readEnv({ API_TOKENS: `viewer:${TOKEN}`, SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "bench-group-key-0123456789", HTTP_PORT: "0", LOG_LEVEL: "silent", DATA_DIR: mkdtempSync(join(tmpdir(), "bench-live-")) });
const base = { campus, log: createLogger("silent"), metrics: createRegistry(false) };
const broker = await startBroker({ ...base, env }, { port: 0, wsPort: 0, host: "127.0.0.1" });
const api = await startApi({ ...base, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` } }, { influx: new InfluxClient({ url: "http://127.0.0.1:9", db: "none" }), host: "127.0.0.1", port: 0, live: { coalesceMs } });
const cpu = cpuMeter();
const loop = loopDelayMeter();
setInterval(async () => {
  const terminated = (await base.metrics.getSingleMetric("campus_power_api_live_terminated_total")?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;
  const memory = process.memoryUsage();
  process.send!({ type: "stats", cpu: cpu(), ...loop(), rss: memory.rss, heap: memory.heapUsed, external: memory.external, terminated, at: Date.now() });
}, 1000);
// The live heap (after a full GC, when run with --expose-gc) versus what V8 lets accumulate before collecting.
process.on("message", (m: { type: string }) => {
  if (m.type !== "gc") return;
  const before = process.memoryUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const after = process.memoryUsage();
  process.send!({ type: "gc", heapBefore: before.heapUsed, heapAfter: after.heapUsed, rssAfter: after.rss, spaces: v8.getHeapSpaceStatistics().map((s) => `${s.space_name} ${Math.round(s.space_used_size / 1048576)}`).join(", ") });
});
// A clean exit on SIGTERM, so that --cpu-prof writes its profile.
process.on("SIGTERM", () => {
  void Promise.race([Promise.all([api.stop(), broker.stop()]), new Promise((r) => setTimeout(r, 3000))]).then(() => process.exit(0));
});
process.send!({ type: "ready", http: api.url, mqtt: `mqtt://127.0.0.1:${broker.tcpPort}` });
