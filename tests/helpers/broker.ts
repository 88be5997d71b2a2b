// The real broker for broker.test.ts: started on ephemeral ports by useTestBroker(), with mqtt.js
// clients (MQTT 3.1.1, no reconnects) that are closed after every test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";

export const GROUP_KEY = "integration-group-key-0123456789";
export const SERVICE_PASSWORD = "integration-service-password";
// A data folder of the file's own: the default, ./data, is the one `npm run demo` uses, and the broker's
// journal left there was handed to the demo's ingest at its next start.
const dataDir = mkdtempSync(join(tmpdir(), "campus-test-broker-"));
const env = readEnv({ DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, API_TOKENS: "admin:integration-admin-token-0123", LOG_LEVEL: "silent", DATA_DIR: dataDir });
export const ctx: ServiceContext = { env, campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };
export const MAX_PACKET_BYTES = 64 * 1024;

/** The broker of the current test file (a live binding: set by useTestBroker's beforeAll). */
export let broker: RunningBroker;
/** Clients to close after the test; connect() adds its own, a test may add others. */
export const clients: MqttClient[] = [];
let seq = 0;

/** Starts the broker before the file's tests, stops it after them, and closes each test's clients. */
export function useTestBroker(): void {
  beforeAll(async () => {
    broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", maxPacketBytes: MAX_PACKET_BYTES });
  });
  afterAll(async () => {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  });
}

export interface Options {
  username?: string;
  password?: string;
  clientId?: string;
  clean?: boolean;
  url?: string;
}

/** Connects with protocol 3.1.1 and no reconnects; rejects with mqtt.js's error (which carries the CONNACK code). */
export async function connect(options: Options): Promise<MqttClient> {
  const client = await mqtt.connectAsync(options.url ?? `mqtt://127.0.0.1:${broker.tcpPort}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    clientId: options.clientId ?? `test-${++seq}`,
    clean: options.clean ?? true,
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
  });
  clients.push(client);
  return client;
}

export const device = (id: string, extra: Options = {}) => connect({ username: id, password: devicePassword(id, GROUP_KEY), ...extra });
export const service = () => connect({ username: "campus-service", password: SERVICE_PASSWORD });

export async function refusalCode(options: Options): Promise<number | undefined> {
  const error = await connect(options).then(
    () => undefined,
    (e: unknown) => e as { code?: number },
  );
  expect(error, "the connection should have been refused").toBeDefined();
  return error?.code;
}

/** Collects what a subscriber receives. */
export function inbox(client: MqttClient): { topic: string; payload: string }[] {
  const received: { topic: string; payload: string }[] = [];
  client.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
  return received;
}

/** Publishes a marker from the service account and waits for it, so everything sent before has been routed. */
export async function settle(received: { topic: string }[]) {
  const topic = `test/settle/${++seq}`;
  const admin = await service();
  await admin.publishAsync(topic, "x", { qos: 1 });
  await expect.poll(() => received.some((m) => m.topic === topic)).toBe(true);
}

export const waitForClose = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));
