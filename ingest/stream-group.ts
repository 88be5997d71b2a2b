// The ingest workers' consumer group on one partition of the device stream (infra/device-stream.ts; CONTRACT
// §12): creating it, taking over what an earlier holder left pending, trimming what every group has
// acknowledged, and forgetting consumers long gone. Every function takes the partition's stream key. Each is one or two Redis commands; the decisions on their replies are pure functions
// below (exported for tests/unit/ingest/stream-group.test.ts).
import { INGEST_GROUP, type RawEntry } from "../infra/device-stream.js";
import type { Redis } from "../infra/redis.js";

/** Creates the group if it is missing: from id 0, so what broker nodes appended before any worker started is read too. */
export async function ensureGroup(redis: Redis, key: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", key, INGEST_GROUP, "0", "MKSTREAM");
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("BUSYGROUP"))) throw error; // BUSYGROUP: another worker made it
  }
}

/**
 * One XAUTOCLAIM round: entries of any consumer of the group idle longer than `minIdleMs` become `consumer`'s.
 * Returns them and the cursor of the next round ("0-0": the whole pending list was scanned). An entry deleted
 * while pending is not among them: Redis 7 lists its id apart and drops it from the pending list.
 */
export async function claimIdle(redis: Redis, key: string, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<{ entries: RawEntry[]; next: string }> {
  const reply = (await redis.callBuffer("XAUTOCLAIM", key, INGEST_GROUP, consumer, minIdleMs, cursor, "COUNT", count)) as [Buffer, (RawEntry | null)[]];
  // Redis 6.2 listed such an entry as null; filtered, should the server be older than Debian's 7.0.
  return { entries: reply[1].filter((entry): entry is RawEntry => entry !== null), next: reply[0].toString() };
}

/** Stream ids ("ms-seq") in order; -1, 0 or 1. */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq = "0"] = a.split("-");
  const [bMs, bSeq = "0"] = b.split("-");
  const ms = BigInt(aMs!) - BigInt(bMs!);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** What trimming needs to know of one group: read with XINFO GROUPS first, then XPENDING. */
export interface GroupProgress {
  lastDelivered: string;
  /** The smallest id still pending (delivered, not acknowledged), null when nothing is. */
  oldestPending: string | null;
}

/**
 * The MINID to trim the stream to (entries below it are deleted), or null to leave it alone. Everything below
 * the result was delivered and acknowledged in every group. Per group: its oldest pending entry, else its
 * last-delivered id (that entry itself stays: MINID keeps ids ≥ it). The smaller of the two is taken because
 * they are read one after the other: an entry delivered in between has an id above the last-delivered one
 * read first, so it is never below the result. No group, or a group that read nothing: null.
 */
export function trimBelow(groups: readonly GroupProgress[]): string | null {
  let lowest: string | null = null;
  for (const group of groups) {
    if (group.lastDelivered === "0-0") return null;
    const floor = group.oldestPending !== null && compareIds(group.oldestPending, group.lastDelivered) < 0 ? group.oldestPending : group.lastDelivered;
    if (lowest === null || compareIds(floor, lowest) < 0) lowest = floor;
  }
  return lowest;
}

/** A flat [name, value, name, value…] reply of XINFO as an object. */
export function fieldsOf(reply: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = reply[i + 1];
  return fields;
}

export interface ConsumerInfo {
  name: string;
  pending: number;
  /** ms since the consumer last read or claimed (Redis 7.0 `idle`; 7.2 also has `inactive`, not used). */
  idleMs: number;
}

export function parseConsumers(reply: unknown): ConsumerInfo[] {
  if (!Array.isArray(reply)) return [];
  return reply.map(fieldsOf).map((c) => ({ name: String(c.name), pending: Number(c.pending), idleMs: Number(c.idle) }));
}

/** Consumers to delete: not this one, nothing pending, idle at least `afterMs` (a worker that reads is never idle 1 s). */
export function consumersToForget(consumers: readonly ConsumerInfo[], self: string, afterMs: number): string[] {
  return consumers.filter((c) => c.name !== self && c.pending === 0 && c.idleMs >= afterMs).map((c) => c.name);
}

/**
 * Trims the stream below what every group has acknowledged (never an entry not yet delivered or still pending).
 * Returns the entries deleted and this group's pending count (for the gauge), or null when the stream is missing.
 */
export async function trimAcknowledged(redis: Redis, key: string): Promise<{ trimmed: number; pending: number } | null> {
  const groups = ((await redis.xinfo("GROUPS", key)) as unknown[]).map(fieldsOf);
  const progress: GroupProgress[] = [];
  let pending = 0;
  for (const group of groups) {
    const summary = (await redis.xpending(key, String(group.name))) as [number, string | null, string | null, unknown];
    if (group.name === INGEST_GROUP) pending = Number(summary[0]);
    progress.push({ lastDelivered: String(group["last-delivered-id"]), oldestPending: Number(summary[0]) > 0 ? summary[1] : null });
  }
  const below = trimBelow(progress);
  const trimmed = below === null ? 0 : Number(await redis.xtrim(key, "MINID", below));
  return { trimmed, pending };
}

// Deletes a consumer only if it still has nothing pending, atomically: XGROUP DELCONSUMER drops a consumer's
// pending entries with it, and a consumer seen idle a moment ago may have read since.
const FORGET_IF_NOTHING_PENDING = `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])`;

/** Deletes the group's consumers idle at least `afterMs` with nothing pending (workers gone for good); returns their names. */
export async function forgetIdleConsumers(redis: Redis, key: string, self: string, afterMs: number): Promise<string[]> {
  const consumers = parseConsumers(await redis.xinfo("CONSUMERS", key, INGEST_GROUP));
  const forgotten: string[] = [];
  for (const name of consumersToForget(consumers, self, afterMs)) {
    if (Number(await redis.eval(FORGET_IF_NOTHING_PENDING, 1, key, INGEST_GROUP, name)) === 0) forgotten.push(name);
  }
  return forgotten;
}
