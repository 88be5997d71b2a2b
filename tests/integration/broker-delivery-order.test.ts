// Every packet reaches a subscriber once, even when aedes emits it after a packet it numbered later
// (broker/deliver-once.ts): a retained QoS 1 publish waits for its store, a plain one does not. The ingest
// publishes exactly so (a device's retained status, then a batch of readings, and its latest reading at QoS 0),
// and the API and the alerts service subscribe to them all. Real brokers (a cluster node on a real redis-server, and the single-process one),
// real mqtt.js service clients with real credentials.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { buildRouter } from "../../ingest/routing.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "delivery-order-service-password";
const ROUNDS = 300;
const dir = mkdtempSync(join(tmpdir(), "campus-delivery-order-"));
const campus = loadCampus(join(import.meta.dirname, "../fixtures/test-campus.yaml"));
const env = readEnv({ DEVICE_GROUP_KEY: "delivery-order-group-key-0123", SERVICE_PASSWORD: PASSWORD, LOG_LEVEL: "silent", DATA_DIR: join(dir, "data") });

let redis: LocalRedis;
const brokers: RunningBroker[] = [];
const clients: MqttClient[] = [];

async function start(cluster: boolean): Promise<RunningBroker> {
  const ctx = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
  const redisOption = cluster ? { redis: { url: redis.url, deviceFilters: buildRouter(campus).subscriptions } } : {};
  const broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false, ...redisOption });
  brokers.push(broker);
  return broker;
}

async function service(broker: RunningBroker, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, { username: "campus-service", password: PASSWORD, clientId, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

/** Topics received by `client`, in order. */
function inbox(client: MqttClient): string[] {
  const topics: string[] = [];
  client.on("message", (topic) => topics.push(topic));
  return topics;
}

/**
 * ROUNDS times, without waiting in between, as the ingest does: a device's status (QoS 1, retained), then a batch
 * of readings (QoS 1, not retained). Then a last message, after everything else has arrived.
 */
async function publishLikeTheIngest(broker: RunningBroker, received: string[][]): Promise<void> {
  const ingest = await service(broker, `ingest-${brokers.indexOf(broker)}`);
  for (let i = 0; i < ROUNDS; i++) {
    ingest.publish(`campus/internal/status/dev-${i}`, JSON.stringify({ device: `dev-${i}`, online: true, ts: i }), { qos: 1, retain: true });
    ingest.publish("campus/internal/readings-batch/ingest", "[]", { qos: 1 });
    // A device's latest reading, QoS 0 and retained, to subscriptions of QoS 1 (aedes hands it from deliverQoS to deliver0).
    ingest.publish(`campus/internal/readings/dev-${i}`, "{}", { qos: 0, retain: true });
  }
  const statuses = (topics: string[]) => new Set(topics.filter((t) => t.startsWith("campus/internal/status/"))).size;
  // Each subscriber's every status, or the test fails naming how many it got.
  const latest = (topics: string[]) => topics.filter((t) => t.startsWith("campus/internal/readings/")).length;
  for (const topics of received) await waitFor(() => statuses(topics) === ROUNDS && latest(topics) === ROUNDS, 15_000);
  await ingest.publishAsync("campus/internal/events/done", "{}", { qos: 1 });
  for (const topics of received) await waitFor(() => topics.includes("campus/internal/events/done"), 10_000);
}

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, "redis") });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await Promise.all(brokers.map((b) => b.stop()));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.each([
  ["a broker node on Redis", true],
  ["the single-process broker", false],
])("%s", (_name, cluster) => {
  it("gives a subscriber of statuses and batches every status, and each message once to overlapping subscriptions", { timeout: 60_000 }, async () => {
    const broker = await start(cluster);
    const api = await service(broker, `api-${cluster}`);
    await api.subscribeAsync({ "campus/internal/status/+": { qos: 1 }, "campus/internal/readings-batch/+": { qos: 1 }, "campus/internal/readings/+": { qos: 1 }, "campus/internal/events/+": { qos: 1 } });
    const overlapping = await service(broker, `overlapping-${cluster}`);
    await overlapping.subscribeAsync({ "campus/internal/#": { qos: 1 }, "campus/internal/status/+": { qos: 1 } });
    const received = [inbox(api), inbox(overlapping)];

    await publishLikeTheIngest(broker, received);

    for (const topics of received) {
      expect(new Set(topics.filter((t) => t.startsWith("campus/internal/status/"))).size).toBe(ROUNDS);
      expect(topics.filter((t) => t.startsWith("campus/internal/status/"))).toHaveLength(ROUNDS); // none twice
      expect(topics.filter((t) => t === "campus/internal/readings-batch/ingest")).toHaveLength(ROUNDS);
      expect(topics.filter((t) => t.startsWith("campus/internal/readings/"))).toHaveLength(ROUNDS); // QoS 0: every one, once
      expect(topics.filter((t) => t === "campus/internal/events/done")).toHaveLength(1);
    }
  });
});
