// The simulator against the real broker (per-device credentials and ACLs), observed by the service account.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { type Campus } from "../../domain/campus.js";
import { loadCampus } from "../../infra/campus-file.js";
import { DEMO_CAMPUS_FILE, readEnv } from "../../domain/env.js";
import { parseTelemetry } from "../../domain/reading.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { startSimulator } from "../../simulator/index.js";
import { waitFor } from "../helpers/wait.js";

const GROUP_KEY = "simulator-group-key-0123456789";
const SERVICE_PASSWORD = "simulator-service-password";
// The brokers' journals in a temporary folder, not in the project's ./data.
const DATA_DIR = mkdtempSync(join(tmpdir(), "campus-simulator-test-"));
const env = readEnv({ DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, API_TOKENS: "admin:simulator-admin-token-0123", LOG_LEVEL: "silent", DATA_DIR });
const demo = loadCampus(DEMO_CAMPUS_FILE);
const fixture = loadCampus("tests/fixtures/test-campus.yaml");
// One broker whose campus knows both files' devices would need a merged file; one broker per campus is simpler.
const brokers = new Map<Campus, RunningBroker>();
const observers: MqttClient[] = [];

beforeAll(async () => {
  for (const campus of [demo, fixture]) {
    const ctx: ServiceContext = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
    brokers.set(campus, await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1" }));
  }
});
afterAll(async () => {
  await Promise.all(observers.map((c) => c.endAsync(true)));
  await Promise.all([...brokers.values()].map((b) => b.stop()));
});

const urlOf = (campus: Campus) => `mqtt://127.0.0.1:${brokers.get(campus)!.tcpPort}`;
let observerSeq = 0;

/** A service-account subscriber collecting every message (retained ones first) on the filters. */
async function observe(campus: Campus, filters: string[]) {
  const client = await connectService(urlOf(campus), SERVICE_PASSWORD, `sim-observer-${++observerSeq}`);
  observers.push(client);
  const messages: { topic: string; payload: string; retain: boolean; at: number }[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() }));
  await client.subscribeAsync(filters, { qos: 1 });
  return messages;
}

/** The retained status of every device, as a fresh subscriber sees it. */
async function retainedStatuses(campus: Campus): Promise<Map<string, string>> {
  const messages = await observe(campus, ["campus/devices/+/status", "tele/+/LWT"]);
  const expected = campus.devices.filter((d) => d.secret_sha256 === undefined).length;
  await waitFor(() => messages.length >= expected, 3_000);
  return new Map(messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
}

const statusTopic = (d: Campus["devices"][number]) => (d.format === "tasmota" ? `tele/${d.source}/LWT` : `campus/devices/${d.id}/status`);

describe("simulator with the real broker", () => {
  it("connects every demo device with its own credentials and publishes telemetry the ingest accepts", async () => {
    const registry = createRegistry(false);
    const telemetry = await observe(demo, ["campus/devices/+/telemetry", "tele/+/SENSOR"]);
    const simulator = await startSimulator({ campus: demo, mqttUrl: urlOf(demo), deviceGroupKey: GROUP_KEY, log: createLogger("silent"), metrics: registry, seed: 7, demoOverload: true });
    try {
      expect(simulator.connected).toBe(demo.devices.length);
      const native = demo.devices.filter((d) => d.format === "native");
      const tasmota = demo.devices.filter((d) => d.format === "tasmota");
      const seen = () => new Set(telemetry.map((m) => m.topic));
      const wanted = [...native.map((d) => `campus/devices/${d.id}/telemetry`), ...tasmota.map((d) => `tele/${d.source}/SENSOR`)];
      // Every device reports within its first interval (at most 10 s in the demo).
      await waitFor(() => wanted.every((topic) => seen().has(topic)), 15_000, { what: "every wanted topic seen" });

      for (const message of telemetry.filter((m) => m.topic.startsWith("campus/devices/"))) {
        const device = message.topic.split("/")[2]!;
        const parsed = parseTelemetry(device, message.payload, { receivedAt: message.at, maxAgeMs: env.rawRetentionMs });
        expect(parsed.refusals, message.payload).toEqual([]);
        expect(parsed.readings[0]!.tsFallback).toBeUndefined();
        expect(Math.abs(parsed.readings[0]!.ts - message.at)).toBeLessThan(2_000);
      }
      for (const message of telemetry.filter((m) => m.topic.startsWith("tele/"))) {
        const sensor = JSON.parse(message.payload) as { Time: string; ENERGY: Record<string, number> };
        expect(sensor.Time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
        // Zone-less local time: Asia/Shanghai is UTC+8.
        expect(Math.abs(Date.parse(`${sensor.Time}+08:00`) - message.at)).toBeLessThan(2_000);
        expect(typeof sensor.ENERGY.Power).toBe("number");
        expect(sensor.ENERGY.Total).toBeGreaterThan(0);
      }

      const online = await retainedStatuses(demo);
      for (const device of demo.devices) expect(online.get(statusTopic(device)), device.id).toBe(device.format === "tasmota" ? "Online" : "online");

      const metrics = await registry.getMetricsAsJSON();
      const value = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value;
      expect(value("campus_power_sim_connected_devices")).toBe(demo.devices.length);
      expect(value("campus_power_sim_messages_published_total")).toBeGreaterThanOrEqual(demo.devices.length);
      expect(value("campus_power_sim_publish_failures_total")).toBe(0);
    } finally {
      const stopping = Date.now();
      await simulator.stop();
      expect(Date.now() - stopping).toBeLessThan(5_000);
    }
    const offline = await retainedStatuses(demo);
    for (const device of demo.devices) expect(offline.get(statusTopic(device)), device.id).toBe(device.format === "tasmota" ? "Offline" : "offline");
    expect(simulator.connected).toBe(0);
  });

  it("skips a device with its own secret and simulates only the devices asked for", async () => {
    const telemetry = await observe(fixture, ["campus/devices/+/telemetry", "tele/+/SENSOR"]);
    const simulator = await startSimulator({
      campus: fixture,
      mqttUrl: urlOf(fixture),
      deviceGroupKey: GROUP_KEY,
      log: createLogger("silent"),
      onlyDevices: ["brk-d1-101", "plug-d1-101-a", "plug-c1-own"],
    });
    try {
      expect(simulator.connected).toBe(2); // plug-c1-own has secret_sha256: its password cannot be derived
      await waitFor(() => new Set(telemetry.map((m) => m.topic)).size >= 2, 12_000, { what: "telemetry of two devices" });
      expect(new Set(telemetry.map((m) => m.topic))).toEqual(new Set(["campus/devices/brk-d1-101/telemetry", "tele/tasmota_5A1B2C/SENSOR"]));
    } finally {
      await simulator.stop();
    }
  });

  it("reports devices the broker refuses instead of hanging", async () => {
    const simulator = await startSimulator({ campus: fixture, mqttUrl: urlOf(fixture), deviceGroupKey: "a-wrong-group-key-0123456789", log: createLogger("silent"), onlyDevices: ["brk-d1-102"] });
    expect(simulator.connected).toBe(0);
    await simulator.stop();
  });
});
