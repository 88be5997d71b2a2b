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
  clusterNode: Gauge;
  streamAppends: Counter<"kind">;
  streamAppendFailures: Counter<"kind">;
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
    // CONTRACT §12: /metrics says which role an instance holds.
    clusterNode: metric(
      registry,
      `${PREFIX}cluster_node`,
      () => new Gauge({ name: `${PREFIX}cluster_node`, help: "1: a broker node sharing Redis with others (REDIS_URL); 0: the single-process broker", registers: [registry] }),
    ),
    // kind: device_qos1 (acknowledged once Redis has it), device_qos0, will, service (fire and forget).
    streamAppends: counter("stream_appends_total", "Device messages appended to the Redis Stream the ingest workers read, by kind", ["kind"]),
    streamAppendFailures: counter("stream_append_failures_total", "Device messages Redis could not take (a QoS 1 publish is then not acknowledged and the device resends), by kind", ["kind"]),
  };
}
