// Translates the pure ACL (acl.ts) into aedes 1.2.0's callback hooks, and counts and logs every refusal.
import type { AedesOptions, AuthenticateError, Client } from "aedes";
import { finished } from "node:stream";
import { parseFleetKeys } from "../domain/env/fleet-keys.js";
import { RateLimiter } from "../domain/rate-limiter.js";
import type { ServiceContext } from "../infra/service.js";
import { type AuthFailureReason, type Identity, type RefusalCode, authenticate, canPublish, canSubscribe, describeIdentity, isClientIdRejected } from "./acl.js";
import { ClientIdRegistry } from "./client-ids.js";
import type { Release, SharedClientIds } from "./cluster-client-ids.js";
import type { BrokerMetrics } from "./metrics.js";

/** What preConnect saw in the CONNECT packet; authenticate (which only gets the credentials) needs it. */
interface ConnectFacts {
  clientId: string;
  clean: boolean;
  willTopic: string | undefined;
}

export type RefusalReason = AuthFailureReason | "identifier_rejected" | "client_id_in_use" | "client_id_unavailable" | "will_not_authorized";

export interface BrokerHooks extends Required<Pick<AedesOptions, "preConnect" | "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward">> {
  /** The identity a connected client authenticated as (undefined before CONNACK 0). */
  identityOf(client: Client): Identity | undefined;
}

/** Releases a client id's hold once the connection that claimed it has closed. */
function releaseWhenClosed(client: Client, release: Release): void {
  const cleanup = finished(client.conn, () => {
    cleanup();
    release();
  });
}

/**
 * `sharedClientIds`: a broker node of a cluster (REDIS_URL) holds client ids in Redis (./cluster-client-ids.ts);
 * without it, one process holds them in memory (./client-ids.ts), exactly as before the cluster existed.
 */
export function createHooks(ctx: ServiceContext, metrics: BrokerMetrics, sharedClientIds?: SharedClientIds): BrokerHooks {
  const log = ctx.log;
  const secrets = { deviceGroupKey: ctx.env.deviceGroupKey, servicePassword: ctx.env.servicePassword };
  // Every listed fleet key is in /metrics from the start, at 0 until a device logs in with it (CONTRACT §13).
  for (const { id } of parseFleetKeys(ctx.env.deviceGroupKey)) metrics.fleetKeyLogins.inc({ key: id }, 0);
  const facts = new WeakMap<Client, ConnectFacts>();
  const identities = new WeakMap<Client, Identity>();
  // At most one log line per key a minute; the key is bounded even under a flood of invented user names.
  const logLimiter = new RateLimiter(60_000);
  const shouldLog = (key: string) => logLimiter.check(key, Date.now()).log;
  const clientIds = new ClientIdRegistry();

  const refuseConnect = (
    done: (error: AuthenticateError | null, success: boolean | null) => void,
    returnCode: RefusalCode | 3,
    reason: RefusalReason,
    username: string | undefined,
  ) => {
    metrics.authFailures.inc({ reason });
    // Key by reason for unknown names (unbounded), by user name otherwise; never log the password.
    const who = reason === "unknown_username" || username === undefined ? "" : username;
    if (shouldLog(`connect:${reason}:${who}`)) {
      log.warn({ username: username?.slice(0, 64), reason, returnCode }, "MQTT connection refused");
    }
    const error = new Error(`connection refused: ${reason}`) as AuthenticateError;
    // aedes writes CONNACK with this code (2..5) and closes the connection [MQTT-3.2.2-5].
    (error as { returnCode: number }).returnCode = returnCode;
    done(error, null);
  };

  return {
    identityOf: (client) => identities.get(client),

    // preConnect is the only hook that sees the CONNECT packet. It must not refuse: its errors close
    // the socket without any CONNACK. It records the facts and authenticate refuses with a real code.
    preConnect(client, packet, callback) {
      facts.set(client, { clientId: packet.clientId ?? "", clean: packet.clean !== false, willTopic: packet.will?.topic });
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      const connect = facts.get(client);
      facts.delete(client);
      // aedes would invent an id and carry on; MQTT 3.1.1 requires CONNACK 0x02 here [MQTT-3.1.3-8].
      if (connect !== undefined && isClientIdRejected(connect.clientId, connect.clean)) {
        return refuseConnect(done, 2, "identifier_rejected", username);
      }
      const result = authenticate(ctx.campus, secrets, username, password);
      if (!result.ok) return refuseConnect(done, result.returnCode, result.reason, username);
      // A last will is published on the device's behalf later, possibly with no client left to blame
      // (aedes' obsolete-will sweep passes client = null), so its topic is checked now.
      if (connect?.willTopic !== undefined && !canPublish(result.identity, connect.willTopic)) {
        return refuseConnect(done, 5, "will_not_authorized", username);
      }
      const identity = result.identity;
      if (client.closed) return done(null, false); // gone while we checked; aedes drops the answer
      const admit = () => {
        if (result.fleetKey !== undefined) metrics.fleetKeyLogins.inc({ key: result.fleetKey });
        identities.set(client, identity);
        done(null, true);
      };
      if (connect === undefined) return admit();
      // Another account's client id would take over its connection or session [MQTT-3.1.4-2].
      const account = describeIdentity(identity);
      const privileged = identity.kind === "service";
      // An empty id gets a fresh one from aedes [MQTT-3.1.3-6]: nobody else can hold it.
      if (sharedClientIds && connect.clientId !== "") {
        sharedClientIds.claim(connect.clientId, account, connect.clean, privileged).then(
          (release) => {
            if (release === null) return refuseConnect(done, 2, "client_id_in_use", username);
            if (client.closed) return (release(), done(null, false));
            releaseWhenClosed(client, release);
            admit();
          },
          // Redis cannot say who holds the id: refused rather than unchecked. The connection is closed without a
          // CONNACK, as a network failure would be: mqtt.js (and firmware built like it) never reconnects after a
          // CONNACK refusal, and the drill of a Redis restart left every device off for good after CONNACK 3.
          () => {
            metrics.authFailures.inc({ reason: "client_id_unavailable" });
            if (shouldLog("connect:client_id_unavailable")) log.warn({ username: username?.slice(0, 64), reason: "client_id_unavailable" }, "MQTT connection closed: Redis cannot say who holds the client id; the client will retry");
            (client as unknown as { conn: { destroy(): void } }).conn.destroy();
            done(null, false);
          },
        );
        return;
      }
      if (!clientIds.claim(connect.clientId, account, connect.clean, privileged)) {
        return refuseConnect(done, 2, "client_id_in_use", username);
      }
      const clientId = connect.clientId;
      releaseWhenClosed(client, () => clientIds.release(clientId));
      admit();
    },

    authorizePublish(client, packet, callback) {
      // client === null: a will of a session whose broker died; its topic was authorized at CONNECT.
      if (client === null) return callback(null);
      const identity = identities.get(client);
      if (identity !== undefined && canPublish(identity, packet.topic)) {
        // A will has no `cmd` (it is the CONNECT's). In a cluster, a connection taken over from another node
        // (aedes.js `closeSameClients` on `$SYS/<node>/new/clients`) is closed here after the new one has its
        // CONNACK, so its "offline" could land after the new connection's "online". The client is connected
        // again: its will is dropped (the error makes aedes skip it and delete it, lib/client.js `close`).
        // When Redis cannot say, the will is published, as without a cluster.
        if (sharedClientIds && packet.cmd === undefined) {
          sharedClientIds.connectedElsewhere(client.id).then(
            (elsewhere) => callback(elsewhere ? new Error("will of a client connected again on another node") : null),
            () => callback(null),
          );
          return;
        }
        return callback(null);
      }
      const account = identity?.kind ?? "unknown";
      metrics.publishesDenied.inc({ account });
      const who = identity ? describeIdentity(identity) : "";
      if (shouldLog(`publish:${who}`)) {
        log.warn({ clientId: client.id, username: who, topic: packet.topic.slice(0, 256) }, "publish refused by the ACL; disconnecting the client");
      }
      // An error makes aedes close the connection without any reply, one of the two choices
      // MQTT 3.1.1 allows for an unauthorized PUBLISH [MQTT-3.3.5-2].
      callback(new Error(`not authorized to publish to ${packet.topic}`));
    },

    authorizeSubscribe(client, subscription, callback) {
      const identity = identities.get(client);
      if (identity !== undefined && canSubscribe(identity, subscription.topic)) return callback(null, subscription);
      const account = identity?.kind ?? "unknown";
      metrics.subscriptionsDenied.inc({ account });
      const who = identity ? describeIdentity(identity) : "";
      if (shouldLog(`subscribe:${who}`)) {
        log.warn({ clientId: client.id, username: who, filter: subscription.topic.slice(0, 256) }, "subscription refused by the ACL");
      }
      // A null subscription is a per-filter failure: SUBACK return code 0x80 for this filter only,
      // the other filters of the same SUBSCRIBE and the connection are unaffected [MQTT-3.9.3].
      callback(null, null);
    },

    // Every delivery is checked too: aedes stores a persistent session's SUBSCRIBE with all its filters, the
    // refused ones included, and delivers what they matched at the next CONNECT
    // (tests/integration/broker-forward-acl.test.ts). A device's filters are exact topics, so its ACL read on
    // the delivered topic is the same test; the service account receives anything.
    authorizeForward(client, packet) {
      const identity = identities.get(client);
      if (identity?.kind === "service") return packet;
      return identity !== undefined && canSubscribe(identity, packet.topic) ? packet : null;
    },
  };
}
