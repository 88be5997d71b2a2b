// Each packet once per client, and no packet lost to the check. aedes 1.2.0 gives a client a packet once even
// when two of its subscriptions match it (lib/client.js `dedupe`) by remembering, per broker, the highest
// `brokerCounter` the client was given, and dropping every packet not above it. But aedes numbers a packet when
// it starts publishing it and emits it when the steps before are done: a retained one waits for its store (a
// Redis round trip on a cluster node), a QoS 1 one for the offline queue. A packet numbered later overtakes it,
// and the subscriber never gets the earlier one (aedes issues #955 and #994, open). On a cluster the API and the
// alerts service lost devices' online statuses so: the ingest's retained status, overtaken by its batch of
// readings, 9 of 200 devices shown offline while they reported (bench:district --cluster, 2026-12-07).
// Here a packet is a duplicate only when this client was given that very packet (broker id and counter) before.
import type { Client } from "aedes";

/**
 * Deliveries a client remembers. Two copies of one packet come from one publish, one per matching subscription,
 * delivered one right after the other: a short memory is enough, and keeps a client's cost fixed.
 */
export const REMEMBERED_DELIVERIES = 1_024;

/** The packets one client was given, by broker id and counter, the newest REMEMBERED_DELIVERIES of them. */
export class DeliveredPackets {
  private readonly seen = new Set<string>();
  /** Grown as deliveries come (a device gets a command now and then: its memory stays a few entries), then reused. */
  private readonly ring: string[] = [];
  private next = 0;

  constructor(private readonly capacity = REMEMBERED_DELIVERIES) {}

  /**
   * Whether the client is to be given this packet: false for a copy it was given already. A packet without a
   * broker id (a retained message read back from the store, a will) is never a copy, as in aedes.
   */
  first(brokerId: string | null | undefined, counter: number | undefined): boolean {
    if (!brokerId) return true;
    const key = `${counter}@${brokerId}`;
    if (this.seen.has(key)) return false;
    if (this.ring.length < this.capacity) this.ring.push(key);
    else {
      this.seen.delete(this.ring[this.next]!);
      this.ring[this.next] = key;
      this.next = (this.next + 1) % this.capacity;
    }
    this.seen.add(key);
    return true;
  }
}

interface DeliveredPacket {
  qos?: number;
  brokerId?: string | null;
  brokerCounter?: number;
}
type Deliver = (packet: DeliveredPacket, cb: () => void) => void;
interface Internals {
  deliver0: Deliver;
  deliverQoS: Deliver;
  duplicates: Record<string, number>;
  clean: boolean;
  broker: { persistence: { outgoingClearMessageId(client: Client, packet: DeliveredPacket): Promise<unknown> } };
}

/**
 * aedes' own record, which its check reads and writes, as one that forgets every write: its check then passes
 * every packet (`(duplicates[id] || 0) < counter`, counters start at 1), and a broker's birth message deleting
 * its entry is a no-op.
 */
const FORGETFUL = new Proxy(Object.create(null) as Record<string, number>, {
  get: () => undefined,
  set: () => true,
  deleteProperty: () => true,
});

const NOTHING = () => undefined;

/** Called first for every connection (aedes' preConnect, before it subscribes to anything). */
export function deliverEachPacketOnce(client: Client): void {
  const internals = client as unknown as Internals;
  const delivered = new DeliveredPackets();
  internals.duplicates = FORGETFUL;
  for (const name of ["deliver0", "deliverQoS"] as const) {
    const deliver = internals[name];
    internals[name] = (packet, cb) => {
      // aedes' deliverQoS hands a QoS 0 packet to the client's deliver0, which is the one wrapped here: checked there, once.
      if (name === "deliverQoS" && packet.qos === 0) return deliver(packet, cb);
      if (delivered.first(packet.brokerId, packet.brokerCounter)) return deliver(packet, cb);
      // As aedes does for a copy it drops: a persistent session's queued copy of it goes too.
      if (name === "deliverQoS" && !internals.clean) internals.broker.persistence.outgoingClearMessageId(client, packet).then(NOTHING, NOTHING);
      setImmediate(cb);
    };
  }
}
