// Flow control towards the ingest: at most `window` QoS 1 deliveries unacknowledged, the rest held in order
// (MQTT 5 calls this Receive Maximum; aedes 1.2.0 has none for MQTT 3.1.1 and writes every matching packet
// at once). Without it, in `up` under a burst, the broker wrote faster than the ingest (which acknowledges
// only after its spool's fsync) could read: 65,535 deliveries in flight, message ids reused while their
// first packet was unacknowledged, packets stranded in the outgoing queue, and the backlog held in socket
// buffers (bench:e2e, heap snapshot: docs/benchmarks.md "Memory").
// A held packet is already in the session's queue (aedes enqueues before it delivers), so a disconnect loses
// nothing: aedes redelivers the queue when the session reconnects. The held packets are in memory, as they
// were before in socket buffers: the broker does not yet slow devices down while the ingest is behind (a
// wait in authorizePublish did not hold back one device's burst: aedes authorizes a connection's publishes
// before it routes them).
import type { Aedes, Client } from "aedes";

type Deliver = (packet: { qos: number }, cb: () => void) => void;

export interface SubscriberWindow {
  /** Called when `client` has authenticated: governs it when it is the subscriber. */
  attach(client: Client): void;
  /** Deliveries held back right now. */
  held(): number;
}

export function subscriberWindow(aedes: Aedes, options: { clientId: string; window: number }): SubscriberWindow {
  let current: { client: Client; held: { packet: { qos: number }; }[]; inFlight: number; deliver: Deliver } | null = null;
  const pump = () => {
    const state = current;
    if (!state) return;
    while (state.inFlight < options.window && state.held.length > 0) {
      state.inFlight++;
      state.deliver(state.held.shift()!.packet, noop);
    }
  };

  aedes.on("ack", (_packet, client) => {
    if (!current || client !== current.client) return;
    current.inFlight = Math.max(0, current.inFlight - 1);
    pump();
  });
  aedes.on("clientDisconnect", (client) => {
    if (current?.client !== client) return;
    // What was held stays in the session's queue; aedes redelivers it on the next connection.
    current = null;
  });

  return {
    attach(client) {
      if (client.id !== options.clientId) return;
      const internals = client as unknown as { deliverQoS: Deliver };
      const deliver = internals.deliverQoS;
      const state = { client, held: [] as { packet: { qos: number } }[], inFlight: 0, deliver };
      current = state;
      internals.deliverQoS = (packet, cb) => {
        if (packet.qos === 0 || current !== state) return deliver(packet, cb);
        if (state.inFlight < options.window && state.held.length === 0) {
          state.inFlight++;
          return deliver(packet, cb);
        }
        state.held.push({ packet });
        // The publish is done as far as aedes' delivery loop is concerned: the packet waits its turn here.
        setImmediate(cb);
      };
    },
    held: () => current?.held.length ?? 0,
  };
}

function noop(): void {}
