// Partition leases of the device stream (infra/device-stream.ts; CONTRACT §12; docs/ha.md): each partition is
// read by one ingest worker at a time, the one named by `campus:ingest:partition:{k}` (a key with a TTL,
// renewed by its holder), so each device's messages are handled by one worker, in order. Workers heartbeat in
// the sorted set `campus:ingest:workers` (score = Redis' own clock, so workers' clocks never matter); each aims
// to hold ceil(PARTITIONS / live workers): it takes free partitions (SET NX PX) and gives up extras once more
// workers are alive, so work spreads when a worker joins and a dead worker's partitions are free within the
// TTL. The same mechanism as the alerts lease (alerts/lease.ts: TTL, a Lua renewal that checks the holder, a
// validity counted on this process's monotonic clock from when the renewal was SENT), one per partition; a
// lease on an existing engine, not a consensus protocol. Services never import each other, so the few lines
// are repeated here rather than imported from alerts/.
import type { Redis } from "../infra/redis.js";
import { PARTITIONS } from "../infra/device-stream.js";

export const WORKERS_KEY = "campus:ingest:workers";
export const partitionLeaseKey = (partition: number) => `campus:ingest:partition:${partition}`;
/** Lease TTL, ms: a dead worker's partitions are taken over within TTL + one renewal period (~6 s). */
export const DEFAULT_PARTITION_LEASE_MS = 5_000;
/** Renewals, heartbeats and rebalancing this often, ms: four renewals may fail before a lease expires. */
export const DEFAULT_RENEW_EVERY_MS = 1_000;

/** How many partitions each worker aims to hold with `liveWorkers` alive (this one included). */
export const targetShare = (liveWorkers: number, partitions = PARTITIONS) => Math.ceil(partitions / Math.max(1, liveWorkers));

/**
 * What to do on a beat (pure): which free partitions to try to take and which held ones to give up. `held`
 * counts partitions not already being given up. Extras given up are the highest-numbered, taken ones the
 * lowest free: the choice does not matter, being deterministic makes it readable in logs and tests.
 */
export function rebalance(held: readonly number[], free: readonly number[], liveWorkers: number): { take: number[]; give: number[] } {
  const target = targetShare(liveWorkers);
  if (held.length < target) return { take: [...free].sort((a, b) => a - b).slice(0, target - held.length), give: [] };
  if (held.length > target) return { take: [], give: [...held].sort((a, b) => b - a).slice(0, held.length - target) };
  return { take: [], give: [] };
}

// KEYS[1] workers; ARGV[1] worker, ARGV[2] how long a silent worker counts as alive, ms. The live workers.
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])`;

// KEYS the leases; ARGV[1] worker, ARGV[2] TTL ms. Per key 1 when renewed, 0 when not ours (expired or taken).
const RENEW = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]); out[i] = 1 else out[i] = 0 end
end
return out`;

// KEYS[1] lease; ARGV[1] worker. Deleted only if still ours.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface PartitionLeases {
  /** Says this worker is alive; returns how many workers are (itself included). */
  heartbeat(): Promise<number>;
  /** Renews the leases of `partitions`; returns those that were not ours any more. */
  renew(partitions: readonly number[]): Promise<number[]>;
  /** The partitions nobody holds (other than `except`). */
  free(except: ReadonlySet<number>): Promise<number[]>;
  /** Takes a free partition: false when someone was quicker. */
  acquire(partition: number): Promise<boolean>;
  /** Gives a partition up at once (still ours only). */
  release(partition: number): Promise<void>;
  /** A clean stop: no longer counted among the live workers. */
  leave(): Promise<void>;
}

export function createPartitionLeases(redis: Redis, worker: string, ttlMs: number): PartitionLeases {
  return {
    heartbeat: async () => Number(await redis.eval(HEARTBEAT, 1, WORKERS_KEY, worker, ttlMs)),
    async renew(partitions) {
      if (partitions.length === 0) return [];
      const renewed = (await redis.eval(RENEW, partitions.length, ...partitions.map(partitionLeaseKey), worker, ttlMs)) as number[];
      return partitions.filter((_, i) => renewed[i] !== 1);
    },
    async free(except) {
      const all = Array.from({ length: PARTITIONS }, (_, k) => k);
      const holders = await redis.mget(...all.map(partitionLeaseKey));
      return all.filter((k) => holders[k] === null && !except.has(k));
    },
    acquire: async (partition) => (await redis.set(partitionLeaseKey(partition), worker, "PX", ttlMs, "NX")) === "OK",
    release: async (partition) => void (await redis.eval(RELEASE, 1, partitionLeaseKey(partition), worker)),
    leave: async () => void (await redis.zrem(WORKERS_KEY, worker)),
  };
}
