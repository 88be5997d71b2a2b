// The network side of the broker: a TCP listener and an MQTT-over-WebSocket listener (path /mqtt),
// each handing every connection to `broker.handle` behind the packet-size guard.
import { type Server as HttpServer, createServer as createHttpServer } from "node:http";
import { type Server as NetServer, type Socket, createServer as createNetServer } from "node:net";
import type { Duplex } from "node:stream";
import type { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";

export const WEBSOCKET_PATH = "/mqtt";

export interface Listener {
  /** The port actually bound (the ephemeral one when asked for 0). */
  port: number;
  /** Stops accepting, destroys the connections still open (aedes closes its clients itself). */
  close(): Promise<void>;
}

/** Called for every accepted connection, after aedes got it, to attach the packet-size guard. */
export type OnConnection = (stream: Duplex, transport: "tcp" | "ws") => void;

export async function listenTcp(broker: Aedes, host: string, port: number, onConnection: OnConnection): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true); // small telemetry packets: do not wait for Nagle
    coalesceWrites(socket);
    broker.handle(socket);
    onConnection(socket, "tcp");
  });
  const bound = await listen(server, host, port);
  return {
    port: bound,
    close: () => closeServer(server, sockets),
  };
}

export async function listenWebSocket(broker: Aedes, host: string, port: number, maxPacketBytes: number, onConnection: OnConnection): Promise<Listener> {
  const sockets = new Set<Duplex>();
  const http = createHttpServer((_req, res) => {
    // Plain HTTP gets a hint instead of a hang; only WebSocket upgrades on /mqtt are served.
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" }).end(`MQTT over WebSocket: ws://host:port${WEBSOCKET_PATH}\n`);
  });
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
