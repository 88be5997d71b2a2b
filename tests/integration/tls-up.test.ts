// `campus-power up` with TLS_ONLY=true as an operator runs it (a child process, a real influxd): no
// plain port left open, /api/ready over HTTPS, a device over mqtts://, and `kill -HUP` after renewing
// the certificate: the new one served, the process and an open connection still up.
import { mkdtempSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { devicePassword } from "../../domain/credentials.js";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { install, makeCa, plainConnect, servedFingerprint } from "./tls-fixture.js";

const KEY = "tls-up-fleet-key-0123456789";
const VIEWER = "tls-up-viewer-token-0123456789";
const ca = makeCa();
const first = ca.leaf("up-first");
const served = { certFile: `${ca.dir}/served.pem`, keyFile: `${ca.dir}/served-key.pem` };
install(first, served);
const ports = { mqtt: 0, mqtts: 0, ws: 0, http: 0 };
let up: CliProcess;

beforeAll(async () => {
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  up = startCli(["up"], {
    CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml",
    MQTT_PORT: String(ports.mqtt), MQTTS_PORT: String(ports.mqtts), MQTT_WS_PORT: String(ports.ws), HTTP_PORT: String(ports.http),
    INFLUX_URL: influxUrl(), INFLUX_DB: `tls_up_${process.pid}`, DATA_DIR: mkdtempSync(join(tmpdir(), "campus-tls-up-")),
    DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "tls-up-service-password", API_TOKENS: `viewer:${VIEWER}`, LOG_LEVEL: "warn",
    TLS_CERT_FILE: served.certFile, TLS_KEY_FILE: served.keyFile, TLS_ONLY: "true",
  });
  await up.waitForOutput(/campus-power is up: https:\/\/localhost:\d+\//, 60_000);
}, 90_000);

afterAll(async () => {
  const { code } = await up.stop("SIGTERM");
  expect(code).toBe(0);
});

function ready(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", servername: "localhost", port: ports.http, path: "/api/ready", ca: ca.ca, headers: { authorization: `Bearer ${VIEWER}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("up with TLS_ONLY=true", () => {
  it("leaves no plain port: MQTT_PORT refuses, the WebSocket and HTTP ports speak only TLS", async () => {
    expect(await plainConnect(ports.mqtt)).toBe("refused");
    const plainWs = new WebSocket(`ws://127.0.0.1:${ports.ws}/mqtt`, "mqtt");
    const ws = await new Promise<string>((resolve) => {
      plainWs.once("open", () => resolve("open"));
      plainWs.once("error", () => resolve("error"));
    });
    plainWs.terminate();
    expect(ws).toBe("error");
    const http = await fetch(`http://127.0.0.1:${ports.http}/api/health`).then((r) => r.status, () => "no HTTP answer");
    expect(http).toBe("no HTTP answer");
    for (const port of [ports.mqtts, ports.ws, ports.http]) expect(await servedFingerprint(port, ca.ca)).toBe(first.fingerprint256);
  });

  it("is ready over HTTPS: its own services reach the broker without a plain port", async () => {
    expect(await waitFor(async () => (await ready()) === 200, 20_000)).toBe(true);
  });

  it("serves a renewed certificate after kill -HUP, keeping the process and an open device connection", async () => {
    const device = await mqtt.connectAsync(`mqtts://localhost:${ports.mqtts}`, {
      protocolVersion: 4, reconnectPeriod: 0, ca: ca.ca, clientId: "tls-up-device", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY),
    });
    try {
      const second = ca.leaf("up-second");
      install(second, served);
      up.child.kill("SIGHUP");
      await waitFor(async () => (await servedFingerprint(ports.http, ca.ca)) === second.fingerprint256, 10_000, { what: "the renewed certificate on HTTPS" });
      expect(await servedFingerprint(ports.mqtts, ca.ca)).toBe(second.fingerprint256);
      expect(up.child.exitCode).toBeNull();
      await device.publishAsync("campus/devices/brk-d1-101/status", "online", { qos: 1, retain: true });
      expect(device.connected).toBe(true);
    } finally {
      await device.endAsync(true);
    }
  });
});
