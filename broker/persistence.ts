// aedes' memory persistence with an indexed outgoing queue. In aedes-persistence 11.0.0 each client's
// queue of unacknowledged QoS 1 packets is an array searched from the start on every delivery
// (`outgoingUpdate`, asyncPersistence.js), so a subscriber that acknowledges in groups — the ingest, which
// acknowledges once a reading is fsynced in its spool — costs O(queue) per message and the broker slows
// down as the queue grows (measured: 43 % of the broker's CPU at 4,000 readings/s, bench:ingest). The
// same queue here is a Map in delivery order plus a messageId index: O(1) per delivery and per ack.
// Retained messages are looked up by topic when a subscription names one exactly: aedes-persistence tests
// every retained topic against every filter of a SUBSCRIBE, so with a retained status per device each
// device subscribing to its own command topic made connecting O(devices²) (210 s for 19,760 devices on a
// bare aedes, docs/benchmarks.md bench:district). Wildcard filters are still matched against every topic.
// Everything else is aedes-persistence's own memory persistence, wrapped exactly as aedes does by default.
import { createRequire } from "node:module";
import { Readable } from "node:stream";

const require = createRequire(import.meta.url);
// Deep imports of the installed aedes-persistence 11 (CommonJS, no "exports" map): the class aedes' default
// factory (persistence.js) instantiates, and the wrapper it puts around it.
const MemoryPersistence = require("aedes-persistence/asyncPersistence.js") as new (opts?: object) => Record<string, unknown>;
const { CallBackPersistence } = require("aedes-persistence/callBackPersistence.js") as {
  CallBackPersistence: new (factory: (opts: object) => object, opts: object) => object;
};
const Packet = require("aedes-packet") as new (packet: object, broker?: object) => OutPacket;
// The matcher aedes-persistence uses for retained messages (its dependency, same options).
const { QlobberTrue } = require("qlobber") as { QlobberTrue: new (options: object) => { add(topic: string): void; test(topic: string): boolean } };
const TOPIC_MATCHING = { wildcard_one: "+", wildcard_some: "#", separator: "/" };

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}

interface OutPacket {
  brokerId?: string | null;
  brokerCounter?: number;
  messageId?: number;
}
interface Queue {
  items: Map<string | number, OutPacket>;
  byMessageId: Map<number, string | number>;
  /** The last id given in place of one in use (./freeMessageId). */
  lastId: number;
}

class IndexedMemoryPersistence extends MemoryPersistence {
  private readonly queues = new Map<string, Queue>();
  private readonly retained = new Map<string, RetainedPacket>();
  private local = 0;

  async storeRetained(packet: RetainedPacket): Promise<void> {
    if (packet.payload.length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet.topic, { ...packet });
  }

  createRetainedStream(pattern: string): Readable {
    return Readable.from(this.retainedMatching(pattern));
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    const retained = this;
    return Readable.from(
      (function* () {
        for (const pattern of patterns) yield* retained.retainedMatching(pattern);
      })(),
    );
  }

  private *retainedMatching(pattern: string): Generator<RetainedPacket> {
    if (!pattern.includes("+") && !pattern.includes("#")) {
      const packet = this.retained.get(pattern);
      if (packet) yield packet;
      return;
    }
    const matcher = new QlobberTrue(TOPIC_MATCHING);
    matcher.add(pattern);
    for (const [topic, packet] of this.retained) if (matcher.test(topic)) yield packet;
  }

  private queue(clientId: string): Queue {
    let queue = this.queues.get(clientId);
    if (!queue) this.queues.set(clientId, (queue = { items: new Map(), byMessageId: new Map(), lastId: 0 }));
    return queue;
  }

  /**
   * Packets are told apart by brokerId + brokerCounter: this broker's by the counter alone (a number, so
   * no string to build and hash per message), another broker's by both; packets without a brokerId
   * (retained re-sends) get a key of their own.
   */
  private key(packet: OutPacket): string | number {
    return packet.brokerId ? this.originKey(packet) : `local:${++this.local}`;
  }
  private originKey(packet: OutPacket): string | number {
    // `broker` is asyncPersistence's getter for the broker given to setup().
    const own = (this as unknown as { broker?: { id?: string } }).broker?.id;
    return packet.brokerId === own ? packet.brokerCounter! : `${packet.brokerId}:${packet.brokerCounter}`;
  }

  async outgoingEnqueue(sub: { clientId: string }, packet: OutPacket): Promise<void> {
    const copy = new Packet(packet);
    this.queue(sub.clientId).items.set(this.key(copy), copy);
  }

  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: OutPacket): Promise<void> {
    for (const sub of subs) await this.outgoingEnqueue(sub, packet);
  }

  async outgoingUpdate(client: { id: string }, packet: OutPacket): Promise<void> {
    const queue = this.queue(client.id);
    if (packet.brokerId) {
      const key = this.originKey(packet);
      const stored = queue.items.get(key);
      if (stored) {
        if (stored.messageId !== undefined) queue.byMessageId.delete(stored.messageId);
        if (packet.messageId !== undefined) packet.messageId = freeMessageId(queue, packet.messageId, key);
        stored.messageId = packet.messageId;
        if (packet.messageId !== undefined) queue.byMessageId.set(packet.messageId, key);
        return;
      }
    }
    // As aedes-persistence: a packet of another origin with the same messageId takes its place.
    const existing = packet.messageId === undefined ? undefined : queue.byMessageId.get(packet.messageId);
    if (existing !== undefined && queue.items.has(existing)) {
      queue.items.set(existing, packet);
      return;
    }
    throw new Error("no such packet");
  }

  async outgoingClearMessageId(client: { id: string }, packet: OutPacket): Promise<OutPacket | undefined> {
    const queue = this.queue(client.id);
    if (packet.messageId === undefined) return undefined;
    const key = queue.byMessageId.get(packet.messageId);
    if (key === undefined) return undefined;
    queue.byMessageId.delete(packet.messageId);
    const stored = queue.items.get(key);
    queue.items.delete(key);
    return stored;
  }

  outgoingStream(client: { id: string }): Readable {
    return Readable.from([...this.queue(client.id).items.values()]);
  }
}

/**
 * `wanted` (aedes' id, or a redelivery's own [MQTT-4.4.0-1]) unless another unacknowledged packet of this
 * queue holds it; then the id after the last one given that way that is free. aedes numbers a client's
 * deliveries with a counter that wraps at 65,535 without looking at what is in flight, so a subscriber more
 * than 65,535 messages behind (the ingest under a burst: it acknowledges after its spool's fsync) was given the
 * id of a packet it had not acknowledged yet [MQTT-2.3.1-2]. Its one PUBACK then cleared one of the two, and the
 * other stayed queued (and in the broker journal) for ever: 93,000 packets after a 100,000-reading run of `up`
 * (bench:e2e, heap snapshot). The replacement ids move forward through the free ones, so finding one costs
 * O(1) per delivery on average (probing forward from aedes' id cost O(packets in flight) each time its counter
 * met the block in use). The packet is rewritten before aedes writes it, so the id on the wire is the one indexed.
 */
function freeMessageId(queue: Queue, wanted: number, key: string | number): number {
  const isFree = (id: number) => {
    const holder = queue.byMessageId.get(id);
    return holder === undefined || holder === key || !queue.items.has(holder);
  };
  if (isFree(wanted)) return wanted;
  for (let step = 0; step < 65_535; step++) {
    queue.lastId = (queue.lastId % 65_535) + 1;
    if (isFree(queue.lastId)) return queue.lastId;
  }
  throw new Error("65,535 packets unacknowledged: no message id is free");
}

/** The persistence to hand `Aedes.createBroker({ persistence })`. */
export function indexedMemoryPersistence(): object {
  return new CallBackPersistence((opts) => new IndexedMemoryPersistence(opts), {});
}
