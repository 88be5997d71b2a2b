// The device messages of a deployment with REDIS_URL (CONTRACT §12; docs/ha.md): PARTITIONS Redis Streams,
// `campus:device-messages:{k}`, that every broker node appends to and ingest workers read, each partition
// through its own consumer group INGEST_GROUP. It replaces, in that mode only, the single-process path (broker
// journal → MQTT session → ingest): a broker node acknowledges a device's QoS 1 publish once XADD has answered,
// i.e. once Redis holds it (with appendfsync always: on disk).
// Why partitions: a consumer group hands entries to whichever worker asks next, so one device's consecutive
// readings would be handled by different workers, each deriving energy deltas from the counters IT saw (the
// sum over-counted ~2x with two workers) and publishing them out of order. Every message of one device goes to
// ONE partition (k = a stable hash of the device id, never of the whole topic: its telemetry, status, events
// and foreign-format topics stay together), and each partition is read by one worker at a time, the holder of
// its lease (ingest/partitions.ts): one device, one worker, in stream order.
// Entries: field `t` the MQTT topic, field `p` the payload's bytes. An ingest worker acknowledges an entry
// (XACK) once its readings are in the worker's spool, as it acknowledges a PUBACK in single-process mode, and
// each partition is trimmed below the oldest entry still pending.
import type { Redis } from "ioredis";

/**
 * Fixed: a device's partition must not change while entries wait (changing it needs every partition drained).
 * 16 spreads work over up to 16 workers; each holder reads all its partitions with one XREADGROUP.
 */
export const PARTITIONS = 16;
export const DEVICE_STREAM_PREFIX = "campus:device-messages:";
export const INGEST_GROUP = "ingest";
export const TOPIC_FIELD = "t";
export const PAYLOAD_FIELD = "p";

export const partitionKey = (partition: number) => `${DEVICE_STREAM_PREFIX}${partition}`;
export const PARTITION_KEYS: readonly string[] = Array.from({ length: PARTITIONS }, (_, k) => partitionKey(k));

/**
 * The partition of a device: FNV-1a (32 bit) of its id, mod PARTITIONS. Stable across processes, versions and
 * machines (never Node's own hashing), cheap, and even enough for ids like `brk-d3-301`.
 */
export function partitionOf(device: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < device.length; i++) {
    hash ^= device.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PARTITIONS;
}

/**
 * Appends one message of `device` (infra's caller decides which: domain/device-of-topic.ts) to its partition;
 * resolves with the entry id once Redis has it, rejects if Redis cannot take it.
 */
export async function appendDeviceMessage(redis: Redis, device: string, topic: string, payload: Buffer): Promise<string> {
  const id = await redis.xadd(partitionKey(partitionOf(device)), "*", TOPIC_FIELD, topic, PAYLOAD_FIELD, payload);
  if (id === null) throw new Error("Redis did not take the device message");
  return id;
}

/** One entry as XREADGROUP / XAUTOCLAIM return it with `…Buffer` commands: [id, [field, value, field, value]]. */
export type RawEntry = [Buffer, Buffer[]];

/** An entry's topic and payload, or null for an entry without both fields (counted and acknowledged by the reader). */
export function decodeEntry(entry: RawEntry): { id: string; topic: string; payload: Buffer } | null {
  const [id, fields] = entry;
  let topic: string | null = null;
  let payload: Buffer | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === TOPIC_FIELD) topic = fields[i + 1]!.toString();
    else if (name === PAYLOAD_FIELD) payload = fields[i + 1]!;
  }
  return topic === null || payload === null ? null : { id: id.toString(), topic, payload };
}
