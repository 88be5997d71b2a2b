// Client ids and wills across broker nodes sharing one Redis (broker/cluster-client-ids.ts): the ownership of a
// client id holds on every node, and a node that crashes does not, 15–20 s later, have its devices' wills
// published for devices that are connected again. Real redis-server (AOF), two real aedes nodes in this process,
// a third in a child process that is killed with SIGKILL, real mqtt.js devices and services with real credentials.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { CLIENT_ID_KEY_PREFIX, CLIENT_LIVE_KEY_PREFIX } from "../../broker/cluster-client-ids.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { deviceTopic } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { buildRouter } from "../../ingest/routing.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "ha-broker-ids-group-key-0123456789";
const PASSWORD = "ha-broker-ids-service-password";
// Each test its own ids where it can: a hold released while an earlier test had Redis stopped may outlive that test.
const deviceIds = Array.from({ length: 7 }, (_, i) => `hid-${i}`);

const dir = mkdtempSync(join(tmpdir(), "campus-ha-broker-ids-"));
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
const children: ChildProcess[] = [];
const clients: MqttClient[] = [];
let node1: RunningBroker;
let node2: RunningBroker;

async function startNode(): Promise<RunningBroker> {
  const ctx = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
  const broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", redis: { url: redis.url, deviceFilters: buildRouter(campus).subscriptions } });
  nodes.push(broker);
  return broker;
}

/** A node in a child process (tests/integration/ha-broker-node.ts), to be crashed with SIGKILL. */
async function startChildNode(): Promise<{ child: ChildProcess; url: string; brokerId: string }> {
  const settings = { campusFile, dataDir: join(dir, "child"), redisUrl: redis.url, deviceGroupKey: KEY, servicePassword: PASSWORD };
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "ha-broker-node.ts")], {
    env: { PATH: process.env.PATH, HA_BROKER_NODE: JSON.stringify(settings) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const line = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`broker node exited (${child.exitCode}):\n${output}`);
    return output.split("\n").find((l) => l.startsWith("{"));
  }, 60_000, { what: "the child broker node listening" });
  const { port, brokerId } = JSON.parse(line!) as { port: number; brokerId: string };
  return { child, url: `mqtt://127.0.0.1:${port}`, brokerId };
}

const urlOf = (broker: RunningBroker) => `mqtt://127.0.0.1:${broker.tcpPort}`;

/** Resolves on CONNACK 0; rejects on a refusal and on a connection closed without a CONNACK (a node waiting for Redis). */
async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
    client.once("close", () => reject(new Error("closed without a CONNACK")));
  });
  return client;
}
const service = (url: string, options: IClientOptions = {}) => connect(url, { username: "campus-service", password: PASSWORD, ...options });
const deviceLogin = (id: string): IClientOptions => ({ username: id, password: devicePassword(id, KEY), clientId: id });
const device = (url: string, id: string, options: IClientOptions = {}) => connect(url, { ...deviceLogin(id), ...options });
/** The CONNACK return code of a refused CONNECT (undefined: it was accepted). */
const refusal = (url: string, options: IClientOptions) =>
  connect(url, options).then(
    () => undefined,
    (error: { code?: number }) => error.code,
  );

function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const received: { topic: string; payload: string }[] = [];
  client.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
  return received;
}
const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));

/** A service's own round trip: proves its connection still works. */
async function roundTrip(client: MqttClient, topic: string): Promise<void> {
  const received = inbox(client);
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, "still connected", { qos: 1 });
  await waitFor(() => received.some((m) => m.topic === topic), 10_000, { what: `the round trip on ${topic}` });
}

/** The retained status of a device, as a new subscriber on `url` gets it. */
async function retainedStatus(url: string, id: string): Promise<string | undefined> {
  const watcher = await service(url);
  const received = inbox(watcher);
  await watcher.subscribeAsync(deviceTopic.status(id), { qos: 1 });
  await waitFor(() => received.length > 0, 10_000, { what: `the retained status of ${id}` });
  await watcher.endAsync();
  return received[0]?.payload;
}

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, "redis") });
  reader = new Redis(redis.url, { maxRetriesPerRequest: null });
  reader.on("error", () => undefined); // Redis is stopped on purpose in one test
  node1 = await startNode();
  node2 = await startNode();
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(nodes.map((n) => n.stop()));
  reader?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("client ids held across broker nodes", () => {
  it("refuses a device on node 2 the alerts service's persistent client id held on node 1, and keeps the service", async () => {
    const alerts = await service(urlOf(node1), { clientId: "campus-alerts", clean: false });
    let alertsClosed = false;
    alerts.on("close", () => (alertsClosed = true));
    const squatter = deviceLogin(deviceIds[0]!);
    expect(await refusal(urlOf(node2), { ...squatter, clientId: "campus-alerts", clean: false })).toBe(2);
    expect(await refusal(urlOf(node2), { ...squatter, clientId: "campus-alerts", clean: true })).toBe(2);
    // The marker: the service's own round trip, after both refusals.
    await roundTrip(alerts, "test/ids/alerts-alive");
    expect(alertsClosed).toBe(false);
    expect(await reader.get(CLIENT_ID_KEY_PREFIX + "campus-alerts")).toBe("campus-service");

    // Disconnected, the persistent session's id stays the service's on every node.
    await alerts.endAsync();
    expect(await refusal(urlOf(node1), { ...squatter, clientId: "campus-alerts", clean: false })).toBe(2);
  });

  it("lets the service account take a client id over from another node", async () => {
    const first = await service(urlOf(node1), { clientId: "campus-alerts", clean: false });
    const gone = closed(first);
    // A device squats on nothing here: the service itself (a standby taking over) connects on node 2.
    const taker = await service(urlOf(node2), { clientId: "campus-alerts", clean: false });
    await gone;
    await roundTrip(taker, "test/ids/taker-alive");
    expect(taker.connected).toBe(true);
  });

  it("lets the service account take over a device's client id (privileged)", async () => {
    const id = deviceIds[1]!;
    const owner = await device(urlOf(node1), id);
    const gone = closed(owner);
    const admin = await service(urlOf(node2), { clientId: id });
    await gone;
    await roundTrip(admin, "test/ids/admin-alive");
  });

  it("lets a device reconnect with its own id on the other node", async () => {
    const id = deviceIds[2]!;
    const first = await device(urlOf(node1), id);
    const gone = closed(first);
    const again = await device(urlOf(node2), id);
    await gone;
    await again.publishAsync(deviceTopic.status(id), "online", { qos: 1 });
    expect(again.connected).toBe(true);
    expect(await reader.get(CLIENT_LIVE_KEY_PREFIX + id)).toMatch(new RegExp(`^${node2.aedes.id} `));
  });

  it("holds a clean-session id only while it is connected", async () => {
    const id = deviceIds[3]!;
    const other = deviceLogin(deviceIds[4]!);
    const owner = await device(urlOf(node1), id);
    expect(await refusal(urlOf(node2), { ...other, clientId: id })).toBe(2);
    await owner.endAsync();
    // The release is sent when node 1 sees the socket close.
    await waitFor(async () => (await reader.exists(CLIENT_ID_KEY_PREFIX + id, CLIENT_LIVE_KEY_PREFIX + id)) === 0, 10_000, { what: "the hold released" });
    expect(await refusal(urlOf(node2), { ...other, clientId: id })).toBeUndefined();
  });

  it("closes a CONNECT without CONNACK while Redis cannot say who holds the client id", async () => {
    const id = deviceIds[5]!;
    await redis.stop();
    try {
      // No CONNACK at all, as for a network failure: after a CONNACK refusal mqtt.js never tries again.
      const attempt = mqtt.connect(urlOf(node1), { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...deviceLogin(id) });
      clients.push(attempt);
      const outcome = await new Promise<string>((resolve) => {
        attempt.once("connect", () => resolve("connected"));
        attempt.once("error", (error: Error & { code?: unknown }) => resolve(`CONNACK ${String(error.code)}`));
        attempt.once("close", () => resolve("closed without CONNACK"));
      });
      expect(outcome).toBe("closed without CONNACK");
    } finally {
      await redis.restart();
    }
    // The device retries and gets in once the node's connections are back (2 s backoff at most).
    await waitFor(() => device(urlOf(node1), id).catch(() => null), 30_000, { what: "the device connected after Redis came back", intervalMs: 500 });
  }, 60_000);
});

describe("wills of a connection taken over from another node", () => {
  it("drops the old connection's will once the device is connected on the other node", async () => {
    const id = deviceIds[6]!;
    const will: IClientOptions = { will: { topic: deviceTopic.status(id), payload: Buffer.from("offline"), qos: 1, retain: true } };
    const watcher = await service(urlOf(node1));
    const statuses = inbox(watcher);
    await watcher.subscribeAsync(deviceTopic.status(id), { qos: 1 });
    const old = await device(urlOf(node1), id, will);
    old.on("error", () => undefined);
    const gone = closed(old);
    const again = await device(urlOf(node2), id, will);
    await again.publishAsync(deviceTopic.status(id), "online", { qos: 1, retain: true });
    await gone;
    // Node 1 deletes the old will after deciding on it, either way; a marker published on node 1 after that
    // reaches the watcher after the will would have.
    await waitFor(async () => (await reader.exists(`will:${node1.aedes.id}:${id}`)) === 0, 10_000, { what: "the old will decided on" });
    const marker = await service(urlOf(node1));
    await marker.publishAsync(deviceTopic.status(id), "marker", { qos: 1 });
    await waitFor(() => statuses.some((m) => m.payload === "marker"), 10_000, { what: "the marker" });
    expect(statuses.map((m) => m.payload).filter((p) => p === "offline")).toEqual([]);
    expect(await retainedStatus(urlOf(node2), id)).toBe("online");
    // A real disconnect of the new connection still publishes its will.
    again.stream.destroy();
    await waitFor(() => statuses.some((m) => m.payload === "offline"), 10_000, { what: "the will of the closed connection" });
  });
});

describe("wills of a crashed broker node", () => {
  it("does not publish the will of a device connected again elsewhere, and publishes the others", async () => {
    const crashed = await startChildNode();
    const [movedToNode2, movedToNode1, gone] = [deviceIds[0]!, deviceIds[1]!, deviceIds[2]!];
    const will = (id: string): IClientOptions => ({ will: { topic: deviceTopic.status(id), payload: Buffer.from("offline"), qos: 1, retain: true } });
    // As the simulator's devices do: a retained "offline" will, then "online" (retained) after every connect.
    for (const id of [movedToNode2, movedToNode1, gone]) {
      const client = await device(crashed.url, id, { ...will(id), keepalive: 0 });
      await client.publishAsync(deviceTopic.status(id), "online", { qos: 1, retain: true });
      client.on("error", () => undefined);
    }
    const watcher = await service(urlOf(node1));
    const statuses = inbox(watcher);
    await watcher.subscribeAsync("campus/devices/+/status", { qos: 1 });
    await waitFor(() => statuses.length >= 3, 10_000, { what: "the three retained online statuses" });
    statuses.length = 0;

    crashed.child.kill("SIGKILL");
    // Both moved devices come back at once, one on each surviving node: for whichever node sweeps the dead
    // node's wills, one of them is connected on that very node and the other on the other one.
    const onNode2 = await waitFor(() => device(urlOf(node2), movedToNode2, will(movedToNode2)).catch(() => null), 30_000, { what: "reconnected to node 2", intervalMs: 200 });
    const onNode1 = await waitFor(() => device(urlOf(node1), movedToNode1, will(movedToNode1)).catch(() => null), 30_000, { what: "reconnected to node 1", intervalMs: 200 });
    await onNode2!.publishAsync(deviceTopic.status(movedToNode2), "online", { qos: 1, retain: true });
    await onNode1!.publishAsync(deviceTopic.status(movedToNode1), "online", { qos: 1, retain: true });

    // The marker: the will of the device that did not come back, published once a node has found the dead one
    // (silent for 3 heartbeats of 5 s, looked for every 20 s). Its will was stored after the others', and one
    // sweep takes the stored wills in order, one after the other.
    await waitFor(() => statuses.some((m) => m.topic === deviceTopic.status(gone) && m.payload === "offline"), 90_000, { what: "the will of the device that did not come back", intervalMs: 500 });
    const stale = statuses.filter((m) => m.topic !== deviceTopic.status(gone) && m.payload === "offline");
    expect(stale).toEqual([]);
    expect(await retainedStatus(urlOf(node2), movedToNode2)).toBe("online");
    expect(await retainedStatus(urlOf(node1), movedToNode1)).toBe("online");
    expect(await retainedStatus(urlOf(node1), gone)).toBe("offline");
    // Deleted, not just skipped: no later sweep (of either node) can publish them.
    for (const id of [movedToNode2, movedToNode1]) expect(await reader.exists(`will:${crashed.brokerId}:${encodeURIComponent(id)}`)).toBe(0);
    // The moved devices' own wills, under their new nodes, are still there for their next disconnect.
    expect(await reader.exists(`will:${node2.aedes.id}:${movedToNode2}`)).toBe(1);
    expect(await reader.exists(`will:${node1.aedes.id}:${movedToNode1}`)).toBe(1);
  }, 150_000);
});
