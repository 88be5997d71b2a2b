// CONNACK first [MQTT-3.2.0-1]: "The first packet sent from the Server to the Client MUST be a CONNACK". aedes
// 1.2.0 restores a persistent session's subscriptions (lib/handlers/connect.js `restoreSubs`) before it writes
// the CONNACK, after a persistence round trip (`storeWill`: a few ms with Redis), and a message published in
// between is written to the client first. mqtt.js 5 then never gets to the CONNACK: it handles packets one at a
// time, and a QoS 1 PUBLISH waits for its PUBACK to be sent, which waits for the connection, which waits for the
// CONNACK behind it ("connack timeout", every attempt while the stream is busy). The failure drills hit it after
// Redis restarts: the active alerts service could not connect for as long as the readings flowed.
// So a client's deliveries wait until its CONNACK is written (aedes' 'connackSent'), or its connection closes.
import type { Aedes, Client } from "aedes";

type Deliver = (packet: object, cb: () => void) => void;
interface Deliveries {
  deliver0: Deliver;
  deliverQoS: Deliver;
  conn: { once(event: "close", listener: () => void): void };
}

const releases = new WeakMap<Client, () => void>();

/** Called first for every connection (aedes' preConnect): its deliveries wait for its CONNACK from now on. */
export function holdDeliveriesUntilConnack(client: Client): void {
  const internals = client as unknown as Deliveries;
  const waiting: (() => void)[] = [];
  let open = false;
  const release = () => {
    if (open) return;
    open = true;
    releases.delete(client);
    for (const deliver of waiting.splice(0)) deliver();
  };
  for (const name of ["deliver0", "deliverQoS"] as const) {
    const deliver = internals[name];
    internals[name] = (packet, cb) => {
      if (open) return deliver(packet, cb);
      // In order, once the CONNACK is out; aedes' delivery loop goes on meanwhile (the packet is in the
      // session's queue already when the session is persistent, as aedes enqueues before it delivers).
      waiting.push(() => deliver(packet, () => undefined));
      setImmediate(cb);
    };
  }
  releases.set(client, release);
  // Refused, or gone before its CONNACK: nothing can be written any more; a persistent session's packets are in
  // its queue for the next connection, as whatever aedes could not write to a closed one.
  internals.conn.once("close", () => {
    waiting.length = 0;
    releases.delete(client);
  });
}

/** Releases each client's deliveries right after its CONNACK is written. */
export function releaseDeliveriesOnConnack(aedes: Aedes): void {
  aedes.on("connackSent", (_packet, client) => releases.get(client)?.());
}
