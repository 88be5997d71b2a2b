// At most N open connections per remote IP address on a listener (docs/tls.md "Slow and greedy
// clients"): one laptop on the school Wi-Fi must not take every socket the process may open
// (20,000 files here). Counted at accept, released at close; over the limit the socket is destroyed
// before any byte is read, which costs the attacker a handshake and us nothing else.
import type { Socket } from "node:net";

export interface AddressLimit {
  /** Counts `socket`; false (and the socket destroyed) when its address already has `max` open. */
  admit(socket: Socket): boolean;
  /** Open connections of an address (tests and metrics). */
  openFrom(address: string): number;
}

/**
 * `onRefused` is called once per address each time it reaches the limit (not per refused socket),
 * so a flood does not flood the log as well.
 */
export function createAddressLimit(max: number, onRefused: (address: string) => void): AddressLimit {
  const open = new Map<string, number>();
  const refusing = new Set<string>();
  return {
    admit(socket) {
      // An IPv4 client on a dual-stack socket reads as ::ffff:a.b.c.d: the same address either way. Behind a
      // load balancer (MQTT_PROXY_PORT) this is the device's address from the PROXY header (broker/proxied-connection.ts).
      const address = (socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");
      const count = open.get(address) ?? 0;
      if (count >= max) {
        if (!refusing.has(address)) {
          refusing.add(address);
          onRefused(address);
        }
        socket.destroy();
        return false;
      }
      open.set(address, count + 1);
      socket.once("close", () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
        if (left < max) refusing.delete(address);
      });
      return true;
    },
    openFrom: (address) => open.get(address) ?? 0,
  };
}
