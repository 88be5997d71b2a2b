// Fleet-key rotation (CONTRACT §13): with DEVICE_GROUP_KEY = "next:NEW,old:OLD" the real broker accepts a
// device whose password derives from either key and refuses one derived from a key it does not list;
// `campus-power device-secret` prints the first key's password; a malformed list stops the start, naming
// the entry and never the key. Real broker on ephemeral ports, real mqtt.js clients (MQTT 3.1.1).
import { execFileSync } from "node:child_process";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { hmacPassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

const NEW = "next-fleet-key-0123456789abcdef";
const OLD = "old-fleet-key-fedcba9876543210";
const UNLISTED = "a-third-fleet-key-0123456789";
const KEYS = `next:${NEW},old:${OLD}`;
const env = readEnv({ DEVICE_GROUP_KEY: KEYS, SERVICE_PASSWORD: "fleet-keys-service-password", LOG_LEVEL: "silent" });
const ctx: ServiceContext = { env, campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };

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
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, clientId: `fleet-keys-${++seq}`, username, password });
  clients.push(client);
  return client;
}

/** The CONNACK return code of a refused connection (mqtt.js puts it on the error). */
const refusalCode = (username: string, password: string) =>
  connect(username, password).then(
    () => "connected",
    (error: { code?: number }) => error.code,
  );

describe("fleet-key rotation on a real broker", () => {
  it("accepts a device whose password derives from either listed key", async () => {
    const moved = await connect("brk-d1-101", hmacPassword("brk-d1-101", NEW));
    const notYet = await connect("brk-d1-102", hmacPassword("brk-d1-102", OLD));
    expect(moved.connected && notYet.connected).toBe(true);
    // Still a device of the ACL: it publishes its own telemetry (QoS 1 is acknowledged only if allowed).
    await notYet.publishAsync("campus/devices/brk-d1-102/telemetry", JSON.stringify({ power_w: 1 }), { qos: 1 });
  });

  it("refuses a password derived from a key it does not list, and one key's password under another id", async () => {
    expect(await refusalCode("brk-d1-101", hmacPassword("brk-d1-101", UNLISTED))).toBe(4);
    expect(await refusalCode("brk-d1-101", hmacPassword("brk-d1-102", NEW))).toBe(4);
  });
});

describe("campus-power device-secret with several keys", () => {
  it("prints the password of the first key, as openssl derives it", () => {
    const { stdout, status } = runCli(["device-secret", "brk-d3-301"], { DEVICE_GROUP_KEY: KEYS });
    const openssl = execFileSync("openssl", ["dgst", "-sha256", "-hmac", NEW], { input: "brk-d3-301" }).toString();
    expect(status).toBe(0);
    expect(stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(openssl.trim().endsWith(stdout.trim())).toBe(true);
  });

  it("stops on a malformed list, naming the entry and the problem and never a key", () => {
    const { stderr, stdout, status } = runCli(["device-secret", "brk-d3-301"], { DEVICE_GROUP_KEY: `next:${NEW},next:${OLD}` });
    expect(status).not.toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toContain('DEVICE_GROUP_KEY[1]: repeats the id "next" of DEVICE_GROUP_KEY[0]');
    expect(stderr).not.toContain(NEW);
    expect(stderr).not.toContain(OLD);
  });

  it("refuses to start the broker on a malformed list, never printing a key", async () => {
    const env = { DEVICE_GROUP_KEY: `next:${NEW},old:short`, SERVICE_PASSWORD: "fleet-keys-service-password", CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml", MQTT_PORT: "0", MQTT_WS_PORT: "0" };
    const broker = startCli(["broker"], env);
    try {
      await waitFor(() => broker.child.exitCode !== null, 20_000, { what: "the broker stopping before it starts" });
    } finally {
      await broker.stop("SIGKILL");
    }
    expect(broker.child.exitCode).not.toBe(0);
    expect(broker.output()).toContain('DEVICE_GROUP_KEY[1]: key "old" must be at least 16 characters');
    expect(broker.output()).not.toContain(NEW);
    expect(broker.output()).not.toContain("short");
  });
});
