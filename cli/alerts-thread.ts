// The body of `campus-power up`'s alerts thread (./service-thread.ts starts it). The alerts service runs here
// exactly as it runs alone: the same environment and campus file, an MQTT client of the broker on the main
// thread, its own InfluxDB client. Its metrics are its own (the process's are the main thread's); the main
// thread asks for them on each scrape of /metrics.
import { getHeapSpaceStatistics } from "node:v8";
import { parentPort, resourceLimits, workerData } from "node:worker_threads";
import type { Env } from "../domain/env.js";
import { InfluxClient } from "../infra/influx.js";
import { Gauge } from "../infra/metrics.js";
import type { RunningService } from "../infra/service.js";
import { loadContext } from "./runtime.js";
import { describeError, type FromThread, type ThreadData, type ToThread } from "./service-thread.js";

const port = parentPort!;
const data = workerData as ThreadData;
const say = (message: FromThread) => port.postMessage(message);

// The main thread has loaded the same environment and campus file already, so this cannot fail on them.
const loaded = loadContext(data.source, "up", [], { processMetrics: false });
const env: Env = Object.freeze({ ...loaded.env, mqttUrl: data.mqttUrl });
const { metrics } = loaded;
// The process's heap gauges are the main thread's isolate; this thread's heap is its own, and shows here.
new Gauge({
  name: "campus_power_thread_heap_space_bytes", help: "V8 heap of a service thread of up, by space: bytes committed (size) and in use (used).",
  labelNames: ["thread", "space", "kind"], registers: [metrics],
  collect() {
    for (const space of getHeapSpaceStatistics()) {
      const labels = { thread: "alerts", space: space.space_name.replace(/_space$/, "") };
      this.set({ ...labels, kind: "size" }, space.space_size);
      this.set({ ...labels, kind: "used" }, space.space_used_size);
    }
  },
});
const ctx = { ...loaded.ctx, env };
const influx = new InfluxClient({ url: env.influxUrl, db: env.influxDb, username: env.influxUsername, password: env.influxPassword });

let service: RunningService | null = null;
port.on("message", (message: ToThread) => {
  if (message.type === "metrics") {
    void metrics.metrics().then((text) => say({ type: "metrics", id: message.id, text }));
  } else if (message.type === "stop") {
    void (service?.stop() ?? Promise.resolve())
      .catch((error: unknown) => ctx.log.error({ err: error }, "error while stopping the alerts service"))
      .finally(() => port.close()); // the thread ends: the main thread waits for its exit
  }
});

try {
  const { startAlerts } = await import("../alerts/index.js");
  service = await startAlerts(ctx, { influx, environment: process.env });
  ctx.log.child({ service: "alerts" }).info({ youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb }, "alerts thread running (young generation bound: cli/alerts-heap.ts)");
  say({ type: "started" });
} catch (error) {
  say({ type: "failed", error: describeError(error) });
  port.close();
}
