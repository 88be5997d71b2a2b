// The device messages of a deployment with REDIS_URL (CONTRACT §12; docs/ha.md): one Redis Stream that every
// broker node appends to and every ingest worker reads through one consumer group, so each message goes to one
// worker and a dead worker's unacknowledged entries are claimed by the others (XAUTOCLAIM). It replaces, in
// that mode only, the single-process path (broker journal → MQTT session → ingest): a broker node acknowledges a
// device's QoS 1 publish once XADD has answered, i.e. once Redis holds it (with appendfsync always: on disk).
// Entries: field `t` the MQTT topic, field `p` the payload's bytes. An ingest worker acknowledges an entry
// (XACK) once its readings are in the worker's spool, as it acknowledges a PUBACK in single-process mode, and
// the stream is trimmed below the oldest entry still pending.
import type { Redis } from "ioredis";

export const DEVICE_STREAM_KEY = "campus:device-messages";
export const INGEST_GROUP = "ingest";
export const TOPIC_FIELD = "t";
export const PAYLOAD_FIELD = "p";

/** Appends one device message; resolves with its entry id once Redis has it, rejects if Redis cannot take it. */
export async function appendDeviceMessage(redis: Redis, topic: string, payload: Buffer): Promise<string> {
  const id = await redis.xadd(DEVICE_STREAM_KEY, "*", TOPIC_FIELD, topic, PAYLOAD_FIELD, payload);
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
