// Broker nodes sharing one Redis (CONTRACT §12, broker/cluster.ts, broker/redis-feed.ts): two (sometimes three)
// real aedes brokers in this process on one real redis-server (AOF, appendfsync always), real mqtt.js devices
// and service clients with real credentials, and the Redis Stream the ingest workers read, looked at with XRANGE.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { deviceTopic } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import { PARTITION_KEYS, type RawEntry, decodeEntry, partitionOf } from "../../infra/device-stream.js";
import { parseDeviceTopic } from "../../domain/topics.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { type Registry, createRegistry } from "../../infra/metrics.js";
import { buildRouter } from "../../ingest/routing.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "ha-broker-group-key-0123456789";
const PASSWORD = "ha-broker-service-password";
const FLEET = 200;
const deviceIds = Array.from({ length: FLEET }, (_, i) => `ha-${String(i).padStart(3, "0")}`);

const dir = mkdtempSync(join(tmpdir(), "campus-ha-broker-"));
const campusFile = join(dir, "campus.yaml");
writeFileSync(
  campusFile,
  [
    "site: { id: ha-school, name: HA School, timezone: Europe/Berlin, nominal_voltage_v: 230 }",
    "buildings:",
    "  - { id: block-1, name: Block 1, kind: classroom }",
    "devices:",
    ...deviceIds.map((id) => `  - { id: ${id}, kind: breaker, building: block-1, rating_a: 16, curve: C, report_interval_s: 10 }`),
  ].join("\n"),
);
const campus = loadCampus(campusFile);
const env = readEnv({ DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, LOG_LEVEL: "silent", DATA_DIR: join(dir, "data") });

let redis: LocalRedis;
let reader: Redis;
const nodes: RunningBroker[] = [];
const registries: Registry[] = [];
const clients: MqttClient[] = [];

/** One broker node: its own ctx and registry, the shared Redis, the ingest's real filters. */
async function startNode(): Promise<{ broker: RunningBroker; registry: Registry }> {
  const registry = createRegistry(false);
  const ctx = { env, campus, log: createLogger("silent"), metrics: registry };
  const broker = await startBroker(ctx, {
    port: 0,
    wsPort: 0,
    host: "127.0.0.1",
    redis: { url: redis.url, deviceFilters: buildRouter(campus).subscriptions },
  });
  nodes.push(broker);
  registries.push(registry);
  return { broker, registry };
}

const urlOf = (broker: RunningBroker) => `mqtt://127.0.0.1:${broker.tcpPort}`;

/** Resolves on CONNACK 0; rejects on a refusal and on a connection closed without a CONNACK (a node waiting for Redis). */
async function connect(broker: RunningBroker, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(urlOf(broker), { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
    client.once("close", () => reject(new Error("closed without a CONNACK")));
  });
  return client;
}
const service = (broker: RunningBroker, options: IClientOptions = {}) => connect(broker, { username: "campus-service", password: PASSWORD, ...options });
const device = (broker: RunningBroker, id: string, options: IClientOptions = {}) =>
  connect(broker, { username: id, password: devicePassword(id, KEY), clientId: id, ...options });

function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const received: { topic: string; payload: string }[] = [];
  client.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
  return received;
}
const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));

/** Every entry of every partition of the device stream, decoded (id: "partition/entry id"); each in its device's partition. */
async function streamEntries(): Promise<{ id: string; topic: string; payload: Buffer }[]> {
  const entries: { id: string; topic: string; payload: Buffer }[] = [];
  for (const [k, key] of PARTITION_KEYS.entries()) {
    for (const raw of (await reader.xrangeBuffer(key, "-", "+")) as unknown as RawEntry[]) {
      const entry = decodeEntry(raw)!;
      const device = parseDeviceTopic(entry.topic)?.device;
      if (device !== undefined) expect(partitionOf(device), `partition of ${entry.topic}`).toBe(k);
      entries.push({ ...entry, id: `${k}/${entry.id}` });
    }
  }
  return entries;
}
const entriesWith = async (payload: string) => (await streamEntries()).filter((e) => e.payload.equals(Buffer.from(payload)));

let node1: RunningBroker;
let node2: RunningBroker;
let registry2: Registry;

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, "redis") });
  reader = new Redis(redis.url, { maxRetriesPerRequest: null });
  reader.on("error", () => undefined); // Redis is stopped on purpose in one test
  node1 = (await startNode()).broker;
  ({ broker: node2, registry: registry2 } = await startNode());
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await Promise.all(nodes.map((n) => n.stop()));
  reader?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("broker nodes sharing one Redis", () => {
  it("delivers a publish made on node 2 to a subscriber on node 1", async () => {
    const subscriber = await service(node1);
    const received = inbox(subscriber);
    await subscriber.subscribeAsync("test/cross/#", { qos: 1 });
    const publisher = await service(node2);
    await publisher.publishAsync("test/cross/one", "across the cluster", { qos: 1 });
    await waitFor(() => received.length > 0, 10_000, { what: "the message on node 1" });
    expect(received).toEqual([{ topic: "test/cross/one", payload: "across the cluster" }]);
  });

  it("gives a new subscriber on node 2 the message retained on node 1", async () => {
    const watcher = await service(node1);
    const seen = inbox(watcher);
    await watcher.subscribeAsync("test/retained/flag", { qos: 1 });
    const publisher = await service(node1);
    await publisher.publishAsync("test/retained/flag", "kept in Redis", { qos: 1, retain: true });
    // aedes stores a retained message before it routes it: once the watcher has it, Redis has it.
    await waitFor(() => seen.length > 0, 10_000, { what: "the live copy" });
    const late = await service(node2);
    const received = inbox(late);
    await late.subscribeAsync("test/retained/flag", { qos: 1 });
    await waitFor(() => received.length > 0, 10_000, { what: "the retained message on node 2" });
    expect(received).toEqual([{ topic: "test/retained/flag", payload: "kept in Redis" }]);
  });

  it("hands a persistent session's queued QoS 1 messages to it on the other node", async () => {
    const first = await service(node1, { clientId: "ha-persistent-session", clean: false });
    await first.subscribeAsync("test/session/#", { qos: 1 });
    await first.endAsync();
    // aedes acknowledges a QoS 1 publish before it queues it for offline sessions, then routes it: once a live
    // subscriber has the last one, all three are in the session's queue in Redis.
    const watcher = await service(node2);
    const watched = inbox(watcher);
    await watcher.subscribeAsync("test/session/#", { qos: 1 });
    const publisher = await service(node2);
    for (const n of [1, 2, 3]) await publisher.publishAsync(`test/session/${n}`, `queued ${n}`, { qos: 1 });
    await waitFor(() => watched.length >= 3, 10_000, { what: "the live copies" });
    const received: { topic: string; payload: string }[] = [];
    const again = mqtt.connect(urlOf(node2), {
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: "ha-persistent-session",
      clean: false,
      username: "campus-service",
      password: PASSWORD,
    });
    clients.push(again);
    // Listening before CONNACK: the queue is delivered right after it.
    again.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      again.once("connect", resolve);
      again.once("error", reject);
    });
    expect(connack.sessionPresent).toBe(true);
    await waitFor(() => received.length >= 3, 10_000, { what: "the three queued messages" });
    expect(received).toEqual([1, 2, 3].map((n) => ({ topic: `test/session/${n}`, payload: `queued ${n}` })));
  });

  // The alerts service's session subscribes to several filters in one SUBSCRIBE: aedes stored them once per filter,
  // and aedes-persistence-redis's second store left the first waiting for ever (no SUBACK; broker/cluster.ts).
  it("answers a persistent session's SUBSCRIBE of several filters, and delivers on each", async () => {
    const session = await service(node1, { clientId: "ha-several-filters", clean: false });
    const got = inbox(session);
    const granted = await session.subscribeAsync(["test/several/a/#", "test/several/b/#", "test/several/c"], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);
    const publisher = await service(node2);
    for (const topic of ["test/several/a/1", "test/several/b/1", "test/several/c"]) await publisher.publishAsync(topic, "x", { qos: 1 });
    await waitFor(() => got.length >= 3, 10_000, { what: "a message on each filter" });
    expect(got.map((m) => m.topic).sort()).toEqual(["test/several/a/1", "test/several/b/1", "test/several/c"]);
  });

  // The alerts failover relies on this takeover: the standby connects with the active service's client id on
  // any node, and aedes' `$SYS/<node>/new/clients` message, carried by mqemitter-redis, closes the old one.
  it("disconnects a client id on node 1 when the same client id connects on node 2", async () => {
    const old = await service(node1, { clientId: "ha-takeover" });
    const gone = closed(old);
    const taker = await service(node2, { clientId: "ha-takeover" });
    await gone;
    expect(old.connected).toBe(false);
    // The new connection stays: it still gets its own messages.
    const received = inbox(taker);
    await taker.subscribeAsync("test/takeover", { qos: 1 });
    await taker.publishAsync("test/takeover", "still here", { qos: 1 });
    await waitFor(() => received.length > 0, 10_000, { what: "the new connection's own message" });
    expect(taker.connected).toBe(true);
  });

  it("puts a device's QoS 1 publish in the stream before its PUBACK, and QoS 0 publishes and wills once each", async () => {
    const id = deviceIds[1]!;
    const client = await device(node2, id, { will: { topic: deviceTopic.status(id), payload: Buffer.from("will of ha-001"), qos: 1, retain: false } });
    await client.publishAsync(deviceTopic.telemetry(id), "qos1 reading", { qos: 1 });
    // Acknowledged means in Redis: no wait.
    const [acknowledged] = await entriesWith("qos1 reading");
    expect(acknowledged?.topic).toBe(deviceTopic.telemetry(id));
    await client.publishAsync(deviceTopic.telemetry(id), "qos0 reading", { qos: 0 });
    // A marker after them, on the same connection: appended in order, so once it is there a second copy of
    // either (the QoS 1 one through aedes' `publish` event) would be there too.
    await client.publishAsync(deviceTopic.events(id), "marker 1", { qos: 0 });
    await waitFor(async () => (await entriesWith("marker 1")).length > 0, 10_000, { what: "marker 1 in the stream" });
    expect(await entriesWith("qos1 reading")).toHaveLength(1);
    expect(await entriesWith("qos0 reading")).toHaveLength(1);
    expect((await entriesWith("qos0 reading"))[0]!.topic).toBe(deviceTopic.telemetry(id));

    // Killing the socket (no DISCONNECT) makes node 2 publish the will.
    client.stream.destroy();
    await waitFor(async () => (await entriesWith("will of ha-001")).length > 0, 10_000, { what: "the will in the stream" });
    const other = await device(node2, deviceIds[2]!);
    await other.publishAsync(deviceTopic.telemetry(deviceIds[2]!), "marker 2", { qos: 1 });
    await waitFor(async () => (await entriesWith("marker 2")).length > 0, 10_000, { what: "marker 2 in the stream" });
    const wills = await entriesWith("will of ha-001");
    expect(wills).toHaveLength(1);
    expect(wills[0]!.topic).toBe(deviceTopic.status(id));

    const text = await registry2.metrics();
    expect(text).toMatch(/campus_power_broker_cluster_node 1/);
    expect(text).toMatch(/campus_power_broker_stream_appends_total\{kind="device_qos1"\} [1-9]/);
    expect(text).toMatch(/campus_power_broker_stream_appends_total\{kind="will"\} [1-9]/);
  });

  it("appends a service's publish on a device topic, and not one on another topic", async () => {
    const admin = await service(node1);
    await admin.publishAsync(deviceTopic.telemetry(deviceIds[3]!), "replayed by a service", { qos: 1 });
    await admin.publishAsync("test/not-for-the-ingest", "not a device message", { qos: 1 });
    await admin.publishAsync(deviceTopic.telemetry(deviceIds[3]!), "marker 3", { qos: 1 });
    await waitFor(async () => (await entriesWith("marker 3")).length > 0, 10_000, { what: "marker 3 in the stream" });
    expect(await entriesWith("replayed by a service")).toHaveLength(1);
    expect(await entriesWith("not a device message")).toHaveLength(0);
  });

  it("never acknowledges a device while Redis is down, and takes its resend once Redis is back", async () => {
    const id = deviceIds[4]!;
    const before = await streamEntries();
    expect(before.length).toBeGreaterThan(0);
    const client = await device(node1, id);
    const pubacks: number[] = [];
    client.on("packetreceive", (packet) => packet.cmd === "puback" && pubacks.push(packet.messageId!));
    const gone = closed(client);
    await redis.stop();
    client.publish(deviceTopic.telemetry(id), "during the outage", { qos: 1 }, () => undefined);
    // The marker: node 1 closes the connection instead of acknowledging.
    await gone;
    expect(pubacks).toEqual([]);

    await redis.restart();
    // The device comes back (its nodes reconnect to Redis within their 2 s backoff) and sends again.
    const back = (await waitFor(() => device(node1, id).catch(() => null), 30_000, { what: "the device reconnected", intervalMs: 500 }))!;
    await back.publishAsync(deviceTopic.telemetry(id), "during the outage", { qos: 1 });
    const resent = await entriesWith("during the outage");
    expect(resent).toHaveLength(1);
    expect(resent[0]!.topic).toBe(deviceTopic.telemetry(id));
    // Everything appended before the restart is still there (AOF).
    const after = new Set((await streamEntries()).map((e) => e.id));
    expect(before.filter((e) => !after.has(e.id))).toEqual([]);
  }, 60_000);

  it(`moves ${FLEET} devices from a stopped node to another in under 10 s`, async () => {
    const { broker: node3 } = await startNode();
    const fleet = await Promise.all(
      deviceIds.map(async (id) => {
        const options = { will: { topic: deviceTopic.status(id), payload: Buffer.from("offline"), qos: 1 as const, retain: true } };
        const client = await device(node3, id, options);
        // As the simulator's devices do after every connect: their command topic, then "online" (retained).
        await client.subscribeAsync(deviceTopic.commands(id), { qos: 1 });
        await client.publishAsync(deviceTopic.status(id), "online", { qos: 1, retain: true });
        return { id, client, options };
      }),
    );
    const info = async () => Object.fromEntries((await reader.info("memory")).split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(":")));
    const memoryBefore = Number((await info()).used_memory);
    await node3.stop();
    await Promise.all(fleet.map(({ client }) => closed(client)));

    const started = performance.now();
    await Promise.all(
      fleet.map(async ({ id, options }) => {
        const client = await device(node2, id, options);
        await client.subscribeAsync(deviceTopic.commands(id), { qos: 1 });
      }),
    );
    const elapsedMs = performance.now() - started;
    const memoryAfter = Number((await info()).used_memory);
    // For the record (aedes-persistence-redis #45, Redis growth): the keys by kind.
    const kinds: Record<string, number> = {};
    for (const key of await reader.keys("*")) kinds[key.split(":")[0]!] = (kinds[key.split(":")[0]!] ?? 0) + 1;
    console.info(`ha-broker: ${FLEET} devices reconnected to node 2 in ${Math.round(elapsedMs)} ms; Redis used_memory ${memoryBefore} → ${memoryAfter} bytes, keys ${JSON.stringify(kinds)}`);
    expect(elapsedMs).toBeLessThan(10_000);
  }, 120_000);
});
