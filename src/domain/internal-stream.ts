// Decoding of the messages the services exchange on the internal topics (docs/architecture.md) and of
// the retained alerts. The ingest has already validated device payloads; this only guards a service
// against a malformed internal message, which the caller counts and skips.
import type { AckRequest, AckResult, Alert } from "./alert.js";
import { EVENT_TYPES, type DeviceEvent, type Reading, type StatusChange } from "./reading.js";
import { parseInternalTopic } from "./topics.js";

export type InternalMessage =
  | { kind: "reading"; reading: Reading }
  | { kind: "status"; status: StatusChange }
  | { kind: "event"; event: DeviceEvent }
  | { kind: "ack"; request: AckRequest };

export type InternalDecoded = { ok: true; message: InternalMessage } | { ok: false; kind: InternalMessage["kind"]; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isTs = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The JSON object in a payload, or null (empty, not JSON, or not an object). */
export function parseJsonObject(payload: Buffer | string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(payload.toString());
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * A reading, status, event (ingest → alerts, api) or ack request (api → alerts) from its topic and
 * payload; null for a topic that carries none of them (an ack result, any other topic).
 */
export function decodeInternalMessage(topic: string, payload: Buffer | string): InternalDecoded | null {
  const parsed = parseInternalTopic(topic);
  if (parsed === null || parsed.kind === "ack-result") return null;
  const kind = parsed.kind;
  if (payload.length === 0) return { ok: false, kind, reason: "empty payload" }; // a cleared retained message
  let body: unknown;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return { ok: false, kind, reason: "not JSON" };
  }
  if (!isObject(body)) return { ok: false, kind, reason: "not an object" };

  if (parsed.kind === "ack") {
    const { alert_id, by, request_id } = body;
    if (typeof alert_id !== "string" || typeof by !== "string" || typeof request_id !== "string" || !/^[\w.-]{1,128}$/.test(request_id)) {
      return { ok: false, kind, reason: "an ack needs alert_id, by and a topic-safe request_id" };
    }
    return { ok: true, message: { kind: "ack", request: body as unknown as AckRequest } };
  }
  if (body.device !== parsed.device || !isTs(body.ts)) return { ok: false, kind, reason: "device must match the topic and ts be epoch ms" };
  if (parsed.kind === "reading") {
    if (!isObject(body.values)) return { ok: false, kind, reason: "a reading needs values" };
    if (body.phases !== undefined && !isObject(body.phases)) return { ok: false, kind, reason: "phases must be an object" };
    return { ok: true, message: { kind: "reading", reading: body as unknown as Reading } };
  }
  if (parsed.kind === "status") {
    if (typeof body.online !== "boolean") return { ok: false, kind, reason: "a status needs online: boolean" };
    return { ok: true, message: { kind: "status", status: body as unknown as StatusChange } };
  }
  if (!EVENT_TYPES.includes(body.type as DeviceEvent["type"])) return { ok: false, kind, reason: "unknown event type" };
  return { ok: true, message: { kind: "event", event: body as unknown as DeviceEvent } };
}

/** A retained alert object (CONTRACT §5) from its JSON, or null when it does not look like one. */
export function decodeAlert(payload: Buffer | string): Alert | null {
  const v = parseJsonObject(payload);
  if (v === null || typeof v.id !== "string" || typeof v.device !== "string" || typeof v.rule !== "string" || typeof v.state !== "string") return null;
  return v as unknown as Alert;
}

/** The alerts service's answer to an acknowledgement; an unreadable one becomes an INVALID failure. */
export function decodeAckResult(payload: Buffer | string): AckResult {
  try {
    return JSON.parse(payload.toString()) as AckResult;
  } catch {
    return { ok: false, code: "INVALID", message: "the alerts service sent an unreadable answer" };
  }
}
