// The broker behind a TCP load balancer (MQTT_PROXY_PORT, CONTRACT §12): the real broker from startBroker,
// the proxied listener on its aedes (as startBroker wires it), raw sockets that send what HAProxy sends
// (a PROXY v1 or v2 header, then the device's bytes) and real MQTT CONNECTs. The address the broker sees
// and the per-address limit counts must be the header's, never the balancer's (here 127.0.0.1).
import { type Socket, connect as connectTcp } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { type Listener, listenProxied, listenTcp } from "../../broker/listeners.js";
import type { ProxyRefusal } from "../../broker/proxied-connection.js";
import { guardPacketSize } from "../../broker/packet-size-guard.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { type AddressLimit, createAddressLimit } from "../../infra/address-limit.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { waitFor } from "../helpers/wait.js";

const GROUP_KEY = "proxy-test-group-key-0123456789";
const DEVICE = "brk-d1-main";
const LIMIT = 2;
const CONNACK_ACCEPTED = [0x20, 0x02, 0x00, 0x00];

const env = readEnv({
  DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD: "proxy-test-service-password", API_TOKENS: "admin:proxy-test-admin-token-0123", LOG_LEVEL: "silent",
  MQTT_CONNECT_TIMEOUT_S: "1", MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(LIMIT), MQTT_PROXY_PORT: "0",
});
const ctx: ServiceContext = { env, campus: loadCampus("tests/fixtures/test-campus.yaml"), log: createLogger("silent"), metrics: createRegistry(false) };

let broker: RunningBroker;
let proxied: Listener;
let limit: AddressLimit;
const refusals: ProxyRefusal[] = [];
/** The address aedes' client.conn shows, by client id, at CONNACK. */
const seen = new Map<string, string | undefined>();
const sockets: Socket[] = [];

beforeAll(async () => {
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  broker.aedes.on("clientReady", (client) => seen.set(client.id, (client.conn as Socket).remoteAddress));
  // What startBroker passes the other listeners: one limit, the connect timeout, the packet-size guard.
  limit = createAddressLimit(env.mqttMaxConnectionsPerAddress, () => undefined);
  const onConnection = (stream: Parameters<typeof guardPacketSize>[0]) => guardPacketSize(stream, 64 * 1024, () => undefined);
  proxied = await listenProxied(broker.aedes, "127.0.0.1", env.mqttProxyPort ?? -1, onConnection, { limit, handshakeTimeoutMs: env.mqttConnectTimeoutMs }, (refusal) => refusals.push(refusal));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await proxied?.close();
  await broker?.stop();
});

/** A raw TCP connection to `port` from 127.0.0.1 (the load balancer's place); resolves once connected. */
function open(port = proxied.port): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port, host: "127.0.0.1" }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once("error", reject);
    sockets.push(socket);
  });
}

const deviceConnect = (clientId: string) =>
  mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId, keepalive: 30, username: DEVICE, password: Buffer.from(devicePassword(DEVICE, GROUP_KEY)) });

const v1 = (source: string, sourcePort = 40000) => Buffer.from(`PROXY TCP4 ${source} 10.0.0.2 ${sourcePort} 1884\r\n`, "latin1");
const SIGNATURE_V2 = Buffer.from("0d0a0d0a000d0a515549540a", "hex");
/** A v2 header as HAProxy's send-proxy-v2 writes it: PROXY (0x21) or LOCAL (0x20), TCP over IPv4 (0x11) or IPv6 (0x21). */
function v2(command: "proxy" | "local", source?: { ipv6: string } | { ipv4: number[] }, sourcePort = 40000): Buffer {
  if (command === "local" || !source) return Buffer.concat([SIGNATURE_V2, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(1884, 2);
  const [family, addresses] = "ipv4" in source
    ? [0x11, Buffer.from([...source.ipv4, 10, 0, 0, 2])]
    : [0x21, Buffer.concat([Buffer.from(source.ipv6.replace(/:/g, ""), "hex"), Buffer.alloc(16)])];
  const block = Buffer.concat([addresses, ports]);
  return Buffer.concat([SIGNATURE_V2, Buffer.from([0x21, family, 0x00, block.length]), block]);
}

/** Everything the server sends on `socket` until it closes, and when it closed (ms after the call). */
function untilClosed(socket: Socket): Promise<{ bytes: Buffer; afterMs: number }> {
  const start = Date.now();
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.once("close", () => resolve({ bytes: Buffer.concat(chunks), afterMs: Date.now() - start }));
  });
}

/** The first packet's bytes the server sends (a CONNACK is 4); null when it closes first. */
function reply(socket: Socket): Promise<number[] | null> {
  return new Promise((resolve) => {
    socket.once("data", (chunk: Buffer) => resolve([...chunk.subarray(0, 4)]));
    socket.once("close", () => resolve(null));
  });
}

async function closeAll(...open: Socket[]): Promise<void> {
  for (const socket of open) socket.destroy();
  await waitFor(() => open.every((s) => s.closed), 5_000, { what: "sockets closed" });
}

describe("the proxied listener (MQTT_PROXY_PORT)", () => {
  it("connects a device behind a v1 header sent with its CONNECT, under the header's address", async () => {
    const socket = await open();
    const connack = reply(socket);
    socket.write(Buffer.concat([v1("192.0.2.10"), deviceConnect("via-v1")]));
    expect(await connack).toEqual(CONNACK_ACCEPTED);
    expect(seen.get("via-v1")).toBe("192.0.2.10");
    expect(limit.openFrom("192.0.2.10")).toBe(1);
    expect(limit.openFrom("127.0.0.1")).toBe(0);
    await closeAll(socket);
    await waitFor(() => limit.openFrom("192.0.2.10") === 0, 5_000, { what: "the closed connection released" });
  });

  it("connects a device behind a v2 header (send-proxy-v2), IPv4", async () => {
    const socket = await open();
    const connack = reply(socket);
    socket.write(Buffer.concat([v2("proxy", { ipv4: [203, 0, 113, 7] }), deviceConnect("via-v2")]));
    expect(await connack).toEqual(CONNACK_ACCEPTED);
    expect(seen.get("via-v2")).toBe("203.0.113.7");
    expect(limit.openFrom("203.0.113.7")).toBe(1);
    await closeAll(socket);
  });

  it("reads a v2 header split across TCP writes, then the CONNECT written on its own", async () => {
    const header = v2("proxy", { ipv6: "20010db8000000000000000000000042" });
    const socket = await open();
    const connack = reply(socket);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 100)); // separate segments, not a wait for an outcome
    socket.write(header.subarray(0, 7));
    await pause();
    socket.write(header.subarray(7, 30));
    await pause();
    socket.write(header.subarray(30));
    await pause();
    socket.write(deviceConnect("via-v2-split"));
    expect(await connack).toEqual(CONNACK_ACCEPTED);
    expect(seen.get("via-v2-split")).toBe("2001:db8::42");
    expect(limit.openFrom("2001:db8::42")).toBe(1);
    await closeAll(socket);
  });

  it("takes a v2 LOCAL header (HAProxy's health check) under the connection's own address", async () => {
    const socket = await open();
    const connack = reply(socket);
    socket.write(Buffer.concat([v2("local"), deviceConnect("via-local")]));
    expect(await connack).toEqual(CONNACK_ACCEPTED);
    expect(seen.get("via-local")).toBe("127.0.0.1");
    expect(limit.openFrom("127.0.0.1")).toBe(1);
    await closeAll(socket);
    await waitFor(() => limit.openFrom("127.0.0.1") === 0, 5_000, { what: "the health check's connection released" });
  });

  it("closes a connection that starts without a header, counts it, and goes on serving", async () => {
    const before = refusals.length;
    const socket = await open();
    const closed = untilClosed(socket);
    socket.write(deviceConnect("no-header"));
    const { bytes } = await closed;
    expect(bytes.length).toBe(0); // no CONNACK: aedes never saw it
    // "malformed", not "timeout": closed on its first bytes, not after the connect timeout.
    expect(refusals.slice(before)).toEqual([expect.objectContaining({ reason: "malformed", peer: "127.0.0.1" })]);
    expect(seen.has("no-header")).toBe(false);

    const next = await open();
    const connack = reply(next);
    next.write(Buffer.concat([v1("192.0.2.11"), deviceConnect("after-refusal")]));
    expect(await connack).toEqual(CONNACK_ACCEPTED);
    await closeAll(next);
  });

  it("closes a connection that sends nothing after MQTT_CONNECT_TIMEOUT_S (1 s here), and counts it", async () => {
    const before = refusals.length;
    const socket = await open();
    const { afterMs } = await untilClosed(socket);
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(5_000);
    expect(refusals.slice(before)).toEqual([expect.objectContaining({ reason: "timeout", peer: "127.0.0.1" })]);
  });

  it("counts a connection closed halfway through its header, without harm", async () => {
    const before = refusals.length;
    const socket = await open();
    socket.write(v2("proxy", { ipv4: [198, 51, 100, 99] }).subarray(0, 10));
    await waitFor(() => socket.bytesWritten === 10, 5_000, { what: "half a header sent" });
    socket.destroy();
    await waitFor(() => refusals.length > before, 5_000, { what: "the refusal counted" });
    expect(refusals.slice(before)).toEqual([expect.objectContaining({ reason: "closed" })]);
  });

  it("gives each proxied source address its own MQTT_MAX_CONNECTIONS_PER_ADDRESS", async () => {
    const connectFrom = async (address: string, clientId: string) => {
      const socket = await open();
      const answer = reply(socket);
      socket.write(Buffer.concat([v1(address), deviceConnect(clientId)]));
      return { socket, answer: await answer };
    };
    // All four come through 127.0.0.1, which alone would be past the limit of 2.
    const first = await connectFrom("198.51.100.1", "limit-a1");
    const second = await connectFrom("198.51.100.1", "limit-a2");
    expect([first.answer, second.answer]).toEqual([CONNACK_ACCEPTED, CONNACK_ACCEPTED]);
    const third = await connectFrom("198.51.100.1", "limit-a3");
    expect(third.answer).toBeNull(); // closed before aedes read a byte
    const other = await connectFrom("198.51.100.2", "limit-b1");
    expect(other.answer).toEqual(CONNACK_ACCEPTED);
    expect(limit.openFrom("198.51.100.1")).toBe(LIMIT);
    expect(limit.openFrom("198.51.100.2")).toBe(1);
    expect(limit.openFrom("127.0.0.1")).toBe(0);
    await closeAll(first.socket, second.socket, third.socket, other.socket);
  });

  it("leaves the ordinary MQTT port as it was: no header expected there", async () => {
    const socket = await open(broker.tcpPort);
    const connack = reply(socket);
    socket.write(deviceConnect("plain-port"));
    expect(await connack).toEqual(CONNACK_ACCEPTED);
    expect(seen.get("plain-port")).toBe("127.0.0.1");
    await closeAll(socket);
  });

  it("ends the connections still owing their header when the listener closes", async () => {
    const extra = await listenProxied(broker.aedes, "127.0.0.1", 0, () => undefined, { limit, handshakeTimeoutMs: 60_000 }, () => undefined);
    const socket = await open(extra.port);
    const closed = untilClosed(socket);
    socket.write(v1("192.0.2.12").subarray(0, 8));
    await waitFor(() => socket.bytesWritten === 8, 5_000, { what: "part of a header sent" });
    await extra.close();
    expect((await closed).afterMs).toBeLessThan(5_000);
  });
});

describe("listenProxied beside listenTcp", () => {
  it("has listenTcp's shape plus the refusal callback", () => {
    expect(listenProxied.length).toBe(listenTcp.length + 1);
  });
});
