// Client ids across broker nodes (CONTRACT §12, REDIS_URL). Two things the single process knows from its own
// memory must be in Redis once several nodes share the clients:
// 1. Which account holds a client id (./client-ids.ts says why: [MQTT-3.1.4-2] takeover). aedes' cluster closes
//    a client with the same id on ANY node (`$SYS/<node>/new/clients`), so a per-node registry protects nothing.
//    `campus:client-id:<id>` = the account, claimed atomically (one Lua script) before CONNACK. The rule:
//    - a persistent-session id (CleanSession 0) keeps its holder with no expiry: its session lives in Redis
//      (aedes-persistence-redis) with no expiry either;
//    - a clean-session id is held while it is connected: the hold is deleted when the connection that made
//      it closes, and only if no later connection (the same account reconnecting, on any node, or the service
//      account taking over) has claimed the id since. A clean CONNECT discards the id's session
//      [MQTT-3.1.2-6], so there is nothing left to protect once it is gone.
//    A node that crashes cannot delete its clean holds: they stay with their account, which refuses only OTHER
//    accounts (the holder reconnecting takes them back at once). That is stricter than the single process,
//    never looser, and costs one key per client id connected to the crashed node until it comes back.
// 2. Which node each client id is connected on: `campus:client-live:<id>` = "<aedes broker id> <connection>",
//    written by the same script, deleted when that connection closes if it still names it. It makes the dead
//    node's wills skippable (`withoutStaleWills`).
import { createHash } from "node:crypto";
import type { Logger } from "../infra/logger.js";
import type { Redis } from "../infra/redis.js";

export const CLIENT_ID_KEY_PREFIX = "campus:client-id:";
export const CLIENT_LIVE_KEY_PREFIX = "campus:client-live:";

// KEYS: holder, live. ARGV: account, privileged ("1"/"0"), live value. 1 = claimed, 0 = another account holds it.
const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and ARGV[2] ~= '1' then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3])
return 1`;
// KEYS: holder, live. ARGV: live value, clean ("1"/"0"). Nothing happens when a later connection owns the id.
const RELEASE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
return 1`;

/** Releases the hold of one connection (fire and forget). */
export type Release = () => void;

export interface SharedClientIds {
  /**
   * Holds `clientId` for `account` on this node: resolves with the connection's release, or null when another
   * account holds it (`privileged`: the service account, which may always take an id over). Rejects when
   * Redis cannot answer: the caller refuses the CONNECT rather than skip the check (the client retries).
   */
  claim(clientId: string, account: string, clean: boolean, privileged: boolean): Promise<Release | null>;
  /** Whether `clientId` is connected on another node now (its live key names another node). */
  connectedElsewhere(clientId: string): Promise<boolean>;
}

const holderKey = (clientId: string) => CLIENT_ID_KEY_PREFIX + clientId;
const liveKey = (clientId: string) => CLIENT_LIVE_KEY_PREFIX + clientId;

/** The live value: which node (aedes broker id, a UUID: no spaces) and which of its connections. */
export const liveValue = (brokerId: string, connection: number) => `${brokerId} ${connection}`;
/** The node a live value names. */
export const nodeOfLiveValue = (value: string) => value.split(" ", 1)[0]!;

/** Runs a script by its SHA1, loading it once when Redis does not know it (a restart without it, a new Redis). */
async function runScript(redis: Redis, script: string, sha: string, args: string[]): Promise<unknown> {
  try {
    return await redis.evalsha(sha, 2, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script, 2, ...args);
  }
}
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** `redis`: a connection whose commands fail at once while Redis is away (infra/redis.ts connectRedis). */
export function sharedClientIds(redis: Redis, brokerId: string, log: Logger): SharedClientIds {
  const claimSha = sha1(CLAIM);
  const releaseSha = sha1(RELEASE);
  let connections = 0;
  return {
    async claim(clientId, account, clean, privileged) {
      const live = liveValue(brokerId, ++connections);
      const keys = [holderKey(clientId), liveKey(clientId)];
      const claimed = await runScript(redis, CLAIM, claimSha, [...keys, account, privileged ? "1" : "0", live]);
      if (claimed !== 1) return null;
      return () => {
        // Redis away: the hold stays with this account (stricter, never looser); its next CONNECT takes it back.
        runScript(redis, RELEASE, releaseSha, [...keys, live, clean ? "1" : "0"]).catch((error: Error) =>
          log.debug({ err: error.message }, "could not release a client id in Redis; it stays with its account"),
        );
      };
    },
    async connectedElsewhere(clientId) {
      const node = await liveNodeOf(redis, clientId);
      return node !== null && node !== brokerId;
    },
  };
}

/** The aedes broker id a client id is connected on now, as far as Redis knows (null: none). */
export async function liveNodeOf(redis: Redis, clientId: string): Promise<string | null> {
  const value = await redis.get(liveKey(clientId));
  return value === null ? null : nodeOfLiveValue(value);
}

/** What aedes-persistence-redis 11.2 `streamWill` yields: the CONNECT will, stamped by `putWill`. */
export interface StoredWill {
  clientId: string;
  brokerId: string;
}

/** Whether a dead node's will is stale: its client id is connected again, on another node or on this one. */
export const isStaleWill = (will: StoredWill, liveNode: string | null) => liveNode !== null && liveNode !== will.brokerId;

/**
 * The wills of dead nodes that aedes is about to publish, without those whose client is connected again
 * (`liveNode`), each of which is deleted (`drop`) so that no later sweep publishes it either.
 *
 * The aedes 1.2.0 mechanism this relies on (aedes.js `_clearWills`): every node publishes `$SYS/<id>/heartbeat`
 * (heartbeatInterval) and records the heartbeats it hears; every 4 intervals it streams the stored wills of the
 * nodes not heard for 3 intervals (`persistence.streamWill(brokers)`), publishes each one (client = null), then
 * `delWill`s it. A device that reconnected elsewhere in those 15–20 s has a new will stored under its new node's
 * id, but the one under the dead node's id is still there: published, its retained "offline" would overwrite
 * the device's "online". A live key naming the will's own (dead) node is a crash leftover: that will is published.
 * Left: a device reconnecting in the milliseconds between this check and the publish can still be overtaken.
 */
export async function* withoutStaleWills<Will extends StoredWill>(
  wills: AsyncIterable<Will>,
  liveNode: (clientId: string) => Promise<string | null>,
  drop: (will: Will) => Promise<void>,
  onSkipped: (count: number) => void,
): AsyncGenerator<Will> {
  let skipped = 0;
  try {
    for await (const will of wills) {
      // A failed look-up (Redis away) ends this sweep with an error; aedes emits it and sweeps again later.
      if (!isStaleWill(will, await liveNode(will.clientId))) {
        yield will;
        continue;
      }
      await drop(will);
      skipped += 1;
    }
  } finally {
    if (skipped > 0) onSkipped(skipped);
  }
}

/**
 * The whole sweep read before aedes sees its first will. aedes' sweep (aedes.js `_clearWills`, lib/utils.js `batch`)
 * starts the check and publish of each will as it reads it, and attaches a handler to them only once 16 are read:
 * one that fails while the next is still being read (a look-up above waiting on Redis) is an unhandled rejection,
 * which ends a Node 20 process. Both broker nodes of a district run crashed so, with Redis answering late
 * (docs/benchmarks.md, run D8). Read whole, the wills follow one another without waiting, and a look-up that fails
 * ends the sweep before any will is checked (aedes emits the error; the next sweep tries again).
 */
export async function* wholeSweep<Will>(wills: AsyncIterable<Will>): AsyncGenerator<Will> {
  const all: Will[] = [];
  for await (const will of wills) all.push(will);
  yield* all;
}

