// The broker service: aedes 1.2.0 (MQTT 3.1.1) with the campus ACL, TCP, TLS (CONTRACT §13) and WebSocket
// listeners, per-address connection limits, metrics and structured logs. Policy lives in acl.ts (pure) and hooks.ts (the aedes glue).
import "../infra/mqtt-packet-numbers.js";
import { Aedes } from "aedes";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { randomUUID } from "node:crypto";
import type { EventEmitter } from "node:events";
import { join } from "node:path";
import { createHooks } from "./hooks.js";
import type { DeviceFeed } from "./device-feed.js";
import { FeedJournal } from "./feed-journal.js";
import { attachJournal } from "./journal.js";
import { finishesWithin } from "../infra/timeout.js";
import { indexedMemoryPersistence } from "./persistence.js";
import { useFastQueues } from "./fast-queue.js";
import { createAddressLimit } from "../infra/address-limit.js";
import { type TlsCredentials, tlsFromEnv } from "../infra/tls.js";
import { type Listener, listenProxied, listenTcp, listenTls, listenUnix, listenWebSocket } from "./listeners.js";
import { holdDeliveriesUntilConnack, releaseDeliveriesOnConnack } from "./connack-first.js";
import { deliverEachPacketOnce } from "./deliver-once.js";
import { createBrokerMetrics } from "./metrics.js";
import { type SubscriberWindow, subscriberWindow } from "./subscriber-window.js";
import { DEFAULT_MAX_PACKET_BYTES, guardPacketSize } from "./packet-size-guard.js";
import { type ClusterParts, connectCluster } from "./cluster.js";
import { sharedClientIds } from "./cluster-client-ids.js";
import { type RedisFeed, appendKindOf, createRedisFeed } from "./redis-feed.js";
import { RateLimiter } from "../domain/rate-limiter.js";

export { authenticate, canPublish, canSubscribe, type Identity } from "./acl.js";
export { WEBSOCKET_PATH } from "./listeners.js";

export interface BrokerOptions {
  /** TCP port; 0 = ephemeral. Default: env MQTT_PORT. */
  port?: number;
  /** MQTT-over-WebSocket port; 0 = ephemeral. Default: env MQTT_WS_PORT. */
  wsPort?: number;
  /** MQTT-over-TLS port when TLS is on; 0 = ephemeral. Default: env MQTTS_PORT. */
  tlsPort?: number;
  /** The served certificate (shared with the API so one SIGHUP reloads both). Default: from TLS_CERT_FILE / TLS_KEY_FILE. */
  tls?: TlsCredentials | null;
  /** Also serve plain MQTT on this Unix socket (for `up`'s own services when TLS_ONLY closes the TCP port). */
  unixSocketPath?: string;
  /** Default: env BIND_HOST. */
  host?: string;
  /** Largest inbound packet (Remaining Length), bytes; larger ones close the connection. Default 1 MiB. */
  maxPacketBytes?: number;
  /**
   * The durable journal of device publishes until the ingest acknowledges them (./journal.ts), so a
   * SIGKILL of the broker loses nothing it acknowledged. Default: on, in DATA_DIR/broker/journal, for the
   * ingest's client id `campus-ingest`; `false` turns it off (the journal costs one fsync per group).
   */
  journal?: false | { dir?: string; subscriberId?: string };
  /**
   * `up`: device messages go to the ingest in this process (./device-feed.ts) instead of over MQTT. A device's
   * QoS 1 publish is acknowledged once it is in the broker's raw journal (./feed-journal.ts), and retired from
   * it once the ingest's spool holds its reading; what an earlier start left goes to the ingest first.
   */
  feed?: DeviceFeed;
  /** Flow control towards the ingest's session (./subscriber-window.ts): deliveries in flight, default 60,000. */
  subscriberWindow?: { window: number };
  /**
   * CONTRACT §12 (REDIS_URL): this process is one node of a broker sharing subscriptions, sessions, retained
   * messages and wills with the others through Redis (./cluster.ts), and device messages go to the Redis
   * Stream the ingest workers read (./redis-feed.ts) instead of an MQTT subscriber. `deviceFilters`: the
   * ingest's subscription filters (ingest/routing.ts `buildRouter(campus).subscriptions`). The journal, the
   * in-process feed and the subscriber window are single-process parts: off (a `feed` with it is refused).
   */
  redis?: { url: string; deviceFilters: readonly string[] };
  /** The PROXY-protocol listener's port; 0 = ephemeral, null = none. Default: env MQTT_PROXY_PORT. */
  proxyPort?: number | null;
}

export interface RunningBroker extends RunningService {
  /** Plain MQTT; 0 with TLS_ONLY (no plain listener). */
  tcpPort: number;
  /** MQTT over TLS; null without TLS. */
  tlsPort: number | null;
  /** MQTT over WebSocket (wss:// when TLS is on). */
  wsPort: number;
  /** MQTT_PROXY_PORT's listener (PROXY protocol in front); null when off. */
  proxyPort: number | null;
  aedes: Aedes;
}

// A subscriber whose socket stays full this long is disconnected, so one frozen client cannot hold
// all of aedes' delivery slots (`concurrency`, 100) and stall every other client (aedes docs, PR #1060).
// 15 s is far above a healthy client's drain time on a LAN or Wi-Fi, well below aedes' 60 s default,
// and leaves live readings at most 15 s late for everyone else in the worst case.
const DRAIN_TIMEOUT_MS = 15_000;
// The ingest's deliveries unacknowledged at once (./subscriber-window.ts): below 65,535, so 5,535 message ids
// stay free and ./persistence.ts always finds one. Smaller windows throttled the ingest, which reads its
// socket in large gulps and acknowledges a spool group at once (bench:ingest end to end: 30,000 gave
// 12,580–13,179 readings/s, 60,000 gave 14,464, none 14,732; 4,000 in `up` before the feed: 3,387 vs 6,046).
const SUBSCRIBER_WINDOW = 60_000;
// stop() gives up waiting on aedes and the listeners after this (CONTRACT §1: the process exits within 10 s).
const STOP_TIMEOUT_MS = 3_000;
// Cluster mode: each node says it is alive this often; the others publish the wills of a node silent for 3
// heartbeats, looking every 4 (aedes.js `_clearWills`). aedes' 60 s default left a killed node's devices
// "online" for 3–4 minutes; 5 s makes that 10–35 s (dead after 15 s, a sweep every 20 s) for one Redis PUBLISH
// per node every 5 s.
const CLUSTER_HEARTBEAT_MS = 5_000;

export async function startBroker(ctx: ServiceContext, options: BrokerOptions = {}): Promise<RunningBroker> {
  const log = ctx.log.child({ service: "broker" });
  const metrics = createBrokerMetrics(ctx.metrics);
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const host = options.host ?? ctx.env.bindHost;
  const tls = options.tls === undefined ? tlsFromEnv(ctx.env, log) : options.tls;
  if (options.redis && options.feed) throw new Error("broker: `redis` (a cluster node) and `feed` (up's single process) exclude each other");
  metrics.clusterNode.set(options.redis ? 1 : 0);
  // Waits for Redis, saying so every 5 s: a node with REDIS_URL never runs alone.
  const cluster: ClusterParts | null = options.redis ? await connectCluster(options.redis.url, log) : null;
  const redisFeed: RedisFeed | null = cluster && options.redis ? createRedisFeed(cluster.stream, options.redis.deviceFilters, log, metrics, ctx.campus) : null;
  // aedes' id for this node, known before aedes exists: the client ids held in Redis name the node they are on.
  const brokerId = randomUUID();
  const hooks = createHooks({ ...ctx, log }, metrics, cluster ? sharedClientIds(cluster.clientIds, brokerId, log) : undefined);

  // Memory persistence: aedes-persistence-level delayed live QoS 1 delivery in our measurements
  // (shared/reference/libraries.md §1.6); sessions survive client reconnects, not a broker restart —
  // what the ingest has not yet acknowledged survives in the journal (./journal.ts).
  // A device's (or bridge's) QoS 1 publish is journaled once authorized, before aedes acknowledges it (./journal.ts).
  let journal: ReturnType<typeof attachJournal> | null = null;
  let window: SubscriberWindow | null = null;
  let feedJournal: FeedJournal | null = null;
  const accept = async (packet: Parameters<typeof hooks.authorizePublish>[1], client: NonNullable<Parameters<typeof hooks.authorizePublish>[0]>) => {
    if (options.feed) await options.feed.accept(packet.topic, typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload);
    else await journal?.accept(packet, client);
  };
  const authorizePublish: typeof hooks.authorizePublish = (client, packet, callback) =>
    hooks.authorizePublish(client, packet, (error) => {
      if (error || !client || packet.qos === 0 || hooks.identityOf(client)?.kind === "service") return callback(error);
      if (redisFeed) {
        // A will is published whatever Redis says, and appended then (the `publish` event below).
        if (packet.cmd !== "publish") return callback(null);
        // Redis could not take it: the error closes the device's connection, unacknowledged ([MQTT-4.3.2]: it resends).
        return void redisFeed.accept(packet).then(() => callback(null), callback);
      }
      accept(packet, client).then(
        () => callback(null),
        (failure: Error) => {
          log.error({ err: failure }, options.feed ? "ingest: cannot take a device's message; the device is disconnected and will resend" : "broker journal: cannot append; the device is disconnected and will resend");
          callback(failure);
        },
      );
    });
  // A broker that cannot be built (its Redis persistence failing to set up) leaves no Redis connection open.
  const aedes = await Aedes.createBroker({
    // aedes' memory persistence, with an O(1) outgoing queue (./persistence.ts); or the nodes' shared Redis.
    ...(cluster ? { id: brokerId, mq: cluster.mq, persistence: cluster.persistence, heartbeatInterval: CLUSTER_HEARTBEAT_MS } : { persistence: indexedMemoryPersistence() as never }),
    // A connection that never sends CONNECT is closed after this ([MQTT-3.1.0-1]: CONNECT comes first).
    connectTimeout: ctx.env.mqttConnectTimeoutMs,
    drainTimeout: DRAIN_TIMEOUT_MS,
    preConnect: (client, packet, callback) => (deliverEachPacketOnce(client), holdDeliveriesUntilConnack(client), hooks.preConnect(client, packet, callback)),
    authenticate: (client, username, password, done) =>
      hooks.authenticate(client, username, password, (error, success) => {
        if (success) window?.attach(client);
        done(error, success);
      }),
    authorizePublish,
    authorizeSubscribe: hooks.authorizeSubscribe,
    authorizeForward: hooks.authorizeForward,
  }).catch(async (error: unknown) => {
    await cluster?.close();
    throw error;
  });
  releaseDeliveriesOnConnack(aedes);
  if (!cluster && !useFastQueues((aedes as unknown as { mq: unknown }).mq)) log.warn("mqemitter internals changed: keeping its own queues");
  const subscriberId = (options.journal !== false && options.journal?.subscriberId) || "campus-ingest";
  const journalDir = (options.journal !== false && options.journal?.dir) || join(ctx.env.dataDir, "broker", "journal");
  if (options.feed) {
    const feed = options.feed;
    // `done` on a microtask, never in the same call: mqemitter starts the next queued message inside `done`, so a
    // queue of messages whose subscribers all answer at once grew the stack by one chain per message, and a long
    // queue (500 scheduled commands under load) killed `up` (tests/integration/broker-feed-burst.test.ts).
    aedes.subscribe("#", (packet, done) => (feed.routed(packet.topic, packet.payload as Buffer), queueMicrotask(done)), () => undefined);
    feedJournal = new FeedJournal(journalDir, log, (bytes) => metrics.journalCorruptBytes.inc(bytes));
    feed.useJournal(feedJournal);
  } else if (!cluster) window = subscriberWindow(aedes, { clientId: subscriberId, window: options.subscriberWindow?.window ?? SUBSCRIBER_WINDOW });
  if (options.journal !== false && !options.feed && !cluster) {
    journal = attachJournal(aedes, {
      dir: journalDir,
      subscriberId,
      log,
      onCorrupt: (bytes) => metrics.journalCorruptBytes.inc(bytes),
    });
  }

  const accountOf = (client: Parameters<typeof hooks.identityOf>[0]) => hooks.identityOf(client)?.kind ?? "unknown";
  if (redisFeed) {
    const feed = redisFeed;
    // Fires only on the node where the message was published, so the cluster appends each one once.
    aedes.on("publish", (packet, client) => feed.published(packet, appendKindOf(client ? accountOf(client) : null, packet)));
    // aedes reports a persistence failure (Redis away) as an 'error' event, which would otherwise end the process.
    const errors = new RateLimiter(60_000);
    const emitter: EventEmitter = aedes; // aedes' typings list only its client events
    emitter.on("error", (error: Error) => {
      if (errors.check("aedes", Date.now()).log) log.warn({ err: error.message }, "MQTT broker error (Redis away?); a publish was not routed");
    });
  }
  aedes.on("clientReady", (client) => {
    metrics.connectedClients.set(aedes.connectedClients);
    metrics.connections.inc({ transport: client.req ? "ws" : "encrypted" in client.conn ? "tls" : "tcp" });
    log.info({ clientId: client.id, account: accountOf(client), clean: client.clean }, "MQTT client connected");
  });
  aedes.on("clientDisconnect", (client) => {
    metrics.connectedClients.set(aedes.connectedClients);
    log.info({ clientId: client.id }, "MQTT client disconnected");
  });
  aedes.on("publish", (packet, client) => {
    if (client === null) return; // the broker's own $SYS heartbeats and will deliveries
    const account = accountOf(client);
    metrics.messagesPublished.inc({ account });
    metrics.publishedBytes.inc({ account }, packet.payload.length);
  });
  aedes.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "MQTT client error"));
  aedes.on("connectionError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "MQTT connection error"));
  aedes.on("keepaliveTimeout", (client) => log.info({ clientId: client.id }, "MQTT client keepalive timed out"));

  const onConnection = (stream: Parameters<typeof guardPacketSize>[0], transport: "tcp" | "tls" | "ws") =>
    guardPacketSize(stream, maxPacketBytes, (reason, bytes) => {
      metrics.packetsRefused.inc({ reason });
      log.warn({ transport, reason, bytes, maxPacketBytes }, "closing an MQTT connection: packet too large or malformed");
    });

  // One count for every transport: an address's TCP, TLS and WebSocket connections share the limit.
  const limit = createAddressLimit(ctx.env.mqttMaxConnectionsPerAddress, (address) =>
    log.warn({ address, max: ctx.env.mqttMaxConnectionsPerAddress }, "MQTT connections from one address at the limit (MQTT_MAX_CONNECTIONS_PER_ADDRESS); refusing more"),
  );
  const admission = { limit, handshakeTimeoutMs: ctx.env.mqttConnectTimeoutMs };
  const listeners: Listener[] = [];
  const started = async (listener: Promise<Listener>) => {
    const one = await listener;
    listeners.push(one);
    return one;
  };
  let tcp: Listener | null = null;
  let proxied: Listener | null = null;
  let secure: Listener | null = null;
  const proxyPort = options.proxyPort === undefined ? ctx.env.mqttProxyPort : options.proxyPort;
  const proxyRefusals = new RateLimiter(60_000);
  let ws: Listener;
  try {
    // TLS_ONLY (CONTRACT §13): no plain MQTT port at all; the WebSocket listener is wss:// whenever TLS is on.
    if (!(tls && ctx.env.tlsOnly)) tcp = await started(listenTcp(aedes, host, options.port ?? ctx.env.mqttPort, onConnection, admission));
    // MQTT_PROXY_PORT (docs/ha.md): devices behind HAProxy's send-proxy-v2; the header's address is the device's.
    if (proxyPort !== null) {
      proxied = await started(listenProxied(aedes, host, proxyPort, onConnection, admission, (refusal) => {
        metrics.packetsRefused.inc({ reason: `proxy_header_${refusal.reason}` });
        if (proxyRefusals.check(refusal.peer, Date.now()).log) log.warn(refusal, "closing a connection on MQTT_PROXY_PORT: no valid PROXY protocol header");
      }));
    }
    if (tls) secure = await started(listenTls(aedes, host, options.tlsPort ?? ctx.env.mqttsPort, tls, onConnection, admission));
    if (options.unixSocketPath) await started(listenUnix(aedes, options.unixSocketPath, onConnection));
    ws = await started(listenWebSocket(aedes, host, options.wsPort ?? ctx.env.mqttWsPort, maxPacketBytes, onConnection, admission, tls));
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close()));
    await finishesWithin(new Promise<void>((resolve) => aedes.close(() => resolve())), STOP_TIMEOUT_MS);
    await cluster?.close();
    throw error;
  }
  const ports = { tcpPort: tcp?.port ?? 0, tlsPort: secure?.port ?? null, wsPort: ws.port, proxyPort: proxied?.port ?? null };
  log.info({ host, ...ports, websocket: tls ? "wss" : "ws", maxPacketBytes, cluster: cluster !== null }, "MQTT broker listening");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Stop accepting first, then aedes disconnects its clients (publishing their wills),
      // then the listeners destroy whatever never completed a CONNECT.
      const closeAll = Promise.all([
        new Promise<void>((resolve) => aedes.close(() => resolve())),
        ...listeners.map((l) => l.close()),
      ]);
      const closed = await finishesWithin(closeAll, STOP_TIMEOUT_MS);
      metrics.connectedClients.set(0);
      // Bounded like the rest of the stop: a hung disk must not hold it (the journal replays at start).
      if (feedJournal) await finishesWithin(feedJournal.close(), 2_000).catch((error: unknown) => log.warn({ err: error }, "broker journal did not close cleanly"));
      if (journal) await finishesWithin(journal.close(), 2_000).catch((error: unknown) => log.warn({ err: error }, "broker journal did not close cleanly"));
      await cluster?.close();
      if (!closed) log.warn({ timeoutMs: STOP_TIMEOUT_MS }, "MQTT broker did not close in time; carrying on");
      else log.info("MQTT broker stopped");
    })();
    return stopping;
  };

  return { ...ports, aedes, stop };
}
