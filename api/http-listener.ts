// The API's own listener (CONTRACT §6, §13): HTTP, or only HTTPS when TLS is on, with the limits on
// slow and greedy clients (docs/tls.md). Fastify builds the app (buildApp never listens); this server
// hands it every request (`app.routing`) and every WebSocket upgrade (the live stream, through
// @fastify/websocket's listener on `app.server`), so the limits apply to both.
import { type IncomingMessage, type Server, type ServerOptions, createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { createAddressLimit } from "../infra/address-limit.js";
import type { Logger } from "../infra/logger.js";
import type { TlsCredentials } from "../infra/tls.js";

export interface HttpLimits {
  /** Whole headers of a request must arrive within this, ms (slow-loris). */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this, ms. */
  requestTimeoutMs: number;
  maxConnectionsPerAddress: number;
}

export interface HttpListener {
  port: number;
  /** Stops accepting and destroys every connection still open (live streams included). */
  close(): Promise<void>;
}

// Node checks the two timeouts above on a timer (default every 30 s, so a slow-loris client would
// keep its socket up to 30 s past the limit); once a second bounds the overshoot to a second.
const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

export async function listenHttp(
  app: FastifyInstance, address: { host: string; port: number }, limits: HttpLimits, tls: TlsCredentials | null, log: Logger,
): Promise<HttpListener> {
  await app.ready();
  const options: ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
  };
  const handler = (req: IncomingMessage, res: Parameters<typeof app.routing>[1]) => app.routing(req, res);
  // With TLS the listener serves only HTTPS (CONTRACT §13): tokens and passwords never cross in clear.
  const https = tls ? createHttpsServer({ ...options, ...tls.serverOptions(), handshakeTimeout: limits.headersTimeoutMs }, handler) : null;
  const server: Server = https ?? createHttpServer(options, handler);
  const detach = https && tls ? tls.attach(https) : () => false;
  https?.on("tlsClientError", (_error, socket) => socket.destroy());

  const limit = createAddressLimit(limits.maxConnectionsPerAddress, (from) =>
    log.warn({ address: from, max: limits.maxConnectionsPerAddress }, "HTTP connections from one address at the limit (HTTP_MAX_CONNECTIONS_PER_ADDRESS); refusing more"),
  );
  // Upgraded sockets leave the server's own bookkeeping (closeAllConnections misses them): tracked here.
  const upgraded = new Set<Duplex>();
  server.on("connection", (socket: Socket) => limit.admit(socket));
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    app.server.emit("upgrade", req, socket, head);
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      const bound = server.address();
      if (bound === null || typeof bound === "string") reject(new Error("the API listener has no TCP address"));
      else resolve(bound.port);
    });
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        detach();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
        upgraded.clear();
      }),
  };
}
