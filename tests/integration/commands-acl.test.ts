// The broker's ACL for remote switching (CONTRACT §10), with real mqtt.js clients and real credentials against
// the real broker: a device reads only its own commands, publishes only its own confirmations in its format,
// and no one but the service account commands. Commands are the product's own (`commandMessage`).
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import type { Device } from "../../domain/campus.js";
import type { Command } from "../../domain/command.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { commandMessage } from "../../domain/formats/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { finishesWithin } from "../../infra/timeout.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "commands-acl-group-key-0123456789";
const PASSWORD = "commands-acl-service-password";
// Two devices of every format: each has a neighbour whose commands and confirmations are not its own.
const campus = loadCampus(join(import.meta.dirname, "../fixtures/formats/two-of-each.yaml"));
const device = (id: string): Device => campus.deviceById.get(id)!;
/** The neighbour of each device: the other one of its format. */
const PAIRS = [["brk-1", "brk-2"], ["tas-1", "tas-2"], ["sh1-1", "sh1-2"], ["sh2-1", "sh2-2"], ["z-1", "z-2"]] as const;

let broker: RunningBroker;
const clients: MqttClient[] = [];
let seq = 0;
let rpcId = 0;

async function connect(username: string, password: string, clientId = `acl-${++seq}`): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, { protocolVersion: 4, clientId, username, password, reconnectPeriod: 0, clean: true });
  clients.push(client);
  return client;
}
const asDevice = (id: string) => connect(id, devicePassword(id, KEY));
const asService = () => connect("campus-service", PASSWORD);

const command = (action: Command["action"], id = `cmd-${++seq}`) => ({ id, action, issued_by: "operator:ab12", expires_at: new Date(Date.now() + 30_000).toISOString() });
/** The product's command for a device, published as the product publishes it (its own QoS and retain flag). */
async function sendCommand(service: MqttClient, id: string, action: Command["action"]) {
  const message = commandMessage(device(id), command(action), ++rpcId);
  await service.publishAsync(message.topic, message.payload, { qos: message.qos, retain: message.retain });
  return message;
}

/** What a client receives, in order, with the RETAIN flag as delivered. */
function inbox(client: MqttClient) {
  const received: { topic: string; payload: string; retain: boolean }[] = [];
  client.on("message", (topic, payload, packet) => received.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return received;
}

/** SUBACK return codes for these filters (mqtt.js rejects a SUBACK holding 0x80 and attaches the packet). */
async function granted(client: MqttClient, filters: string[]): Promise<number[]> {
  const answer = await client.subscribeAsync(filters, { qos: 1 }).then(
    (grants) => grants.map((g) => g.qos),
    (error: { packet?: { granted: number[] } }) => error.packet?.granted ?? [],
  );
  return answer;
}

const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));

beforeAll(async () => {
  const env = readEnv({ DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, LOG_LEVEL: "silent" });
  broker = await startBroker({ env, campus, log: createLogger("silent"), metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});
afterAll(async () => broker?.stop());

describe("remote switching through the broker's ACL", () => {
  it("answers a subscription to another device's command topic with SUBACK 0x80, in every format, and grants its own", async () => {
    for (const [mine, theirs] of PAIRS) {
      const client = await asDevice(mine);
      const own = commandMessage(device(mine), command("switch_off"), 1).topic;
      const other = commandMessage(device(theirs), command("switch_off"), 1).topic;
      expect(await granted(client, [other, own]), mine).toEqual([0x80, 1]);
      expect(client.connected, mine).toBe(true); // a refused filter does not cost the connection
    }
    const tasmota = await asDevice("tas-1");
    expect(await granted(tasmota, ["cmnd/tasmota_B2/#", "cmnd/tasmota_A1/#"])).toEqual([0x80, 1]);
    // Nor may anyone read a Shelly Gen2 device's RPC replies, its own included: they are the product's.
    const gen2 = await asDevice("sh2-1");
    expect(await granted(gen2, ["campus-power/sh2-2/rpc", "campus-power/sh2-1/rpc", "campus-power/#"])).toEqual([0x80, 0x80, 0x80]);
  });

  it("delivers the command the service account publishes to the device it is for, in every format, and not to its neighbour", async () => {
    const service = await asService();
    for (const [mine, theirs] of PAIRS) {
      const target = await asDevice(mine);
      const neighbour = await asDevice(theirs);
      const targetInbox = inbox(target);
      const neighbourInbox = inbox(neighbour);
      await target.subscribeAsync(commandMessage(device(mine), command("switch_off"), 1).topic, { qos: 1 });
      await neighbour.subscribeAsync(commandMessage(device(theirs), command("switch_off"), 1).topic, { qos: 1 });
      const sent = await sendCommand(service, mine, "switch_off");
      const marker = await sendCommand(service, theirs, "switch_on"); // after the one the neighbour must not get
      await waitFor(() => targetInbox.length === 1 && neighbourInbox.length === 1, 5_000, { what: `${mine}'s command and ${theirs}'s marker` });
      expect(targetInbox, mine).toEqual([{ topic: sent.topic, payload: sent.payload, retain: false }]);
      expect(neighbourInbox, theirs).toEqual([{ topic: marker.topic, payload: marker.payload, retain: false }]);
    }
  });

  it("lets a Shelly Gen2 device answer on its own reply topic, and disconnects one that answers for another", async () => {
    const service = await asService();
    const replies = inbox(service);
    await service.subscribeAsync("campus-power/+/rpc", { qos: 1 });
    const honest = await asDevice("sh2-1");
    await honest.publishAsync("campus-power/sh2-1/rpc", '{"id":1,"result":{"was_on":true}}', { qos: 1 });
    const forger = await asDevice("sh2-2");
    forger.publish("campus-power/sh2-1/rpc", '{"id":2,"result":{"was_on":true}}', { qos: 1 });
    expect(await finishesWithin(closed(forger), 5_000)).toBe(true); // [MQTT-3.3.5-2] closed without a reply
    await honest.publishAsync("campus-power/sh2-1/rpc", '{"id":3,"result":{"was_on":false}}', { qos: 1 }); // the marker
    await waitFor(() => replies.length >= 2, 5_000, { what: "the honest replies" });
    expect(replies.map((r) => JSON.parse(r.payload).id)).toEqual([1, 3]);
  });

  it("disconnects a device that publishes another device's confirmation, in Tasmota, native and Shelly Gen2 formats", async () => {
    const service = await asService();
    const watched = inbox(service);
    await service.subscribeAsync(["stat/#", "campus/devices/+/events", "campus-power/#", "test/marker"], { qos: 1 });
    const forgeries: [string, string, string][] = [
      ["tas-2", "stat/tasmota_A1/POWER", "ON"],
      ["tas-2", "stat/tasmota_A1/RESULT", '{"POWER":"ON"}'],
      ["brk-2", "campus/devices/brk-1/events", '{"type":"switch","reason":"remote","detail":"cmd-1"}'],
      ["sh2-1", "campus-power/sh2-2/rpc", '{"id":1,"result":{"was_on":true}}'],
      ["sh2-1", "campus-power/brk-1/rpc", '{"id":1,"result":{"was_on":true}}'],
      ["brk-2", "campus-power/brk-2/rpc", '{"id":1,"result":{"was_on":true}}'], // only Shelly Gen2 devices reply there
    ];
    for (const [forger, topic, payload] of forgeries) {
      const client = await asDevice(forger);
      client.publish(topic, payload, { qos: 1 });
      expect(await finishesWithin(closed(client), 5_000), `${forger} → ${topic}`).toBe(true);
    }
    // The devices' own confirmations still go through; then the marker, after which nothing else may come.
    const tasmota = await asDevice("tas-1");
    await tasmota.publishAsync("stat/tasmota_A1/POWER", "OFF", { qos: 1 });
    const native = await asDevice("brk-1");
    await native.publishAsync("campus/devices/brk-1/events", '{"type":"switch","reason":"remote","detail":"cmd-9"}', { qos: 1 });
    await service.publishAsync("test/marker", "x", { qos: 1 });
    await waitFor(() => watched.some((m) => m.topic === "test/marker"), 5_000, { what: "the marker" });
    expect(watched.map((m) => [m.topic, m.payload])).toEqual([
      ["stat/tasmota_A1/POWER", "OFF"],
      ["campus/devices/brk-1/events", '{"type":"switch","reason":"remote","detail":"cmd-9"}'],
      ["test/marker", "x"],
    ]);
  });

  it("disconnects a device that publishes a command, its own or another's, in every format", async () => {
    for (const [mine, theirs] of PAIRS) {
      for (const target of [mine, theirs]) {
        const client = await asDevice(mine);
        const message = commandMessage(device(target), command("switch_off"), 1);
        client.publish(message.topic, message.payload, { qos: 1 });
        expect(await finishesWithin(closed(client), 5_000), `${mine} → ${message.topic}`).toBe(true);
      }
    }
  });

  it("never hands a device an earlier command when it (re)subscribes: the product's commands are not retained", async () => {
    const service = await asService();
    for (const [id] of PAIRS) {
      const first = await asDevice(id);
      await first.subscribeAsync(commandMessage(device(id), command("switch_off"), 1).topic, { qos: 1 });
      const early = await sendCommand(service, id, "switch_off");
      expect(early.retain).toBe(false);
      await first.endAsync(true);
      // The device comes back (a reboot, a Wi-Fi drop) and subscribes again: what it gets first is the marker.
      const again = await asDevice(id);
      const received = inbox(again);
      await again.subscribeAsync(early.topic, { qos: 1 });
      const marker = await sendCommand(service, id, "switch_on");
      await waitFor(() => received.length > 0, 5_000, { what: `${id}'s marker command` });
      expect(received[0], id).toEqual({ topic: marker.topic, payload: marker.payload, retain: false });
    }
  });
});
