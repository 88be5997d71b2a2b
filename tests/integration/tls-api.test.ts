// The API over HTTPS (CONTRACT §13) on the real broker and InfluxDB: /api/ready and a live stream over
// wss:// with a client trusting the test CA, nothing in clear on the HTTP port, and a reload that
// reaches the API's listener as well as the broker's.
import { request } from "node:https";
import { connect as connectTcp } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningApi, startApi } from "../../api/index.js";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { internalTopic } from "../../domain/topics.js";
import { createLogger } from "../../infra/logger.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { TlsCredentials } from "../../infra/tls.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { ADMIN_TOKEN, SERVICE_PASSWORD, install, makeCa, servedFingerprint, tlsContext } from "./tls-fixture.js";

const ca = makeCa();
const first = ca.leaf("api-first");
const served = { certFile: `${ca.dir}/served.pem`, keyFile: `${ca.dir}/served-key.pem` };
install(first, served);
let broker: RunningBroker;
let api: RunningApi;
let publisher: MqttClient;
let credentials: TlsCredentials;

beforeAll(async () => {
  const influx = await freshDatabase("tls_api");
  const base = tlsContext({ TLS_CERT_FILE: served.certFile, TLS_KEY_FILE: served.keyFile, INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db });
  credentials = new TlsCredentials(served, createLogger("silent"));
  broker = await startBroker(base, { port: 0, tlsPort: 0, wsPort: 0, host: "127.0.0.1", tls: credentials, journal: false });
  const ctx: ServiceContext = { ...base, env: Object.freeze({ ...base.env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }) };
  publisher = await connectService(ctx.env.mqttUrl, SERVICE_PASSWORD, "tls-api-publisher");
  api = await startApi(ctx, { influx, host: "127.0.0.1", port: 0, tls: credentials });
});

afterAll(async () => {
  await api?.stop();
  await publisher?.endAsync();
  await broker?.stop();
});

/** A GET over HTTPS trusting only the test CA; resolves with the status and parsed body. */
function getJson(path: string, token?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    const req = request({ host: "127.0.0.1", servername: "localhost", port: api.port, path, ca: ca.ca, ...(headers ? { headers } : {}) }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the API over HTTPS", () => {
  it("answers /api/health and /api/ready to a client that trusts the CA", async () => {
    expect(api.url).toMatch(/^https:\/\//);
    expect(await getJson("/api/health")).toEqual({ status: 200, body: { status: "ok" } });
    const ready = await getJson("/api/ready", ADMIN_TOKEN);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", checks: { mqtt: true, influxdb: true } });
  });

  it("serves nothing in clear on its port: a plain HTTP request gets no HTTP answer", async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = connectTcp(api.port, "127.0.0.1", () => socket.write("GET /api/health HTTP/1.1\r\nhost: localhost\r\n\r\n"));
      let bytes = "";
      socket.on("data", (chunk) => (bytes += chunk.toString("latin1")));
      socket.on("close", () => resolve(bytes));
      socket.on("error", () => resolve(bytes));
    });
    expect(answer).not.toMatch(/^HTTP\/1\.1/);
  });

  it("streams live readings over wss:// to a client that trusts the CA", async () => {
    const live = new WebSocket(`wss://localhost:${api.port}/api/live?token=${ADMIN_TOKEN}`, { ca: ca.ca });
    const frames: { type: string; device?: string; values?: Record<string, number> }[] = [];
    live.on("message", (data) => frames.push(JSON.parse(data.toString())));
    try {
      await waitFor(() => frames.some((f) => f.type === "snapshot"), 5_000, { what: "the snapshot over wss://" });
      await publisher.publishAsync(internalTopic.readingBatch("tls-test"), JSON.stringify([{ device: "feeder-d1", ts: Date.now(), values: { power_w: 1234 } }]), { qos: 1 });
      const reading = await waitFor(() => frames.find((f) => f.type === "reading" && f.device === "feeder-d1"), 5_000, { what: "a reading over wss://" });
      expect(reading?.values?.power_w).toBe(1234);
    } finally {
      live.terminate();
    }
  });

  it("serves a reloaded certificate on the API's port as on the broker's", async () => {
    const second = ca.leaf("api-second");
    install(second, served);
    expect(credentials.reload()).toBe(true);
    expect(await servedFingerprint(api.port, ca.ca)).toBe(second.fingerprint256);
    expect(await servedFingerprint(broker.tlsPort!, ca.ca)).toBe(second.fingerprint256);
  });
});
