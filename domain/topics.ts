// MQTT topics: the device-facing ones of CONTRACT §3 and the internal ones the services use to meet.
// Internal topics live under `campus/internal/` and only the service account may use them.

export const TOPIC_PREFIX = "campus";

export const deviceTopic = {
  telemetry: (id: string) => `campus/devices/${id}/telemetry`,
  status: (id: string) => `campus/devices/${id}/status`,
  events: (id: string) => `campus/devices/${id}/events`,
  commands: (id: string) => `campus/devices/${id}/commands`,
} as const;

export const alertTopic = (device: string, rule: string) => `campus/alerts/${device}/${rule}`;
export const ALERTS_FILTER = "campus/alerts/+/+";

/**
 * Internal, normalised stream published by the ingest once a payload (native or foreign) is decoded
 * and validated; the alerts and API services read these instead of decoding device formats again.
 */
export const internalTopic = {
  /**
   * The latest reading of a device, retained: a late subscriber's starting state. The ingest publishes it
   * throttled (QoS 0, at most one per device per few seconds, each after the batch that carried it);
   * tests and tools may still publish single live readings here.
   */
  reading: (id: string) => `campus/internal/readings/${id}`,
  /** Every reading, as a JSON array of Readings in arrival order, batched by the ingest (QoS 1, not retained). `source` = the ingest's client id. */
  readingBatch: (source: string) => `campus/internal/readings-batch/${topicSafe(source)}`,
  status: (id: string) => `campus/internal/status/${id}`,
  event: (id: string) => `campus/internal/events/${id}`,
  /** API → alerts: an operator acknowledged an alert. */
  ack: "campus/internal/ack",
  /** alerts → API: the answer to the acknowledgement with this `request_id`. */
  ackResult: (requestId: string) => `campus/internal/ack-result/${requestId}`,
  /** API → alerts: one step of select-before-operate (domain/command.ts CommandRequest). */
  commandRequest: "campus/internal/command-request",
  /** alerts → API: the answer to that step (CommandResult). */
  commandResult: (requestId: string) => `campus/internal/command-result/${requestId}`,
  /** alerts → API and anyone: every change of a command's state, the whole command object (QoS 1, not retained). */
  commands: "campus/internal/commands",
  /** ingest → alerts: a device's relay state in its own words, normalised (domain/command.ts RelayReport). */
  relay: (id: string) => `campus/internal/relay/${id}`,
} as const;

/**
 * The ingest's health, retained (docs/ingest.md): `{"ok", "spool_full", "backlog_records", "oldest_ms",
 * "influx_reachable", "ts"}`, or its last will `{"ok": false, "reason": "ingest offline"}`. The API's
 * /api/ready turns 503 when `ok` is false (another process cannot see the spool otherwise).
 */
export const INGEST_HEALTH_TOPIC = "campus/internal/health/ingest";

export interface IngestHealth {
  ok: boolean;
  spool_full?: boolean;
  backlog_records?: number;
  /** Age of the oldest spooled record, ms; null when the spool is empty. */
  oldest_ms?: number | null;
  influx_reachable?: boolean;
  ts?: number;
  reason?: string;
}

/** A client id as one topic level (no `/`, `+`, `#`). */
export const topicSafe = (text: string) => text.replace(/[/+#\u0000]/g, "_") || "_";

export const INTERNAL_FILTERS = {
  readings: "campus/internal/readings/+",
  readingBatches: "campus/internal/readings-batch/+",
  status: "campus/internal/status/+",
  events: "campus/internal/events/+",
  ackResults: "campus/internal/ack-result/+",
  commandResults: "campus/internal/command-result/+",
  relays: "campus/internal/relay/+",
} as const;

/** What an internal topic carries, and whose it is (device id, the batch's source, or the request id it answers). */
export type InternalTopic =
  | { kind: "reading" | "status" | "event" | "relay"; device: string }
  | { kind: "reading-batch"; source: string }
  | { kind: "ack" }
  | { kind: "command-request" }
  | { kind: "commands" }
  | { kind: "ack-result" | "command-result"; requestId: string };

const INTERNAL_KINDS = new Map<string, "reading" | "reading-batch" | "status" | "event" | "relay" | "ack-result" | "command-result">([
  ["readings", "reading"],
  ["readings-batch", "reading-batch"],
  ["status", "status"],
  ["events", "event"],
  ["relay", "relay"],
  ["ack-result", "ack-result"],
  ["command-result", "command-result"],
]);

/** Parses the topics of `internalTopic`; null for any other topic. */
export function parseInternalTopic(topic: string): InternalTopic | null {
  if (topic === internalTopic.ack) return { kind: "ack" };
  if (topic === internalTopic.commandRequest) return { kind: "command-request" };
  if (topic === internalTopic.commands) return { kind: "commands" };
  const parts = topic.split("/");
  if (parts.length !== 4 || parts[0] !== TOPIC_PREFIX || parts[1] !== "internal" || parts[3] === "") return null;
  const kind = INTERNAL_KINDS.get(parts[2]!);
  if (kind === undefined) return null;
  if (kind === "reading-batch") return { kind, source: parts[3]! };
  return kind === "ack-result" || kind === "command-result" ? { kind, requestId: parts[3]! } : { kind, device: parts[3]! };
}

/** Parses `campus/alerts/{device}/{rule}`; null for any other topic. */
export function parseAlertTopic(topic: string): { device: string; rule: string } | null {
  const parts = topic.split("/");
  if (parts.length !== 4 || parts[0] !== TOPIC_PREFIX || parts[1] !== "alerts" || !parts[2] || !parts[3]) return null;
  return { device: parts[2], rule: parts[3] };
}

export type NativeKind = "telemetry" | "status" | "events" | "commands";

/** Parses `campus/devices/{id}/{kind}`; null for any other topic. */
export function parseDeviceTopic(topic: string): { device: string; kind: NativeKind } | null {
  const parts = topic.split("/");
  if (parts.length !== 4 || parts[0] !== TOPIC_PREFIX || parts[1] !== "devices") return null;
  const kind = parts[3];
  if (kind !== "telemetry" && kind !== "status" && kind !== "events" && kind !== "commands") return null;
  return { device: parts[2]!, kind };
}

/** The last level of a topic, e.g. the device id of `campus/internal/readings/{id}`. */
export function lastLevel(topic: string): string {
  return topic.slice(topic.lastIndexOf("/") + 1);
}
