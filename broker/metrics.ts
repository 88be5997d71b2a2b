// The broker's Prometheus metrics (prefix campus_power_broker_). Labels stay low-cardinality:
// never a device id or a topic, only a reason or an account kind.
import { Counter, Gauge, type Registry, metric } from "../infra/metrics.js";

export interface BrokerMetrics {
  connectedClients: Gauge;
  connections: Counter<"transport">;
  authFailures: Counter<"reason">;
  fleetKeyLogins: Counter<"key">;
  messagesPublished: Counter<"account">;
  publishedBytes: Counter<"account">;
  publishesDenied: Counter<"account">;
  subscriptionsDenied: Counter<"account">;
  packetsRefused: Counter<"reason">;
  journalCorruptBytes: Counter;
}

const PREFIX = "campus_power_broker_";

export function createBrokerMetrics(registry: Registry): BrokerMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    metric(registry, PREFIX + name, () => new Counter<L>({ name: PREFIX + name, help, labelNames, registers: [registry] }));
  return {
    connectedClients: metric(
      registry,
      `${PREFIX}connected_clients`,
      () => new Gauge({ name: `${PREFIX}connected_clients`, help: "MQTT clients connected now (after CONNACK 0)", registers: [registry] }),
    ),
    connections: counter("connections_total", "MQTT sessions accepted (CONNACK 0), by transport", ["transport"]),
    authFailures: counter("auth_failures_total", "CONNECTs refused, by reason", ["reason"]),
    // CONTRACT §13: when a retired key's count stops rising, no device uses it any more. The label is the
    // key's id from DEVICE_GROUP_KEY, never the key.
    fleetKeyLogins: counter("fleet_key_logins_total", "Device and bridge logins accepted with a password derived from a fleet key, by key id (DEVICE_GROUP_KEY)", ["key"]),
    messagesPublished: counter("messages_published_total", "PUBLISH packets accepted from clients, by account kind", ["account"]),
    publishedBytes: counter("published_bytes_total", "Payload bytes of accepted PUBLISH packets, by account kind", ["account"]),
    publishesDenied: counter("publishes_denied_total", "PUBLISH packets refused by the ACL (the client is disconnected)", ["account"]),
    subscriptionsDenied: counter("subscriptions_denied_total", "Subscriptions refused by the ACL (SUBACK 0x80)", ["account"]),
    packetsRefused: counter("packets_refused_total", "Connections closed for an oversized or malformed packet header", ["reason"]),
    journalCorruptBytes: counter("journal_corrupt_bytes_total", "Bytes of torn or damaged journal records skipped (a write cut by a crash or a power loss)", []),
  };
}
