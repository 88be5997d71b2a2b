// The network side of the broker: a TCP listener, an MQTT-over-TLS listener (CONTRACT §13), an
// MQTT-over-WebSocket listener (path /mqtt; wss:// when TLS is on) and, for a TCP load balancer, a plain
// listener whose connections start with a PROXY protocol header (MQTT_PROXY_PORT, CONTRACT §12), each
// handing every connection to `broker.handle` behind the per-address limit and the packet-size guard.
import { type Server as HttpServer, type ServerResponse, createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type Server as NetServer, type Socket, createServer as createNetServer } from "node:net";
import { chmodSync, rmSync } from "node:fs";
import type { Duplex } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import type { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";
import type { AddressLimit } from "../infra/address-limit.js";
import type { TlsCredentials } from "../infra/tls.js";
import { type ProxyRefusal, awaitProxyHeader, presentAs } from "./proxied-connection.js";

export const WEBSOCKET_PATH = "/mqtt";

// A peer that vanished without a FIN (power cut, Wi-Fi gone) and whose MQTT keep-alive is 0 would hold
// its socket forever: TCP keep-alive probes find it (RFC 1122 §4.2.3.6) after this much silence.
const TCP_KEEPALIVE_DELAY_MS = 60_000;

export interface Listener {
  /** The port actually bound (the ephemeral one when asked for 0). */
  port: number;
  /** Stops accepting, destroys the connections still open (aedes closes its clients itself). */
  close(): Promise<void>;
}

/** Called for every accepted connection, after aedes got it, to attach the packet-size guard. */
export type OnConnection = (stream: Duplex, transport: "tcp" | "tls" | "ws") => void;

/** What every listener applies to a new connection before aedes reads a byte. */
export interface Admission {
  limit: AddressLimit;
  /** A TLS handshake not done in this long is abandoned (the MQTT connect timeout covers what follows). */
  handshakeTimeoutMs: number;
}

export async function listenTcp(broker: Aedes, host: string, port: number, onConnection: OnConnection, admission: Admission): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    if (!admission.limit.admit(socket)) return;
    handOver(broker, socket, sockets);
    onConnection(socket, "tcp");
  });
  const bound = await listen(server, host, port);
  return { port: bound, close: () => closeServer(server, sockets) };
}

/**
 * Plain MQTT behind a TCP load balancer that sends the PROXY protocol header (HAProxy `send-proxy-v2`): every
 * connection must start with one (v1 or v2), and the device address it names is the one the per-address
 * limit counts (else every device would share the balancer's address and its limit) and the socket shows.
 * A connection without a valid header within the connect timeout is closed and reported to `onRefused`.
 * Only the balancer must reach this port: the header is believed as sent.
 */
export async function listenProxied(
  broker: Aedes, host: string, port: number, onConnection: OnConnection, admission: Admission, onRefused: (refusal: ProxyRefusal) => void,
): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    // Tracked from accept, so close() also ends the connections still owing their header.
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    awaitProxyHeader(socket, admission.handshakeTimeoutMs, {
      refused: onRefused,
      accepted(source) {
        if (source) presentAs(socket, source);
        if (!admission.limit.admit(socket)) return;
        handOver(broker, socket, sockets);
        onConnection(socket, "tcp");
      },
    });
  });
  const bound = await listen(server, host, port);
  return { port: bound, close: () => closeServer(server, sockets) };
}

/**
 * Plain MQTT on a Unix socket, for the services `up` runs in the same process when TLS_ONLY leaves no
 * plain TCP port (they connect with `mqtt+unix://`). Only the owner may connect (mode 0600).
 */
export async function listenUnix(broker: Aedes, path: string, onConnection: OnConnection): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    handOver(broker, socket, sockets);
    onConnection(socket, "tcp");
  });
  rmSync(path, { force: true }); // a socket file left by a killed process
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return { port: 0, close: () => closeServer(server, sockets) };
}

/** MQTT over TLS (MQTTS_PORT): the same as TCP once the handshake is done. */
export async function listenTls(broker: Aedes, host: string, port: number, credentials: TlsCredentials, onConnection: OnConnection, admission: Admission): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ ...credentials.serverOptions(), handshakeTimeout: admission.handshakeTimeoutMs }, (socket) => {
    handOver(broker, socket, sockets);
    onConnection(socket, "tls");
  });
  // Counted at TCP accept, before the handshake's CPU is spent on it.
  server.on("connection", (raw: Socket) => admission.limit.admit(raw));
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  const detach = credentials.attach(server);
  const bound = await listen(server, host, port);
  return {
    port: bound,
    close: async () => {
      detach();
      await closeServer(server, sockets);
    },
  };
}

function handOver(broker: Aedes, socket: Socket, sockets: Set<Socket>): void {
  sockets.add(socket);
  socket.once("close", () => sockets.delete(socket));
  socket.setNoDelay(true); // small telemetry packets: do not wait for Nagle
  socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
  coalesceWrites(socket);
  broker.handle(socket);
}

export async function listenWebSocket(
  broker: Aedes, host: string, port: number, maxPacketBytes: number, onConnection: OnConnection, admission: Admission, credentials: TlsCredentials | null,
): Promise<Listener> {
  const sockets = new Set<Duplex>();
  const scheme = credentials ? "wss" : "ws";
  const hint = (_req: unknown, res: ServerResponse) => {
    // Plain HTTP gets a hint instead of a hang; only WebSocket upgrades on /mqtt are served.
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" }).end(`MQTT over WebSocket: ${scheme}://host:port${WEBSOCKET_PATH}\n`);
  };
  // With TLS the listener serves only wss:// (CONTRACT §13): a plain ws:// there would carry passwords in clear.
  const https = credentials ? createHttpsServer({ ...credentials.serverOptions(), handshakeTimeout: admission.handshakeTimeoutMs }, hint) : null;
  const http = https ?? createHttpServer(hint);
  const detach = https && credentials ? credentials.attach(https) : () => false;
  // The upgrade request is the whole conversation before MQTT starts: bounded like a CONNECT.
  http.headersTimeout = admission.handshakeTimeoutMs;
  http.requestTimeout = admission.handshakeTimeoutMs;
  http.on("connection", (raw: Socket) => admission.limit.admit(raw));
  https?.on("tlsClientError", (_error, socket) => socket.destroy());
  // maxPayload bounds a single WebSocket message (ws closes with 1009 above it); an MQTT packet may
  // span several messages, so the packet-size guard still applies on top. Headroom for the fixed header.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPacketBytes + 64 });
  http.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== WEBSOCKET_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      // aedes listens for 'error' on the stream; a ws close error before that must not crash the process.
      stream.on("error", () => undefined);
      broker.handle(stream, req);
      onConnection(stream, "ws");
    });
  });
  const bound = await listen(http, host, port);
  return {
    port: bound,
    close: async () => {
      detach();
      // Upgraded sockets are no longer tracked by the HTTP server, hence our own set; wss.close()
      // calls back once its clients are gone, so the sockets are destroyed first.
      const httpClosed = closeServer(http, sockets);
      http.closeAllConnections();
      await Promise.all([httpClosed, new Promise<void>((resolve) => wss.close(() => resolve()))]);
    },
  };
}

function listen(server: NetServer | HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("listener has no TCP address"));
      else resolve(address.port);
    });
  });
}

/**
 * mqtt-packet corks the socket for each packet and uncorks it on the next tick, so every packet costs a
 * write system call: 20,000 a second to the ingest alone. Holding one more cork until the event loop's
 * check phase sends everything written in one turn (PUBACKs, deliveries) in one writev; the delay is
 * below a millisecond. Back-pressure still works: write() returns false once a turn's bytes pass the
 * high-water mark and aedes waits for 'drain', which comes with the flush at the end of the turn.
 */
function coalesceWrites(socket: Socket): void {
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
    if (!held && !socket.destroyed) {
      held = true;
      socket.cork();
      setImmediate(release);
    }
    return write.apply(this, args);
  } as Socket["write"];
}

/** server.close() waits for every open connection, so the ones aedes does not own (no CONNECT yet) are destroyed. */
function closeServer(server: NetServer | HttpServer, sockets: Set<Duplex>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
}
