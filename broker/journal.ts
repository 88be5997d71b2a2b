// A broker-side journal, so a SIGKILL of the broker (or of `up`, which holds the broker) loses nothing a
// device published with QoS 1 and the broker acknowledged. aedes' memory persistence dies with the process,
// and aedes-persistence-level stalled live QoS 1 delivery in our measurements (shared/reference/libraries.md
// §1.6), so instead every QoS 1 publish from a device that the ingest's session subscribes to is appended
// to a durable spool (infra/spool: checksummed records, group-commit fdatasync) at the end of
// `authorizePublish`: aedes 1.2.0 writes the PUBACK right after that hook and BEFORE it publishes
// (lib/handlers/publish.js, enqueuePublish case 1), so the `published` hook would be too late.
// An entry is retired when the ingest's client acknowledges the packet (aedes 'ack'), which the ingest does
// only once the reading is in its own spool. The ack carries aedes' copy of the packet, whose payload is
// the very Buffer the device's PUBLISH was parsed into (aedes-packet copies the reference), so entries are
// matched by payload identity. After a restart, entries not retired are published again as soon as the
// ingest subscribes; duplicates are harmless (idempotent writes).
import type { Aedes, AedesPublishPacket, Client, PublishPacket } from "aedes";
import { existsSync } from "node:fs";
import type { Logger } from "../infra/logger.js";
import { Spool, type SpoolPosition } from "../infra/spool/spool.js";

export interface JournalOptions {
  dir: string;
  /** The client id whose acknowledgements retire entries (the ingest's: campus-ingest). */
  subscriberId: string;
  maxBytes?: number;
  log: Logger;
  /** Bytes of a torn or damaged record skipped (for the `journal_corrupt_bytes_total` counter). */
  onCorrupt?(bytes: number): void;
}

interface Entry {
  end: SpoolPosition;
  acked: boolean;
}

interface Replay {
  topic: string;
  payload: Buffer;
  entry: Entry;
}

/** Before the ingest's first subscription, publishes are journaled for this long (the start of `up`). */
const STARTUP_GRACE_MS = 60_000;
const CHECKPOINT_EVERY_MS = 1_000;

/** A journal record: the topic's length (2 bytes), the topic, the payload. */
export const encodeJournalRecord = (topic: string, payload: Buffer) => {
  const topicBytes = Buffer.from(topic);
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(topicBytes.length);
  return Buffer.concat([head, topicBytes, payload]);
};
export const decodeJournalRecord = (body: Buffer) => {
  const length = body.readUInt16BE(0);
  return { topic: body.subarray(2, 2 + length).toString(), payload: Buffer.from(body.subarray(2 + length)) };
};

type Persistence = { subscriptionsByTopic(topic: string): Promise<{ clientId: string; qos: number }[]> };

export function attachJournal(aedes: Aedes, options: JournalOptions) {
  const { log } = options;
  let spool: Spool | null = null;
  // The folder is only created once something is journaled: a broker whose ingest never connects leaves nothing.
  const open = () =>
    (spool ??= Spool.open({
      dir: options.dir,
      maxBytes: options.maxBytes ?? 1024 * 1024 * 1024,
      onCorrupt: (bytes, where) => {
        options.onCorrupt?.(bytes);
        log.warn({ bytes, where }, "skipped a torn or damaged journal record");
      },
    }));
  const startedAt = Date.now();
  let subscribed = false;
  let pending: Entry[] = []; // in journal order, from `head` (an index: shift() is O(n) on a long array)
  let head = 0;
  const byPayload = new Map<Buffer, Entry>();
  const ackedEarly = new WeakSet<Buffer>();
  let lastCheckpoint = 0;
  let toReplay: Replay[] = [];
  // aedes' types do not declare `persistence`; it is the documented persistence instance (docs/Aedes.md).
  const persistence = () => (aedes as unknown as { persistence: Persistence }).persistence;

  if (existsSync(options.dir)) {
    const previous = open();
    for (const record of previous.read(Number.MAX_SAFE_INTEGER)) {
      const entry = { end: record.end, acked: false };
      pending.push(entry);
      toReplay.push({ ...decodeJournalRecord(record.body), entry });
    }
    if (toReplay.length > 0) log.warn({ entries: toReplay.length }, "broker journal: publishing again what the ingest had not acknowledged before the last stop");
  }

  // The checkpoint (one fsync + rename) is saved at most once a second, and once more a second after the
  // last retirement; a restart replays at most that second of acknowledged entries (idempotent writes).
  let checkpointTimer: NodeJS.Timeout | undefined;
  const checkpoint = () => {
    clearTimeout(checkpointTimer);
    checkpointTimer = undefined;
    lastCheckpoint = Date.now();
    spool?.saveCheckpoint(null);
  };
  const retire = () => {
    let last: SpoolPosition | null = null;
    while (head < pending.length && pending[head]!.acked) last = pending[head++]!.end;
    if (head > 1024 && head * 2 > pending.length) {
      pending = pending.slice(head);
      head = 0;
    }
    if (last && spool) {
      spool.commit(last);
      if (Date.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) checkpoint();
      else checkpointTimer ??= setTimeout(checkpoint, CHECKPOINT_EVERY_MS).unref();
    }
  };

  const replay = (item: Replay) => {
    const payload = Buffer.from(item.payload); // our own object: its acknowledgement retires this entry
    byPayload.set(payload, item.entry);
    aedes.publish({ cmd: "publish", topic: item.topic, payload, qos: 1, retain: false, dup: false }, () => undefined);
  };

  aedes.on("ack", (packet, client) => {
    const payload = (packet as AedesPublishPacket | undefined)?.payload;
    if (!client || client.id !== options.subscriberId || !Buffer.isBuffer(payload)) return;
    const entry = byPayload.get(payload);
    if (!entry) {
      ackedEarly.add(payload); // acknowledged before its journal append finished (or not journaled at all)
      return;
    }
    byPayload.delete(payload);
    entry.acked = true;
    retire();
  });

  aedes.on("subscribe", (_subscriptions, client) => {
    if (client.id !== options.subscriberId || subscribed) return;
    subscribed = true;
    const items = toReplay;
    toReplay = [];
    items.forEach(replay);
  });

  // Whether the ingest's session takes a topic, cached per topic until the subscriptions change.
  // A lookup that started before a change is not cached after it (the generation moved on).
  const wantedByTopic = new Map<string, boolean>();
  let generation = 0;
  const forget = () => {
    generation++;
    wantedByTopic.clear();
  };
  aedes.on("subscribe", forget);
  aedes.on("unsubscribe", forget);
  aedes.on("client", (client) => client.id === options.subscriberId && forget());
  aedes.on("clientDisconnect", (client) => client.id === options.subscriberId && forget());
  const wanted = async (packet: PublishPacket): Promise<boolean> => {
    if (packet.qos === 0) return false;
    if (!subscribed) return Date.now() - startedAt < STARTUP_GRACE_MS;
    const known = wantedByTopic.get(packet.topic);
    if (known !== undefined) return known;
    const asked = generation;
    const subs = await persistence().subscriptionsByTopic(packet.topic);
    const wants = subs.some((s) => s.clientId === options.subscriberId && s.qos > 0);
    if (asked === generation) {
      if (wantedByTopic.size >= 100_000) wantedByTopic.clear();
      wantedByTopic.set(packet.topic, wants);
    }
    return wants;
  };

  /** Called once a device's publish is authorized, before aedes acknowledges it; resolves once it is durable. */
  const accept = async (packet: PublishPacket, _client: Client): Promise<void> => {
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    // Published before the ingest subscribed (the start of `up`): aedes has no one to deliver it to yet,
    // so the journal delivers it once the ingest subscribes.
    const beforeSubscriber = !subscribed;
    if (!(await wanted(packet))) return;
    const journal = open();
    const [end] = await journal.append([encodeJournalRecord(packet.topic, payload)], Date.now());
    const entry: Entry = { end: end!, acked: false };
    pending.push(entry);
    if (beforeSubscriber) {
      const item = { topic: packet.topic, payload, entry };
      if (subscribed) replay(item);
      else toReplay.push(item);
    } else if (ackedEarly.delete(payload)) {
      entry.acked = true;
      retire();
    } else byPayload.set(payload, entry);
  };

  return {
    accept,
    get pendingEntries() {
      return pending.length - head;
    },
    async close() {
      if (!spool) return;
      retire();
      await spool.close();
      checkpoint();
    },
  };
}

