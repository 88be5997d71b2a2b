// CONNACK first [MQTT-3.2.0-1] on a broker node with Redis (broker/connack-first.ts): a persistent session
// reconnecting while messages for it keep arriving gets its CONNACK before any PUBLISH. aedes 1.2.0 restores the
// session's subscriptions a Redis round trip before it writes the CONNACK, and mqtt.js never handles a CONNACK
// queued behind a QoS 1 PUBLISH: the active alerts service got "connack timeout" on every attempt after Redis
// restarts in the failure drills. A raw socket shows which packet comes first; a real mqtt.js client must connect.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";

const PASSWORD = "ha-connack-service-password";
const PROBE = "connack-probe";
const TOPIC = "campus/internal/events/probe";
const dir = mkdtempSync(join(tmpdir(), "campus-ha-connack-"));
const campusFile = join(dir, "campus.yaml");
writeFileSync(campusFile, "site: { id: s, name: S, timezone: Asia/Shanghai, nominal_voltage_v: 220 }\nbuildings:\n  - { id: b, name: B, kind: classroom }\ndevices:\n  - { id: d1, kind: socket, building: b, rating_a: 10 }\n");

let redis: LocalRedis;
let broker: RunningBroker;
let flooder: MqttClient;
let flood: NodeJS.Timeout;
let published = 0;

const service = (clientId: string, clean: boolean) =>
  mqtt.connect(`mqtt://127.0.0.1:${broker.tcpPort}`, { clientId, clean, username: "campus-service", password: PASSWORD, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
const connected = (client: MqttClient) => new Promise<void>((resolve, reject) => (client.once("connect", () => resolve()), client.once("error", reject)));

/** The persistent session's CONNECT on a raw socket: the commands of the first packets the broker writes back. */
function firstPackets(count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(broker.tcpPort, "127.0.0.1");
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: string[] = [];
    const finish = () => (socket.destroy(), resolve(seen));
    parser.on("packet", (packet) => (seen.push(packet.cmd), seen.length >= count && finish()));
    socket.on("data", (chunk) => parser.parse(chunk));
    socket.on("error", reject);
    socket.setTimeout(3_000, finish);
    socket.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: PROBE, keepalive: 30, username: "campus-service", password: Buffer.from(PASSWORD) }));
  });
}

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, "redis") });
  const env = readEnv({ SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "ha-connack-group-key-0123456789", LOG_LEVEL: "silent", DATA_DIR: join(dir, "data") });
  const ctx = { env, campus: loadCampus(campusFile), log: createLogger("silent"), metrics: createRegistry(false) };
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", redis: { url: redis.url, deviceFilters: [] } });
  // The session, subscribed once, then away.
  const probe = service(PROBE, false);
  await connected(probe);
  await probe.subscribeAsync(TOPIC, { qos: 1 });
  await probe.endAsync();
  flooder = service("connack-flooder", true);
  await connected(flooder);
  // A message every millisecond or so: one lands between the session's restore and its CONNACK, as the
  // internal stream's batches did in the drills.
  flood = setInterval(() => {
    for (let i = 0; i < 4; i++) flooder.publish(TOPIC, String(published++), { qos: 1 });
  }, 1);
}, 60_000);

afterAll(async () => {
  clearInterval(flood);
  await flooder?.endAsync(true);
  await broker?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("a persistent session reconnecting while messages for it arrive (broker node with Redis)", () => {
  it("gets its CONNACK before any PUBLISH, on every one of 20 reconnections", async () => {
    const firsts: string[] = [];
    const before = published;
    for (let attempt = 0; attempt < 20; attempt++) {
      const packets = await firstPackets(3);
      expect(packets.length, `attempt ${attempt}: packets ${packets.join(",")}`).toBeGreaterThan(1);
      firsts.push(packets[0]!);
    }
    expect(firsts).toEqual(Array.from({ length: 20 }, () => "connack"));
    // The flood went on throughout: the messages were there to come first.
    expect(published - before).toBeGreaterThan(200);
  }, 60_000);

  it("mqtt.js connects with that session, and receives the messages, on every one of 10 reconnections", async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const probe = service(PROBE, false);
      const received = new Promise<void>((resolve) => probe.once("message", () => resolve()));
      await connected(probe);
      await received;
      await probe.endAsync(true);
    }
  }, 60_000);
});
