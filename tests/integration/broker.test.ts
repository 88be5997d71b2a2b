// The real broker on ephemeral ports, real mqtt.js clients with real credentials (MQTT 3.1.1).
import { connect as connectTcp } from "node:net";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import { createRegistry } from "../../infra/metrics.js";
import { finishesWithin } from "../../infra/timeout.js";
import {
  broker, clients, connect, ctx, device, GROUP_KEY, inbox, MAX_PACKET_BYTES, refusalCode, SERVICE_PASSWORD, service, settle, useTestBroker, waitForClose,
} from "../helpers/broker.js";

useTestBroker();

/** The counters the metrics test checks, with the labels of the series it moves. */
const COUNTED: [string, Record<string, string>][] = [
  ["campus_power_broker_connections_total", { transport: "tcp" }],
  ["campus_power_broker_connections_total", { transport: "ws" }],
  ["campus_power_broker_auth_failures_total", { reason: "bad_password" }],
  ["campus_power_broker_auth_failures_total", { reason: "identifier_rejected" }],
  ["campus_power_broker_auth_failures_total", { reason: "client_id_in_use" }],
  ["campus_power_broker_messages_published_total", { account: "device" }],
  ["campus_power_broker_published_bytes_total", { account: "device" }],
  ["campus_power_broker_publishes_denied_total", { account: "device" }],
  ["campus_power_broker_subscriptions_denied_total", { account: "device" }],
  ["campus_power_broker_packets_refused_total", { reason: "too-large" }],
];

/** The value of a series of the broker's registry (0 before its first count). */
async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = ctx.metrics.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

/**
 * A CONNECT written by hand (mqtt.js will not encode it): MQTT 3.1.1, CleanSession 0, user name and
 * password flags set, keep-alive 30 s, a zero-length client id [MQTT-3.1.3-8]. Resolves with the reply bytes once closed.
 */
async function connectWithEmptyIdAndPersistentSession(): Promise<{ bytes: Buffer; closed: boolean }> {
  const field = (text: string) => {
    const bytes = Buffer.from(text);
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  };
  const body = Buffer.concat([field("MQTT"), Buffer.from([0x04, 0xc0, 0x00, 0x1e]), field(""), field("brk-d1-101"), field(devicePassword("brk-d1-101", GROUP_KEY))]);
  const socket = connectTcp(broker.tcpPort, "127.0.0.1");
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    socket.on("data", (chunk) => (bytes = Buffer.concat([bytes, chunk])));
    socket.on("close", () => resolve({ bytes, closed: true }));
    socket.on("error", reject);
    socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
  });
}

describe("broker authentication", () => {
  it("accepts a device with the HMAC password of its id", async () => {
    const client = await device("brk-d1-101");
    expect(client.connected).toBe(true);
  });

  it("refuses a wrong password with CONNACK 4", async () => {
    expect(await refusalCode({ username: "brk-d1-101", password: "wrong" })).toBe(4);
  });

  it("refuses a client without credentials with CONNACK 5", async () => {
    expect(await refusalCode({})).toBe(5);
  });

  it("refuses an unknown user name with CONNACK 4", async () => {
    expect(await refusalCode({ username: "no-such-device", password: devicePassword("no-such-device", GROUP_KEY) })).toBe(4);
  });

  it("accepts a device with its own secret and refuses the fleet HMAC for it", async () => {
    expect((await connect({ username: "plug-c1-own", password: "password" })).connected).toBe(true);
    expect(await refusalCode({ username: "plug-c1-own", password: devicePassword("plug-c1-own", GROUP_KEY) })).toBe(4);
  });

  it("refuses an empty client id with a persistent session with CONNACK 2 on the wire", async () => {
    const reply = await connectWithEmptyIdAndPersistentSession();
    // CONNACK: type 2, remaining length 2, session present 0, return code 2 (identifier rejected); then closed.
    expect([...reply.bytes]).toEqual([0x20, 0x02, 0x00, 0x02]);
    expect(reply.closed).toBe(true);
  });

  it("refuses a device that reuses a connected service's client id with CONNACK 2", async () => {
    const ingest = await connect({ username: "campus-service", password: SERVICE_PASSWORD, clientId: "ingest-main" });
    expect(await refusalCode({ username: "brk-d1-101", password: devicePassword("brk-d1-101", GROUP_KEY), clientId: "ingest-main" })).toBe(2);
    // The marker: a round trip on the first connection after the refusal (a taken-over session gets no PUBACK).
    expect(await finishesWithin(ingest.publishAsync("test/still-connected", "x", { qos: 1 }), 5_000)).toBe(true);
    expect(ingest.connected).toBe(true);
  });

  it("accepts an empty client id with a clean session", async () => {
    const client = await device("brk-d1-102", { clientId: "", clean: true });
    expect(client.connected).toBe(true);
  });

  it("accepts an authenticated device over WebSocket on /mqtt", async () => {
    const client = await device("brk-d1-101", { url: `ws://127.0.0.1:${broker.wsPort}/mqtt` });
    expect(client.connected).toBe(true);
    await client.publishAsync("campus/devices/brk-d1-101/telemetry", '{"power_w":1}', { qos: 1 });
  });

  it("refuses WebSocket upgrades on other paths with 404", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${broker.wsPort}/other`, "mqtt");
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      socket.on("open", () => resolve(101));
      socket.on("error", () => resolve(undefined));
    });
    socket.terminate();
    expect(status).toBe(404);
  });
});

describe("broker authorization", () => {
  it("delivers a device's own telemetry to the service account", async () => {
    const watcher = await service();
    const received = inbox(watcher);
    await watcher.subscribeAsync("#", { qos: 1 });
    const client = await device("brk-d1-101");
    await client.publishAsync("campus/devices/brk-d1-101/telemetry", '{"current_a":3}', { qos: 1 });
    await settle(received);
    expect(received).toContainEqual({ topic: "campus/devices/brk-d1-101/telemetry", payload: '{"current_a":3}' });
  });

  it("refuses a device that publishes as another device", async () => {
    const watcher = await service();
    const received = inbox(watcher);
    await watcher.subscribeAsync("#", { qos: 1 });
    const client = await device("brk-d1-101");
    client.publish("campus/devices/brk-d1-102/telemetry", '{"current_a":99}', { qos: 0 });
    await waitForClose(client); // MQTT-3.3.5-2: closed without a reply
    await settle(received);
    expect(received.map((m) => m.topic)).not.toContain("campus/devices/brk-d1-102/telemetry");
  });

  it("refuses a device that publishes to campus/alerts", async () => {
    const watcher = await service();
    const received = inbox(watcher);
    await watcher.subscribeAsync("campus/alerts/#", { qos: 1 });
    await watcher.subscribeAsync("test/settle/#", { qos: 1 });
    const client = await device("brk-d1-101");
    client.publish("campus/alerts/brk-d1-101/overload", "{}", { qos: 1, retain: true });
    await waitForClose(client);
    await settle(received);
    expect(received.map((m) => m.topic)).not.toContain("campus/alerts/brk-d1-101/overload");
  });

  it("answers a subscription to another device's commands with SUBACK 0x80", async () => {
    const client = await device("brk-d1-101");
    // mqtt.js rejects a SUBACK holding 0x80 and attaches the packet, which shows the per-filter codes.
    const error = (await client.subscribeAsync(["campus/devices/brk-d1-102/commands", "campus/devices/brk-d1-101/commands"], { qos: 1 }).then(
      () => null,
      (e: unknown) => e,
    )) as { packet?: { granted: number[] } } | null;
    expect(error?.packet?.granted).toEqual([128, 1]);
    expect(client.connected).toBe(true);
    const alone = (await client.subscribeAsync("campus/devices/brk-d1-102/commands", { qos: 0 }).catch((e: unknown) => e)) as { packet?: { granted: number[] } };
    expect(alone.packet?.granted).toEqual([128]);
  });

  it("grants a device its own commands and delivers them", async () => {
    const client = await device("brk-d1-102");
    const granted = await client.subscribeAsync("campus/devices/brk-d1-102/commands", { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    const received = inbox(client);
    const admin = await service();
    await admin.publishAsync("campus/devices/brk-d1-102/commands", '{"action":"switch_off"}', { qos: 1 });
    await expect.poll(() => received.length).toBe(1);
  });

  it("lets a tasmota device publish tele/{source}/SENSOR but not another source's topic", async () => {
    const watcher = await service();
    const received = inbox(watcher);
    await watcher.subscribeAsync("#", { qos: 1 });
    const plug = await device("plug-d1-101-a");
    await plug.publishAsync("tele/tasmota_5A1B2C/SENSOR", '{"ENERGY":{"Power":5}}', { qos: 1 });
    plug.publish("tele/tasmota_OTHER/SENSOR", '{"ENERGY":{"Power":500}}', { qos: 0 });
    await waitForClose(plug);
    await settle(received);
    const topics = received.map((m) => m.topic);
    expect(topics).toContain("tele/tasmota_5A1B2C/SENSOR");
    expect(topics).not.toContain("tele/tasmota_OTHER/SENSOR");
  });

  it("lets the service account subscribe to # and publish anywhere", async () => {
    const watcher = await service();
    const received = inbox(watcher);
    expect((await watcher.subscribeAsync("#", { qos: 1 })).map((g) => g.qos)).toEqual([1]);
    const admin = await service();
    await admin.publishAsync("campus/alerts/brk-d1-101/overload", '{"state":"firing"}', { qos: 1 });
    await admin.publishAsync("campus/internal/readings/brk-d1-101", "{}", { qos: 1 });
    await expect.poll(() => received.map((m) => m.topic)).toEqual(expect.arrayContaining(["campus/alerts/brk-d1-101/overload", "campus/internal/readings/brk-d1-101"]));
    await admin.publishAsync("campus/alerts/brk-d1-101/overload", "", { qos: 1, retain: true }); // clear the retained alert
  });

  it("refuses a last will on a topic the device may not publish to with CONNACK 5", async () => {
    const code = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: "will-test",
        username: "brk-d1-101",
        password: devicePassword("brk-d1-101", GROUP_KEY),
        will: { topic: "campus/devices/brk-d1-102/status", payload: Buffer.from("offline"), qos: 1, retain: true },
      })
      .then(
        (c) => (clients.push(c), undefined),
        (e: { code?: number }) => e.code,
      );
    expect(code).toBe(5);
  });

  it("closes the connection of a client that sends a packet above the size limit", async () => {
    const watcher = await service();
    const received = inbox(watcher);
    await watcher.subscribeAsync("#", { qos: 1 });
    const client = await device("brk-d1-101");
    client.publish("campus/devices/brk-d1-101/telemetry", Buffer.alloc(MAX_PACKET_BYTES + 1, 0x20), { qos: 0 });
    await waitForClose(client);
    await settle(received);
    expect(received.filter((m) => m.topic === "campus/devices/brk-d1-101/telemetry" && m.payload.length > MAX_PACKET_BYTES)).toEqual([]);
  });
});

describe("broker metrics and lifecycle", () => {
  it("counts the connections, refusals, publishes and denials it sees", async () => {
    const counted = async () => Object.fromEntries(await Promise.all(COUNTED.map(async ([name, labels]) => [`${name}${JSON.stringify(labels)}`, await metricValue(name, labels)] as const)));
    const before = await counted();
    const client = await device("brk-d1-101");
    await device("brk-d1-102", { url: `ws://127.0.0.1:${broker.wsPort}/mqtt` });
    await client.publishAsync("campus/devices/brk-d1-101/status", "online", { qos: 1 });
    await client.subscribeAsync("campus/devices/brk-d1-102/commands", { qos: 1 }).catch(() => undefined); // SUBACK 0x80
    await refusalCode({ username: "brk-d1-101", password: "wrong" });
    await connectWithEmptyIdAndPersistentSession();
    await connect({ username: "campus-service", password: SERVICE_PASSWORD, clientId: "metrics-owner" });
    await refusalCode({ username: "brk-d1-102", password: devicePassword("brk-d1-102", GROUP_KEY), clientId: "metrics-owner" });
    const impostor = await device("brk-d1-102");
    impostor.publish("campus/devices/brk-d1-101/telemetry", "{}", { qos: 0 });
    await waitForClose(impostor);
    const oversized = await device("brk-d1-102");
    oversized.publish("campus/devices/brk-d1-102/telemetry", Buffer.alloc(MAX_PACKET_BYTES + 1, 0x20), { qos: 0 });
    await waitForClose(oversized);
    const expected: Record<string, number> = {
      'campus_power_broker_connections_total{"transport":"tcp"}': 4,
      'campus_power_broker_connections_total{"transport":"ws"}': 1,
      'campus_power_broker_auth_failures_total{"reason":"bad_password"}': 1,
      'campus_power_broker_auth_failures_total{"reason":"identifier_rejected"}': 1,
      'campus_power_broker_auth_failures_total{"reason":"client_id_in_use"}': 1,
      'campus_power_broker_messages_published_total{"account":"device"}': 1,
      'campus_power_broker_published_bytes_total{"account":"device"}': "online".length,
      'campus_power_broker_publishes_denied_total{"account":"device"}': 1,
      'campus_power_broker_subscriptions_denied_total{"account":"device"}': 1,
      'campus_power_broker_packets_refused_total{"reason":"too-large"}': 1,
    };
    // Polled: aedes counts a publish after it has acknowledged it, and a closed client after its socket closed.
    await expect.poll(async () => {
      const after = await counted();
      return Object.fromEntries(Object.keys(expected).map((key) => [key, after[key]! - before[key]!]));
    }).toEqual(expected);
    // The gauge follows aedes' own count: at least this test's device, WebSocket device and metrics-owner.
    expect(broker.aedes.connectedClients).toBeGreaterThanOrEqual(3);
    await expect.poll(() => metricValue("campus_power_broker_connected_clients")).toBe(broker.aedes.connectedClients);
  });

  it("stops within a few seconds with clients still connected, and stopping twice is harmless", async () => {
    const own = await startBroker({ ...ctx, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1" });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${own.tcpPort}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      username: "campus-service",
      password: SERVICE_PASSWORD,
    });
    clients.push(client);
    const idle = connectTcp(own.tcpPort, "127.0.0.1"); // connected but never sends CONNECT
    await new Promise((resolve) => idle.once("connect", resolve));
    const started = Date.now();
    await Promise.all([own.stop(), own.stop()]);
    await own.stop();
    expect(Date.now() - started).toBeLessThan(3_000);
    idle.destroy();
  });
});
