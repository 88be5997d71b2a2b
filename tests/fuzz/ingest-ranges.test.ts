// Fuzz, end to end: generated payloads on every topic of every format (the generators of
// device-payloads.test.ts) published to the real broker, read by the real ingest, written to the real
// InfluxDB; then everything InfluxDB holds is read back: every value finite and inside its physical
// range, every event detail bounded, and valid readings sent around the bad ones all stored.
// Runtime: ~5 s (400 generated messages and 8 valid readings). Replay: FUZZ_SEED=<seed> npx vitest run tests/fuzz/ingest-ranges.test.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient, UniqueMessageIdProvider } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { campus, message, pointProblem } from "./device-messages.js";
import { sampleOf, withSeed } from "./seed.js";

const KEY = "fuzz-group-key-0123456789abcdef";
const PASSWORD = "fuzz-service-password";
const MESSAGES = 400;
let dir: string;
let broker: RunningBroker;
let influx: InfluxClient;
let ingest: RunningIngest;
let metrics: Registry;
let publisher: MqttClient;

const context = (registry: Registry): ServiceContext => ({
  env: readEnv({ DATA_DIR: dir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, MQTT_URL: `mqtt://127.0.0.1:${broker?.tcpPort ?? 1883}`, LOG_LEVEL: "silent" }),
  campus,
  log: createLogger("silent"),
  metrics: registry,
});
const received = async () => {
  const metric = metrics.getSingleMetric("campus_power_ingest_messages_total");
  return metric ? (await metric.get()).values.reduce((sum, v) => sum + v.value, 0) : 0;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-fuzz-ingest-"));
  influx = await freshDatabase("fuzz_ingest");
  broker = await startBroker(context(createRegistry(false)), { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  metrics = createRegistry(false);
  ingest = await startIngest(context(metrics), { influx, clientId: "fuzz-ingest" });
  // The service account may publish on every topic, so one client speaks for every device and format.
  publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
    protocolVersion: 4, clientId: "fuzz-publisher", username: "campus-service", password: PASSWORD, reconnectPeriod: 0, messageIdProvider: new UniqueMessageIdProvider(),
  });
});

afterAll(async () => {
  await publisher?.endAsync(true).catch(() => undefined);
  await ingest?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("fuzzing the ingest end to end", () => {
  it("stores nothing outside its physical range, and the valid readings among the bad ones", async () => {
    const messages = sampleOf(message, MESSAGES);
    // A valid reading every 50 messages, each at its own minute, so all of them must be stored.
    const start = Date.now() - 3_600_000;
    const valid = Array.from({ length: MESSAGES / 50 }, (_, i) => ({ topic: "campus/devices/brk-d1-101/telemetry", payload: Buffer.from(JSON.stringify({ ts: start + i * 60_000, current_a: 4.25 })) }));
    const traffic = messages.flatMap((m, i) => (i % 50 === 0 ? [valid[i / 50]!, m] : [m]));
    const before = await received();
    await withSeed("the ingest fuzz", async () => {
      for (const { topic, payload } of traffic) await publisher.publishAsync(topic, payload, { qos: 1 });
      await waitFor(async () => (await received()) - before >= traffic.length, 30_000, { what: `the ingest receiving ${traffic.length} messages`, intervalMs: 50 });
      await ingest.flush();

      const electrical = rows(await influx.query("SELECT * FROM electrical"));
      const events = rows(await influx.query("SELECT * FROM device_event"));
      for (const row of [...electrical.map((r) => ({ measurement: "electrical", r })), ...events.map((r) => ({ measurement: "device_event", r }))]) {
        const { time, device, kind, building, room, phase, site, type, ...fields } = row.r;
        const point = { measurement: row.measurement, tags: {}, fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) as Record<string, number | string | boolean>, ts: typeof time === "number" ? time : Date.parse(String(time)) };
        expect(pointProblem(point), JSON.stringify(row.r).slice(0, 300)).toBeNull();
      }
      const stored = rows(await influx.query(`SELECT current_a FROM electrical WHERE device = 'brk-d1-101' AND current_a = 4.25 AND time >= ${start}ms`));
      expect(stored.length).toBe(valid.length);
    });
  });
});
