// The broker of a district (CONTRACT §3, §9): every school's devices log in with their own credentials, and
// a device of one school can neither publish on nor subscribe to another school's device topics. The real
// broker on ephemeral ports, real mqtt.js clients with real credentials (MQTT 3.1.1).
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { deviceCommandFilters } from "../../broker/acl.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";

const KEY = "district-broker-group-key-0123456789";
const SERVICE_PASSWORD = "district-broker-service-password";
const campus = loadCampus("tests/fixtures/district-zones/district.yaml");
const env = readEnv({ DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD, API_TOKENS: "admin:district-broker-admin-token", LOG_LEVEL: "silent" });
const ctx: ServiceContext = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };

let broker: RunningBroker;
const clients: MqttClient[] = [];
let seq = 0;

beforeAll(async () => {
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});
afterAll(async () => broker?.stop());

async function connect(username: string, password: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, clientId: `district-${++seq}`, username, password });
  clients.push(client);
  return client;
}
const device = (id: string) => connect(id, devicePassword(id, KEY));
const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));

/** The service account watching everything; `settled()` waits for a marker sent after what must not arrive. */
async function watchEverything() {
  const watcher = await connect("campus-service", SERVICE_PASSWORD);
  const topics: string[] = [];
  watcher.on("message", (topic) => topics.push(topic));
  await watcher.subscribeAsync("#", { qos: 1 });
  return {
    topics,
    async settled() {
      const marker = `test/settle/${++seq}`;
      await watcher.publishAsync(marker, "x", { qos: 1 });
      await expect.poll(() => topics.includes(marker)).toBe(true);
    },
  };
}

describe("the broker of a district", () => {
  it("lets every school's devices log in with their own passwords, and no device with another school's", async () => {
    for (const id of ["brk-east-main", "plug-east-101", "brk-west-main", "plug-west-101"]) expect((await device(id)).connected).toBe(true);
    const refused = (await connect("brk-east-main", devicePassword("brk-west-main", KEY)).catch((error: unknown) => error)) as { code?: number };
    expect(refused.code).toBe(4);
  });

  it("closes a device that publishes on another school's native or Tasmota topics, and routes neither", async () => {
    const watch = await watchEverything();
    const breaker = await device("brk-east-main");
    await breaker.publishAsync("campus/devices/brk-east-main/telemetry", '{"power_w": 1}', { qos: 1 });
    breaker.publish("campus/devices/brk-west-main/telemetry", '{"power_w": 9999}', { qos: 0 });
    await closed(breaker); // MQTT-3.3.5-2: closed without a reply
    const plug = await device("plug-east-101");
    plug.publish("tele/tasmota_3E5701/SENSOR", '{"ENERGY": {"Power": 9999}}', { qos: 0 });
    await closed(plug);
    await watch.settled();
    expect(watch.topics).toContain("campus/devices/brk-east-main/telemetry");
    expect(watch.topics).not.toContain("campus/devices/brk-west-main/telemetry");
    expect(watch.topics).not.toContain("tele/tasmota_3E5701/SENSOR");
  });

  it("answers a subscription to another school's device topics with SUBACK 0x80, and grants the device its own commands", async () => {
    const plug = await device("plug-east-101");
    const west = campus.deviceById.get("plug-west-101")!;
    const own = deviceCommandFilters(campus.deviceById.get("plug-east-101")!);
    const filters = [...deviceCommandFilters(west), "tele/tasmota_3E5701/SENSOR", "campus/devices/brk-west-main/telemetry", "campus/devices/brk-west-main/commands", ...own];
    // mqtt.js rejects a SUBACK holding 0x80 and attaches the packet, which shows the per-filter codes.
    const error = (await plug.subscribeAsync(filters, { qos: 1 }).then(() => null, (e: unknown) => e)) as { packet?: { granted: number[] } } | null;
    expect(error?.packet?.granted).toEqual([...filters.slice(0, -own.length).map(() => 128), ...own.map(() => 1)]);
  });
});
