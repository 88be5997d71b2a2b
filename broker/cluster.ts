// What makes several broker processes one broker (CONTRACT §12, REDIS_URL): aedes' own cluster modules on one
// Redis, never a home-made protocol. `mqemitter-redis` 7.2 carries every publish between the nodes (Redis
// PUBLISH / PSUBSCRIBE), and `aedes-persistence-redis` 11.2 (12.0 is outside aedes 1.2.0's peer range) keeps
// subscriptions, persistent sessions with their QoS 1 queues, retained messages and wills in Redis, so a
// client may come back on any node. A fourth connection appends device messages to the stream (./redis-feed.ts),
// a fifth holds client ids and says where each is connected (./cluster-client-ids.ts).
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import type { Logger } from "../infra/logger.js";
import { type Redis, connectRedis, untilReady } from "../infra/redis.js";
import { finishesWithin } from "../infra/timeout.js";
import { type StoredWill, liveNodeOf, wholeSweep, withoutStaleWills } from "./cluster-client-ids.js";

const require = createRequire(import.meta.url);
// CommonJS without an "exports" map. The callback-wrapped persistence is what aedes itself builds by default.
const MQEmitterRedis = require("mqemitter-redis") as (options: object) => ClusterEmitter;
const redisPersistence = require("aedes-persistence-redis") as (options: object) => ClusterPersistence;

interface ClusterEmitter {
  /** mqemitter-redis re-emits its connections' errors here; an EventEmitter 'error' without a listener throws. */
  state: { on(event: "error", listener: (error: Error) => void): void };
  emit(message: { topic: string }, done?: (error?: Error) => void): void;
}
interface ClusterPersistence {
  destroy(): Promise<void>;
  /** The wills of the nodes not in `brokers` (aedes.js `_clearWills`); a Readable of an async generator. */
  streamWill(brokers: object): AsyncIterable<StoredWill>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
  addSubscriptions(client: { id: string }, subs: readonly object[]): Promise<unknown>;
}

// aedes' default concurrency, which its own mqemitter gets (aedes.js defaultOptions).
const MQ_CONCURRENCY = 100;
const CLOSE_TIMEOUT_MS = 2_000;
/**
 * Longest wait between two attempts to reach Redis again, ms (infra/redis.ts's default is 2,000). Every node's
 * connections come back within this of Redis's return, so the nodes' bus is whole again soon after: a publish
 * from a node whose publisher is back reaches no subscriber on a node whose subscriber is not yet.
 */
const RECONNECT_BACKOFF_MS = 250;

export interface ClusterParts {
  /** aedes' `mq` option. */
  mq: ClusterEmitter;
  /** aedes' `persistence` option. */
  persistence: ClusterPersistence;
  /** The connection the device-message appends use (fails at once while Redis is away: ./redis-feed.ts). */
  stream: Redis;
  /** The connection of ./cluster-client-ids.ts (fails at once while Redis is away: a CONNECT is then refused). */
  clientIds: Redis;
  /** After aedes has closed: the persistence and every connection. */
  close(): Promise<void>;
}

/**
 * A connection for the aedes modules that WAITS while Redis is away (its commands queued until Redis is back)
 * instead of failing at once: mqemitter-redis never retries a SUBSCRIBE that failed, so a client subscribing
 * during a blip would get nothing from then on, and aedes drops a publish whose persistence command failed.
 * While Redis is away a client's QoS 1 publish thus waits in aedes; a device's never does: the stream
 * connection fails at once, so the device is not acknowledged (./redis-feed.ts). Same logging and backoff as
 * every other connection.
 */
function connectWaiting(url: string, name: string, log: Logger): Redis {
  const client = connectRedis(url, { name, log, maxBackoffMs: RECONNECT_BACKOFF_MS });
  // ioredis reads these at each command and each reconnection (public `options`).
  // No command timeout either: these commands are meant to wait for Redis's return (infra/redis.ts bounds the others).
  Object.assign(client.options, { enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  handleUnawaited(client);
  return client;
}

/**
 * Commands the modules send without awaiting them: aedes-persistence-redis 11.2.2's LREM and RPUSH
 * (asyncPersistence.js `putWill`, `delWill`, `getDecodedValue`) and mqemitter-redis 7.2.1's QUIT (`close`). One
 * that fails (its connection closed while a will was being deleted, a QUIT answered by a closed socket) would be
 * an unhandled rejection, which ends a Node 20 process. Their promises are marked handled here; a caller that
 * awaits one still gets its error.
 */
function handleUnawaited(client: Redis): void {
  for (const name of ["lrem", "rpush", "quit"] as const) {
    const send = client[name].bind(client) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(client, {
      [name]: (...args: unknown[]) => {
        const reply = send(...args);
        reply.catch(() => undefined);
        return reply;
      },
    });
  }
}

/** Opens the connections and waits for Redis (saying so every 5 s) before aedes is built on them. */
export async function connectCluster(url: string, log: Logger): Promise<ClusterParts> {
  const subscriber = connectWaiting(url, "broker-mq-sub", log);
  const publisher = connectWaiting(url, "broker-mq-pub", log);
  const store = connectWaiting(url, "broker-persistence", log);
  const stream = connectRedis(url, { name: "broker-stream", log, maxBackoffMs: RECONNECT_BACKOFF_MS });
  const clientIds = connectRedis(url, { name: "broker-client-ids", log, maxBackoffMs: RECONNECT_BACKOFF_MS });
  const connections = [subscriber, publisher, store, stream, clientIds];
  await Promise.all(connections.map((connection) => untilReady(connection, url, log)));
  await checkDurability(stream, log);

  // matchEmptyLevels: `a/#` also matches `a` [MQTT-4.7.1-3], as aedes' own mqemitter is built.
  const mq = MQEmitterRedis({ subConn: subscriber, pubConn: publisher, concurrency: MQ_CONCURRENCY, matchEmptyLevels: true });
  // connectRedis already says once when Redis goes and once when it returns.
  mq.state.on("error", (error) => log.debug({ err: error.message }, "mqemitter-redis connection error"));
  const held = holdEmitsUntilSubscribed(mq, subscriber);
  // maxSessionDelivery: the QoS 1 packets a persistent session gets at each CONNECT (default 1,000; the rest
  // wait for its next CONNECT). packetTTL stays off: a queued packet is kept until its session takes it.
  const persistence = redisPersistence({ conn: store, maxSessionDelivery: 10_000 });
  skipStaleWills(persistence, clientIds, log);
  storeEachSubscribeOnce(persistence);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // destroy() leaves the `$SYS/sub/+` subscription and disconnects its connection; bounded, as Redis may be away.
      held.fail(new Error("broker closing: Redis was away and the message was not sent"));
      await finishesWithin(persistence.destroy(), CLOSE_TIMEOUT_MS).catch((error: unknown) => log.debug({ err: error }, "Redis persistence did not close cleanly"));
      // mqemitter-redis QUITs its two connections in aedes.close(); a connection Redis was away from never ends that way.
      for (const connection of connections) connection.disconnect();
    })();
    return closing;
  };
  return { mq, persistence, stream, clientIds, close };
}

/**
 * mqemitter-redis hands every message to the subscribers, this node's own included, only as it comes back from
 * Redis on the subscriber connection. When Redis returns, the publisher connection can be ready before ioredis
 * has subscribed the subscriber's patterns again (it does so on 'ready'), and a message published in between
 * reaches nobody: the failure drills lost an alert opened right after a Redis restart that way (it was stored,
 * retained, and never delivered to the connected watchers). So while the subscriber is away, this node's
 * publishes wait, in order, until a PING sent on it after its resubscriptions is answered (Redis answers a
 * connection's commands in order, so the patterns are subscribed by then). Another node's subscriber coming back
 * later than this node's publisher can still miss a message: RECONNECT_BACKOFF_MS keeps that gap short, and
 * docs/ha.md says what it means.
 */
function holdEmitsUntilSubscribed(mq: ClusterEmitter, subscriber: Redis): { fail(error: Error): void } {
  const emit = mq.emit.bind(mq);
  let subscribed = true;
  let held: [message: { topic: string }, done: ((error?: Error) => void) | undefined][] = [];
  subscriber.on("close", () => (subscribed = false));
  // 'ready' is emitted before ioredis sends the resubscriptions of that same 'ready': the PING goes after them.
  subscriber.on("ready", () =>
    setImmediate(() =>
      subscriber.ping().then(
        () => {
          if (subscriber.status !== "ready") return; // gone again: the next 'ready' tries again
          subscribed = true;
          const waiting = held;
          held = [];
          for (const [message, done] of waiting) emit(message, done);
        },
        () => undefined,
      ),
    ),
  );
  mq.emit = (message, done) => (subscribed ? emit(message, done) : void held.push([message, done]));
  return {
    fail(error) {
      const waiting = held;
      held = [];
      for (const [, done] of waiting) done?.(error);
    },
  };
}

/**
 * aedes 1.2 (lib/handlers/subscribe.js `storeSubscriptions`) stores a persistent session's SUBSCRIBE once per
 * filter, each time with ALL the packet's filters. aedes-persistence-redis answers each call only once its
 * broadcast of the change has come back, and waits for it under a key made of the client id and the FIRST
 * filter: the second call's wait replaced the first's, which never ended, and a SUBSCRIBE of two filters or
 * more never got its SUBACK (the alerts service's session received nothing). One store per packet: the calls
 * of one SUBSCRIBE share their `subs` array (tests/integration/ha-broker.test.ts).
 */
function storeEachSubscribeOnce(persistence: ClusterPersistence): void {
  const add = persistence.addSubscriptions.bind(persistence);
  const inFlight = new WeakMap<readonly object[], Promise<unknown>>();
  persistence.addSubscriptions = (client, subs) => {
    let stored = inFlight.get(subs);
    if (!stored) inFlight.set(subs, (stored = add(client, subs)));
    return stored;
  };
}

/**
 * A dead node's wills are published by the surviving nodes 15–20 s later, also for devices that have connected
 * again since; aedes streams them from the persistence, so the stream is filtered there (./cluster-client-ids.ts
 * `withoutStaleWills` says which aedes mechanism this is), and read whole first (`wholeSweep` says why). Only
 * aedes' dead-node sweep calls `streamWill`.
 */
function skipStaleWills(persistence: ClusterPersistence, redis: Redis, log: Logger): void {
  const streamWill = persistence.streamWill.bind(persistence);
  persistence.streamWill = (brokers) =>
    Readable.from(
      wholeSweep(withoutStaleWills(
        streamWill(brokers),
        (clientId) => liveNodeOf(redis, clientId),
        async (will) => void (await persistence.delWill({ id: will.clientId, brokerId: will.brokerId })),
        (count) => log.info({ count }, "dead broker node: skipped the wills of its clients that are connected again"),
      )),
    );
}

/**
 * A device is acknowledged once Redis has its message: that survives a power loss only with the append-only
 * file fsynced before each answer (docs/ha.md "What acknowledged means"). Said at start, loudly when it is not
 * so; a Redis that refuses CONFIG (some managed services) is said to be unchecked.
 */
export async function checkDurability(redis: Redis, log: Logger): Promise<"always" | "weaker" | "unknown"> {
  try {
    const [, appendonly] = (await redis.config("GET", "appendonly")) as string[];
    const [, appendfsync] = (await redis.config("GET", "appendfsync")) as string[];
    if (appendonly === "yes" && appendfsync === "always") {
      log.info({ appendonly, appendfsync }, "Redis saves each write before answering (AOF, appendfsync always): an acknowledged reading survives a power loss");
      return "always";
    }
    log.warn(
      { appendonly, appendfsync },
      appendonly === "yes"
        ? "Redis answers before its append-only file is fsynced (appendfsync is not always): a power loss can lose readings devices were told were stored; set appendfsync always (docs/ha.md)"
        : "Redis runs without its append-only file: a Redis restart loses readings devices were told were stored; run it with --appendonly yes --appendfsync always (docs/ha.md)",
    );
    return "weaker";
  } catch (error) {
    log.warn({ err: (error as Error).message }, "could not read Redis's persistence settings (CONFIG GET refused): make sure it runs with appendonly yes and appendfsync always (docs/ha.md)");
    return "unknown";
  }
}
