// MQTT over TLS (CONTRACT §13) on the real broker: mqtt.js and mosquitto_pub trusting a test CA,
// clients that do not trust it or offer only TLS 1.1, wss://, a certificate renewed and reloaded on
// SIGHUP while a connection stays up, and TLS_ONLY leaving no plain port open.
import { execFile } from "node:child_process";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { promisify } from "node:util";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import { TlsCredentials, reloadOnHangup } from "../../infra/tls.js";
import { createLogger } from "../../infra/logger.js";
import { waitFor } from "../helpers/wait.js";
import { freePort } from "../../infra/free-port.js";
import { GROUP_KEY, SERVICE_PASSWORD, install, makeCa, plainConnect, servedFingerprint, tlsContext } from "./tls-fixture.js";

const run = promisify(execFile);
const ca = makeCa();
const first = ca.leaf("first");
const served = { certFile: `${ca.dir}/served.pem`, keyFile: `${ca.dir}/served-key.pem` };
install(first, served);
const ctx = tlsContext({ TLS_CERT_FILE: served.certFile, TLS_KEY_FILE: served.keyFile });
let broker: RunningBroker;
let credentials: TlsCredentials;
const clients: MqttClient[] = [];

beforeAll(async () => {
  credentials = new TlsCredentials(served, createLogger("silent"));
  broker = await startBroker(ctx, { port: 0, tlsPort: 0, wsPort: 0, host: "127.0.0.1", tls: credentials, journal: false });
});
afterAll(async () => broker.stop());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

const DEVICE = "brk-d1-101";
const deviceLogin = { username: DEVICE, password: devicePassword(DEVICE, GROUP_KEY) };

async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  clients.push(client);
  return client;
}

/** The error a connection attempt ends with (mqtt.js's, or the TLS layer's). */
async function refusal(url: string, options: IClientOptions): Promise<NodeJS.ErrnoException> {
  const outcome = await connect(url, options).then(
    () => null,
    (error: NodeJS.ErrnoException) => error,
  );
  expect(outcome, "the connection should have failed").not.toBeNull();
  return outcome!;
}

/** A service subscriber on the plain port, to see what devices publish. */
async function watch(topic: string): Promise<string[]> {
  const watcher = await connect(`mqtt://127.0.0.1:${broker.tcpPort}`, { username: "campus-service", password: SERVICE_PASSWORD });
  const received: string[] = [];
  watcher.on("message", (_topic, payload) => received.push(payload.toString()));
  await watcher.subscribeAsync(topic, { qos: 1 });
  return received;
}

/** What a plain ws:// MQTT connection to the port gets. */
async function plainWebSocket(port: number): Promise<string> {
  const plain = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, "mqtt");
  const outcome = await new Promise<string>((resolve) => {
    plain.once("open", () => resolve("open"));
    plain.once("error", (error) => resolve(`error: ${error.message}`));
  });
  plain.terminate();
  return outcome;
}

const mqtts = () => `mqtts://localhost:${broker.tlsPort}`;

describe("MQTT over TLS", () => {
  it("serves a device that trusts the CA, with TLS 1.2 or newer", async () => {
    const received = await watch(`campus/devices/${DEVICE}/telemetry`);
    const client = await connect(mqtts(), { ...deviceLogin, ca: ca.ca });
    await client.publishAsync(`campus/devices/${DEVICE}/telemetry`, JSON.stringify({ power_w: 1 }), { qos: 1 });
    await waitFor(() => received.length === 1, 5_000, { what: "the reading over TLS" });
    const socket = client.stream as TLSSocket;
    expect(["TLSv1.2", "TLSv1.3"]).toContain(socket.getProtocol());
  });

  it("is refused by a client that does not trust the certificate", async () => {
    const error = await refusal(mqtts(), deviceLogin);
    expect(error.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("refuses a client that offers at most TLS 1.1 with a protocol-version alert", async () => {
    // The client allows 1.0–1.1 at OpenSSL security level 0, so the refusal is the server's alert.
    // mqtt.js hands these to tls.connect (its types list fewer of Node's TLS options).
    const tlsOneOne: Pick<ConnectionOptions, "minVersion" | "maxVersion" | "ciphers"> = { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" };
    const error = await refusal(mqtts(), { ...deviceLogin, ca: ca.ca, ...tlsOneOne });
    expect(error.message).toMatch(/tlsv1 alert protocol version/);
  });

  it("takes a publish from mosquitto_pub --cafile", async () => {
    const received = await watch(`campus/devices/${DEVICE}/telemetry`);
    await run("mosquitto_pub", [
      "-h", "localhost", "-p", String(broker.tlsPort), "--cafile", ca.caFile, "-V", "mqttv311", "-q", "1",
      "-u", deviceLogin.username, "-P", deviceLogin.password, "-i", "tls-mosquitto-pub",
      "-t", `campus/devices/${DEVICE}/telemetry`, "-m", JSON.stringify({ power_w: 2 }),
    ]);
    await waitFor(() => received.length === 1, 5_000, { what: "mosquitto_pub's reading" });
    expect(JSON.parse(received[0]!)).toEqual({ power_w: 2 });
  });

  it("serves MQTT over wss:// and nothing over plain ws:// on the WebSocket port", async () => {
    const client = await connect(`wss://localhost:${broker.wsPort}/mqtt`, { ...deviceLogin, wsOptions: { ca: ca.ca } });
    expect(client.connected).toBe(true);
    expect(await plainWebSocket(broker.wsPort)).toMatch(/^error/);
  });
});

describe("a certificate renewed on disk", () => {
  it("is served to new connections after SIGHUP while an open connection stays up; a bad pair is refused", async () => {
    reloadOnHangup(credentials);
    const old = await connect(mqtts(), { ...deviceLogin, clientId: "tls-old", ca: ca.ca });
    expect(await servedFingerprint(broker.tlsPort!, ca.ca)).toBe(first.fingerprint256);

    const second = ca.leaf("second");
    install(second, served);
    process.kill(process.pid, "SIGHUP");
    await waitFor(async () => (await servedFingerprint(broker.tlsPort!, ca.ca)) === second.fingerprint256, 5_000, { what: "the renewed certificate" });
    expect(await servedFingerprint(broker.wsPort, ca.ca)).toBe(second.fingerprint256);

    const received = await watch(`campus/devices/${DEVICE}/telemetry`);
    await old.publishAsync(`campus/devices/${DEVICE}/telemetry`, JSON.stringify({ power_w: 3 }), { qos: 1 });
    await waitFor(() => received.length === 1, 5_000, { what: "a publish on the connection opened before the reload" });

    // A key that is not the certificate's: the reload is refused and the second pair still served.
    install({ certFile: first.certFile, keyFile: second.keyFile }, served);
    expect(credentials.reload()).toBe(false);
    expect(await servedFingerprint(broker.tlsPort!, ca.ca)).toBe(second.fingerprint256);
  });
});

describe("TLS_ONLY", () => {
  it("opens no plain MQTT port, and the WebSocket port speaks only TLS", async () => {
    const plainPort = await freePort();
    const only = tlsContext({ TLS_CERT_FILE: first.certFile, TLS_KEY_FILE: first.keyFile, TLS_ONLY: "true", MQTT_PORT: String(plainPort) });
    const tlsOnly = await startBroker(only, { tlsPort: 0, wsPort: 0, host: "127.0.0.1", journal: false });
    try {
      expect(tlsOnly.tcpPort).toBe(0);
      expect(await plainConnect(plainPort)).toBe("refused");
      const client = await connect(`mqtts://localhost:${tlsOnly.tlsPort}`, { ...deviceLogin, clientId: "tls-only", ca: ca.ca });
      expect(client.connected).toBe(true);
      expect(await plainWebSocket(tlsOnly.wsPort)).toMatch(/^error/);
    } finally {
      await tlsOnly.stop();
    }
  });
});
