// /metrics counts logins per fleet key id (CONTRACT §13), so an operator sees when a retired key is no
// longer used: the counter of each listed key, by its id and never the key, on a real broker with real
// mqtt.js clients (MQTT 3.1.1). Needs broker/hooks.ts to count (docs/security.md "Rotating the fleet key").
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { hmacPassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";

const NEW = "next-fleet-key-0123456789abcdef";
const OLD = "old-fleet-key-fedcba9876543210";
const env = readEnv({ DEVICE_GROUP_KEY: `next:${NEW},old:${OLD}`, SERVICE_PASSWORD: "fleet-keys-service-password", LOG_LEVEL: "silent" });
const ctx: ServiceContext = { env, campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };
const METRIC = "campus_power_broker_fleet_key_logins_total";

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

async function login(username: string, password: string): Promise<boolean> {
  const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 5_000, clientId: `fleet-metric-${++seq}`, username, password };
  return mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, options).then(
    (client) => (clients.push(client), true),
    () => false,
  );
}

/** The counter's value per key id, as the registry holds it. */
async function loginsByKey(): Promise<Record<string, number>> {
  const values = (await ctx.metrics.getSingleMetric(METRIC)?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [String(v.labels.key), v.value]));
}

describe("logins per fleet key in /metrics", () => {
  it("lists every key at 0 before any device logs in", async () => {
    expect(await loginsByKey()).toEqual({ next: 0, old: 0 });
  });

  it("counts each accepted login under the id of the key its password derives from", async () => {
    expect(await login("brk-d1-101", hmacPassword("brk-d1-101", NEW))).toBe(true);
    expect(await login("brk-d1-102", hmacPassword("brk-d1-102", NEW))).toBe(true);
    expect(await login("brk-c1-main", hmacPassword("brk-c1-main", OLD))).toBe(true);
    // Refused logins, a device with its own secret_sha256 (password "password") and the service account use no fleet key: not counted.
    expect(await login("plug-c1-own", "password")).toBe(true);
    expect(await login("brk-d1-101", hmacPassword("brk-d1-101", "a-third-fleet-key-0123456789"))).toBe(false);
    expect(await login("campus-service", "fleet-keys-service-password")).toBe(true);
    expect(await loginsByKey()).toEqual({ next: 2, old: 1 });
  });

  it("names keys by id in the scrape, never by the key", async () => {
    const text = await ctx.metrics.metrics();
    expect(text).toContain(`${METRIC}{key="next"} 2`);
    expect(text).toContain(`${METRIC}{key="old"} 1`);
    expect(text).not.toContain(NEW);
    expect(text).not.toContain(OLD);
  });
});
