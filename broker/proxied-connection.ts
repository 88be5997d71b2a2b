// The socket side of the PROXY protocol (./proxy-protocol.ts): reads the header off a new connection on
// the MQTT_PROXY_PORT listener, puts back whatever followed it (often the device's CONNECT, in the same
// TCP segment), and makes the socket show the device's address instead of the load balancer's.
// aedes 1.2 stores its `decodeProtocol`/`trustProxy` options but never calls them (aedes.js), hence this.
import type { Socket } from "node:net";
import { type ProxiedSource, canonicalAddress, readProxyHeader } from "./proxy-protocol.js";

/** Why a connection on the proxied listener was closed before aedes saw it (a metric label: keep it small). */
export type ProxyRefusalReason = "malformed" | "timeout" | "closed";

export interface ProxyRefusal {
  reason: ProxyRefusalReason;
  /** What was wrong, for the log; never the bytes themselves. */
  detail: string;
  /** The address the connection came from (the load balancer, or whoever reached the port). */
  peer: string;
}

export interface HeaderOutcome {
  /** The header was read; `source` null: it names no client (a health check), the socket's own address stands. */
  accepted(source: ProxiedSource | null): void;
  /** The connection is already destroyed (or closed by the peer) when this is called. */
  refused(refusal: ProxyRefusal): void;
}

/**
 * Waits at most `timeoutMs` for the header (the balancer sends it at once; the MQTT connect timeout is the
 * bound for a peer that sends nothing, [MQTT-3.1.0-1]), reading in paused mode so no byte after the header
 * is consumed: they are unshifted for aedes, which reads on 'readable' (lib/client.js).
 */
export function awaitProxyHeader(socket: Socket, timeoutMs: number, outcome: HeaderOutcome): void {
  const peer = canonicalAddress(socket.remoteAddress ?? "") ?? "unknown";
  let received: Buffer = Buffer.alloc(0);
  let settled = false;
  const settle = () => {
    settled = true;
    clearTimeout(timer);
    socket.off("readable", onReadable);
    socket.off("close", onClose);
  };
  const refuse = (reason: ProxyRefusalReason, detail: string) => {
    if (settled) return;
    settle();
    socket.destroy();
    outcome.refused({ reason, detail, peer });
  };
  const onReadable = () => {
    for (let chunk: Buffer | null = socket.read(); chunk !== null && !settled; chunk = socket.read()) {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const header = readProxyHeader(received);
      if (header.status === "incomplete") continue;
      if (header.status === "invalid") return refuse("malformed", header.detail);
      settle();
      const rest = received.subarray(header.length);
      if (rest.length > 0) socket.unshift(rest);
      return outcome.accepted(header.source);
    }
  };
  const onClose = () => refuse("closed", `closed after ${received.length} bytes, before a whole PROXY header`);
  const timer = setTimeout(() => refuse("timeout", `no whole PROXY header within ${timeoutMs} ms (${received.length} bytes)`), timeoutMs);
  // A reset before aedes attaches its own 'error' listener must not end the process; 'close' follows it.
  socket.on("error", () => undefined);
  socket.on("readable", onReadable);
  socket.once("close", onClose);
}

/**
 * Makes every reader of the socket's address (the per-address limit, aedes' `client.conn`, logs) see the
 * device's: own properties shadow net.Socket's getters, as aedes-protocol-decoder's `connDetails` did.
 */
export function presentAs(socket: Socket, source: ProxiedSource): void {
  const family = source.address.includes(":") ? "IPv6" : "IPv4";
  Object.defineProperty(socket, "remoteAddress", { value: source.address, configurable: true });
  Object.defineProperty(socket, "remotePort", { value: source.port, configurable: true });
  Object.defineProperty(socket, "remoteFamily", { value: family, configurable: true });
}
