// Decoding of the messages the services exchange on the internal topics (docs/architecture.md) and of
// the retained alerts. The ingest has already validated device payloads; this only guards a service
// against a malformed internal message, which the caller counts and skips.
import { Value } from "@sinclair/typebox/value";
import { type AckRequest, AckRequestSchema, type AckResult, type Alert, AlertSchema } from "./alert.js";
import { type RelayReport, RelayReportSchema } from "./command.js";
import { isJsonObject } from "./json-object.js";
import { EVENT_TYPES, type DeviceEvent, type Reading, type StatusChange } from "./reading.js";
import { parseInternalTopic } from "./topics.js";

export type InternalMessage =
  | { kind: "reading"; reading: Reading }
  | { kind: "status"; status: StatusChange }
  | { kind: "event"; event: DeviceEvent }
  | { kind: "ack"; request: AckRequest }
  | { kind: "relay"; report: RelayReport };

export type InternalDecoded = { ok: true; message: InternalMessage } | { ok: false; kind: InternalMessage["kind"]; reason: string };

const isTs = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The JSON object in a payload, or null (empty, not JSON, or not an object). */
export function parseJsonObject(payload: Buffer | string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(payload.toString());
    return isJsonObject(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * A reading, status, event, relay report (ingest → alerts, api) or ack request (api → alerts) from its
 * topic, payload and RETAIN flag as received; null for a topic that carries none of them (an ack or command
 * result, a command request or change, any other topic) and for a per-device reading forwarded live.
 *
 * Every reading reaches a consumer in a batch (`campus/internal/readings-batch/{source}`); the ingest also
 * republishes each device's latest one, retained, on `campus/internal/readings/{device}`, so that a consumer
 * that subscribes later has a starting state. Only the copy the broker hands over from its retained store
 * on subscription is that: it comes with the RETAIN flag set [MQTT-3.3.1-8]. A copy forwarded live (RETAIN
 * 0, [MQTT-3.3.1-9]) repeats a reading that a batch carries, and may arrive before that batch: MQTT keeps
 * order only within one topic and QoS (§4.6), and aedes delivered a QoS 1 batch and the QoS 0 copy published
 * right after it reversed 200 times in 200. Applied, the copy made the batch's readings look late, so they
 * never reached the rules (../shared/findings/alerts-order.md). A tool that wants its readings applied
 * publishes them as a batch.
 */
export function decodeInternalMessage(topic: string, payload: Buffer | string, retained: boolean): InternalDecoded | null {
  const parsed = parseInternalTopic(topic);
  if (parsed === null || !("device" in parsed || parsed.kind === "ack")) return null; // not one of InternalMessage's kinds
  if (parsed.kind === "reading" && !retained) return null;
  const kind = parsed.kind;
  if (payload.length === 0) return { ok: false, kind, reason: "empty payload" }; // a cleared retained message
  // A relay report is an answer in time (CONTRACT §10: the first report after a command was sent); one from
  // the broker's retained store [MQTT-3.3.1-8] was published before, by mistake (the ingest never retains it).
  if (kind === "relay" && retained) return { ok: false, kind, reason: "a retained relay report is an old one" };
  let body: unknown;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return { ok: false, kind, reason: "not JSON" };
  }
  if (!isJsonObject(body)) return { ok: false, kind, reason: "not an object" };

  if (parsed.kind === "ack") {
    if (!Value.Check(AckRequestSchema, body)) return { ok: false, kind, reason: "an ack needs alert_id, by and a topic-safe request_id" };
    return { ok: true, message: { kind: "ack", request: body } };
  }
  if (body.device !== parsed.device || !isTs(body.ts)) return { ok: false, kind, reason: "device must match the topic and ts be epoch ms" };
  if (parsed.kind === "reading") {
    const problem = readingProblem(body);
    if (problem !== null) return { ok: false, kind, reason: problem };
    return { ok: true, message: { kind: "reading", reading: body as unknown as Reading } };
  }
  if (parsed.kind === "relay") {
    if (!Value.Check(RelayReportSchema, body)) return { ok: false, kind, reason: "a relay report needs on (a boolean or null) and explicit" };
    return { ok: true, message: { kind: "relay", report: body } };
  }
  if (parsed.kind === "status") {
    if (typeof body.online !== "boolean") return { ok: false, kind, reason: "a status needs online: boolean" };
    return { ok: true, message: { kind: "status", status: body as unknown as StatusChange } };
  }
  if (!EVENT_TYPES.includes(body.type as DeviceEvent["type"])) return { ok: false, kind, reason: "unknown event type" };
  return { ok: true, message: { kind: "event", event: body as unknown as DeviceEvent } };
}

/** Why an object is not a Reading (device and ts already checked against the topic), or null. */
function readingProblem(body: Record<string, unknown>): string | null {
  if (!isJsonObject(body.values)) return "a reading needs values";
  if (body.phases !== undefined && !isJsonObject(body.phases)) return "phases must be an object";
  return null;
}

export interface ReadingBatch {
  /** The valid readings, in the batch's order (the order the ingest received them). */
  readings: Reading[];
  /** Items skipped, with why (a whole payload that is not a JSON array is one item at index -1). */
  invalid: { index: number; reason: string }[];
}

/**
 * A batch of readings from `campus/internal/readings-batch/{source}` (`internalTopic.readingBatch`): a
 * JSON array of Readings. Bad items are skipped one by one (the rest of the batch stays usable).
 */
export function decodeReadingBatch(payload: Buffer | string): ReadingBatch {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return { readings: [], invalid: [{ index: -1, reason: payload.length === 0 ? "empty payload" : "not JSON" }] };
  }
  if (!Array.isArray(body)) return { readings: [], invalid: [{ index: -1, reason: "a reading batch is a JSON array" }] };
  const readings: Reading[] = [];
  const invalid: { index: number; reason: string }[] = [];
  for (let index = 0; index < body.length; index++) {
    const item: unknown = body[index];
    if (!isJsonObject(item)) {
      invalid.push({ index, reason: "not an object" });
      continue;
    }
    if (typeof item.device !== "string" || item.device === "" || !isTs(item.ts)) {
      invalid.push({ index, reason: "a reading needs a device and ts in epoch ms" });
      continue;
    }
    const problem = readingProblem(item);
    if (problem !== null) invalid.push({ index, reason: problem });
    else readings.push(item as unknown as Reading);
  }
  return { readings, invalid };
}

/** A retained alert object (CONTRACT §5) from its JSON, or null when it does not look like one. */
export function decodeAlert(payload: Buffer | string): Alert | null {
  const v = parseJsonObject(payload);
  return Value.Check(AlertSchema, v) ? v : null;
}

/** The alerts service's answer to an acknowledgement; an unreadable one becomes an INVALID failure. */
export function decodeAckResult(payload: Buffer | string): AckResult {
  try {
    return JSON.parse(payload.toString()) as AckResult;
  } catch {
    return { ok: false, code: "INVALID", message: "the alerts service sent an unreadable answer" };
  }
}
