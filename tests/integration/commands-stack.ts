// The real stack for the remote-switching tests (commands*.test.ts): real influxd (shared, fresh
// database), broker on port 0, ingest, alerts service, API over HTTP, and native devices as real mqtt.js
// clients with their own credentials: one that obeys (reports its relay as CONTRACT §10 says), one that
// never answers, and one the test answers for by hand.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import WebSocket from "ws";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { startApi, type RunningApi } from "../../api/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { parseCampusText } from "../../domain/campus.js";
import type { Command } from "../../domain/command.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { startIngest, type RunningIngest } from "../../ingest/index.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";

export const CAMPUS_YAML = `
site: { id: test-school, name: Test School, timezone: Asia/Shanghai }
buildings:
  - { id: dorm-1, name: Dormitory 1, kind: dormitory }
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, rating_a: 63 }
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", parent: brk-main, rating_a: 16 }
  - { id: brk-102, kind: breaker, building: dorm-1, room: "102", parent: brk-main, rating_a: 16 }
  - { id: brk-103, kind: breaker, building: dorm-1, room: "103", parent: brk-main, rating_a: 16 }
  - { id: brk-104, kind: breaker, building: dorm-1, room: "104", parent: brk-main, rating_a: 16 }
  - { id: plug-105, kind: socket, building: dorm-1, room: "105", parent: brk-main, rating_a: 10, format: tasmota, source: tasmota_105 }
  - { id: shelly-106, kind: breaker, building: dorm-1, room: "106", parent: brk-main, rating_a: 16, format: shelly-gen2, source: shellyplus-106 }
  - { id: brk-pump, kind: breaker, building: dorm-1, parent: brk-main, rating_a: 25, protected: true }
  - { id: meter-1, kind: meter, building: dorm-1, parent: brk-main }
`;

const HOST = "127.0.0.1";
const PASSWORD = "service-password-for-command-tests";
const GROUP_KEY = "group-key-for-command-tests-0123456789";
export const TOKENS = { alice: "operator-alice-token-0123456789", bob: "operator-bob-token-0123456789", viewer: "viewer-token-for-commands-0123" };

export interface StackOptions {
  selectTimeoutMs: number;
  commandTimeoutMs: number;
  ackTimeoutMs?: number;
}

/** A foreign device's answer to one command it received: the messages it publishes, in its own format. */
export type Answer = (topic: string, payload: string) => [topic: string, payload: string][];

/** A native device as a real MQTT client: its received commands, and (when it obeys) its relay. */
export interface NativeDevice {
  id: string;
  client: mqtt.MqttClient;
  received: { payload: Record<string, unknown>; retained: boolean }[];
  /** Publishes an event as the device (CONTRACT §3), e.g. the answer to a command. */
  event(body: Record<string, unknown>): Promise<void>;
}

export class CommandStack {
  dataDir = mkdtempSync(join(tmpdir(), "campus-power-commands-"));
  ctx!: ServiceContext;
  influx!: InfluxClient;
  broker!: RunningBroker;
  ingest!: RunningIngest;
  alerts: RunningAlerts | null = null;
  api!: RunningApi;
  watcher!: MqttClient;
  readonly devices = new Map<string, NativeDevice>();

  constructor(private readonly options: StackOptions) {}

  async start(): Promise<void> {
    this.influx = await freshDatabase("commands");
    const env = readEnv({
      DATA_DIR: this.dataDir, LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY,
      INFLUX_URL: influxUrl(), INFLUX_DB: this.influx.config.db,
      API_TOKENS: `operator:${TOKENS.alice},operator:${TOKENS.bob},viewer:${TOKENS.viewer}`,
    });
    const parsed = parseCampusText(CAMPUS_YAML);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    this.ctx = { env, campus: parsed.campus, log: createLogger("silent"), metrics: createRegistry(false) };
    this.broker = await startBroker(this.ctx, { port: 0, wsPort: 0, host: HOST });
    this.ctx = { ...this.ctx, env: Object.freeze({ ...env, mqttUrl: `mqtt://${HOST}:${this.broker.tcpPort}` }) };
    this.ingest = await startIngest(this.ctx, { influx: this.influx });
    await this.startAlerts();
    this.api = await startApi(this.ctx, { influx: this.influx, port: 0, host: HOST, ...(this.options.ackTimeoutMs ? { ackTimeoutMs: this.options.ackTimeoutMs } : {}) });
    this.watcher = await connectService(this.ctx.env.mqttUrl, PASSWORD, "test-command-watcher");
  }

  async startAlerts(): Promise<void> {
    this.alerts = await startAlerts(this.ctx, { influx: this.influx, tickMs: 100, selectTimeoutMs: this.options.selectTimeoutMs, commandTimeoutMs: this.options.commandTimeoutMs });
  }

  async stopAlerts(): Promise<void> {
    await this.alerts?.stop();
    this.alerts = null;
  }

  /**
   * Connects a native device with its own credentials, online (retained status), subscribed to its own
   * commands. `obeys`: it switches and reports as a native device does (the event naming the command, and a
   * reading with `switch_on`); otherwise it keeps what it received and says nothing.
   */
  async device(id: string, obeys: boolean): Promise<NativeDevice> {
    const client = await mqtt.connectAsync(`mqtt://${HOST}:${this.broker.tcpPort}`, { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
    const device: NativeDevice = {
      id,
      client,
      received: [],
      event: async (body) => void (await client.publishAsync(`campus/devices/${id}/events`, JSON.stringify({ ts: Date.now(), ...body }), { qos: 1 })),
    };
    client.on("message", (_topic, payload, packet) => {
      const command = JSON.parse(payload.toString()) as Record<string, unknown>;
      device.received.push({ payload: command, retained: packet.retain });
      if (!obeys) return;
      const on = command.action === "switch_on";
      void client.publishAsync(`campus/devices/${id}/telemetry`, JSON.stringify({ ts: Date.now(), switch_on: on, power_w: on ? 800 : 0 }), { qos: 1 });
      void device.event({ type: "switch", reason: "remote", detail: command.id });
    });
    await client.subscribeAsync(`campus/devices/${id}/commands`, { qos: 1 });
    await client.publishAsync(`campus/devices/${id}/status`, "online", { qos: 1, retain: true });
    this.devices.set(id, device);
    return device;
  }

  /**
   * Connects a device of a foreign format with its own credentials, subscribed to its own command topic;
   * `answer` says what it publishes back for each command it receives. Returns the commands it received.
   */
  async foreignDevice(id: string, commandTopic: string, answer: Answer): Promise<string[]> {
    const client = await mqtt.connectAsync(`mqtt://${HOST}:${this.broker.tcpPort}`, { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
    const received: string[] = [];
    client.on("message", (topic, payload) => {
      received.push(payload.toString());
      for (const [replyTopic, reply] of answer(topic, payload.toString())) void client.publishAsync(replyTopic, reply, { qos: 1 });
    });
    await client.subscribeAsync(commandTopic, { qos: 1 });
    this.devices.set(id, { id, client, received: [], event: async () => undefined });
    return received;
  }

  /** An HTTP request to the API as one of TOKENS; `body` is sent as JSON (a string is sent as it is). */
  async http(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { ...init.headers, "content-type": "application/json" };
    }
    const response = await fetch(`${this.api.url}${path}`, init);
    const text = await response.text();
    return { status: response.status, json: text === "" ? null : JSON.parse(text) };
  }

  /** What the API knows of a command now (GET /api/commands/{id}). */
  async command(id: string): Promise<Command> {
    return (await this.http("GET", `/api/commands/${id}`, TOKENS.viewer)).json as Command;
  }

  /** The value of one series of a metric of the alerts service (0 when it was never set). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const found = await this.ctx.metrics.getSingleMetric(name)?.get();
    const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return value?.value ?? 0;
  }

  /** A live-stream client with the viewer's token: the frames it received. */
  async live(): Promise<{ socket: WebSocket; frames: Record<string, any>[] }> {
    const socket = new WebSocket(`${this.api.url.replace("http", "ws")}/api/live?token=${TOKENS.viewer}`);
    const frames: Record<string, any>[] = [];
    socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Record<string, any>));
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return { socket, frames };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.devices.values()].map((d) => d.client.endAsync(true)));
    await this.watcher?.endAsync();
    await this.api?.stop();
    await this.alerts?.stop();
    await this.ingest?.stop();
    await this.broker?.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
