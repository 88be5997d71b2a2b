// Slow and greedy clients (issue 16 item 5, docs/tls.md) against the real broker and API with raw
// sockets: a slow-loris HTTP client, a TCP connection that never sends CONNECT, a silent MQTT client,
// too many connections from one address, and a body above the limit.
import { connect as connectTcp, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApi, startApi } from "../../api/index.js";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import mqttPacket from "mqtt-packet";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { GROUP_KEY, tlsContext } from "./tls-fixture.js";

const LIMIT = 3;
let broker: RunningBroker;
let api: RunningApi;
const sockets: Socket[] = [];

beforeAll(async () => {
  const influx = await freshDatabase("slow_clients");
  const base = tlsContext({
    INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db,
    MQTT_CONNECT_TIMEOUT_S: "1", MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(LIMIT),
    HTTP_HEADERS_TIMEOUT_S: "1", HTTP_REQUEST_TIMEOUT_S: "2", HTTP_MAX_CONNECTIONS_PER_ADDRESS: String(LIMIT),
  });
  broker = await startBroker(base, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  // The API's own service connection comes from 127.0.0.1 too: it holds one of that address's LIMIT.
  const ctx: ServiceContext = { ...base, env: Object.freeze({ ...base.env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }) };
  api = await startApi(ctx, { influx, host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await api?.stop();
  await broker?.stop();
});

/** Opens a raw TCP connection (from `localAddress`); resolves once connected. */
function open(port: number, localAddress = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port, host: "127.0.0.1", localAddress }, () => resolve(socket));
    socket.once("error", reject);
    sockets.push(socket);
  });
}

/** A device's CONNECT (MQTT 3.1.1) with the given keep-alive, s. */
const deviceConnect = (clientId: string, keepalive: number) =>
  mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId, keepalive, username: "brk-d1-101", password: Buffer.from(devicePassword("brk-d1-101", GROUP_KEY)) });

/** The first bytes the server sends on `socket`. */
const firstBytes = (socket: Socket) => new Promise<Buffer>((resolve) => socket.once("data", resolve));

/** Ms until the server closes `socket` (the test's timeout bounds it). */
function closedAfter(socket: Socket): Promise<number> {
  const start = Date.now();
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readableEnded) resolve(0);
    socket.once("close", () => resolve(Date.now() - start));
    socket.on("error", () => undefined);
    socket.resume();
  });
}

describe("HTTP", () => {
  it("cuts a slow-loris client trickling its headers after HTTP_HEADERS_TIMEOUT_S", async () => {
    const socket = await open(api.port);
    socket.write("GET /api/health HTTP/1.1\r\nhost: localhost\r\n");
    const trickle = setInterval(() => socket.writable && socket.write("x-slow: 1\r\n"), 200);
    try {
      // 1 s limit, checked every second by the listener: closed within about 2 s, not Node's 60 s.
      expect(await closedAfter(socket)).toBeLessThan(3_000);
    } finally {
      clearInterval(trickle);
    }
  });

  it("answers 413 to a body above the limit", async () => {
    const res = await fetch(`${api.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "x".repeat(100 * 1024), password: "y" }) });
    expect(res.status).toBe(413);
  });

  it("closes connections past HTTP_MAX_CONNECTIONS_PER_ADDRESS from one address, and serves other addresses", async () => {
    const held = await Promise.all(Array.from({ length: LIMIT }, () => open(api.port)));
    const extra = await open(api.port);
    expect(await closedAfter(extra)).toBeLessThan(1_000);
    const other = await fetch(`http://127.0.0.1:${api.port}/api/health`).catch(() => null); // from 127.0.0.1: refused too
    expect(other).toBeNull();
    const elsewhere = await open(api.port, "127.0.0.2");
    const answer = await new Promise<string>((resolve) => {
      elsewhere.once("data", (chunk) => resolve(chunk.toString("latin1")));
      elsewhere.write("GET /api/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    for (const socket of held) socket.destroy();
  });
});

describe("MQTT", () => {
  it("closes a TCP connection that never sends CONNECT after MQTT_CONNECT_TIMEOUT_S", async () => {
    const socket = await open(broker.tcpPort);
    expect(await closedAfter(socket)).toBeLessThan(2_500);
  });

  it("cuts a client that goes silent after 1.5 × its keep-alive ([MQTT-3.1.2-24])", async () => {
    const socket = await open(broker.tcpPort);
    const connack = firstBytes(socket);
    socket.write(deviceConnect("silent", 1));
    expect((await connack)[0]).toBe(0x20); // CONNACK
    // Then nothing, not even PINGREQ: a peer behind a dead link.
    expect(await closedAfter(socket)).toBeLessThan(3_000);
  });

  it("closes connections past MQTT_MAX_CONNECTIONS_PER_ADDRESS from one address, and serves other addresses", async () => {
    // With the API's service connection, LIMIT - 1 more fill 127.0.0.1's share.
    const held = await Promise.all(Array.from({ length: LIMIT - 1 }, () => open(broker.tcpPort)));
    const extra = await open(broker.tcpPort);
    expect(await closedAfter(extra)).toBeLessThan(1_000);
    const elsewhere = await open(broker.tcpPort, "127.0.0.2");
    const connack = firstBytes(elsewhere);
    elsewhere.write(deviceConnect("elsewhere", 30));
    expect([...(await connack)]).toEqual([0x20, 0x02, 0x00, 0x00]); // CONNACK, accepted
    elsewhere.destroy();
    for (const socket of held) socket.destroy();
  });
});
