// Decoding of the internal topics (docs/architecture.md). The ingest has already validated device
// payloads; this only guards against a malformed internal message, which is counted and skipped.
import type { AckRequest } from "../domain/alert.js";
import { EVENT_TYPES, type DeviceEvent, type Reading, type StatusChange } from "../domain/reading.js";
import { lastLevel } from "../domain/topics.js";
import type { EngineInput } from "./types.js";

export const ALERT_INPUT_FILTERS = {
  readings: "campus/internal/readings/+",
  status: "campus/internal/status/+",
  events: "campus/internal/events/+",
  ack: "campus/internal/ack",
} as const;

/** alerts → api: the answer to one acknowledgement (docs/architecture.md). */
export const ackResultTopic = (requestId: string) => `campus/internal/ack-result/${requestId}`;

export type Decoded = { ok: true; input: EngineInput } | { ok: false; kind: string; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isTs = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

export function decodeInternal(topic: string, payload: Buffer, retained: boolean): Decoded | null {
  const kind = topic.startsWith("campus/internal/readings/") ? "reading"
    : topic.startsWith("campus/internal/status/") ? "status"
    : topic.startsWith("campus/internal/events/") ? "event"
    : topic === ALERT_INPUT_FILTERS.ack ? "ack"
    : null;
  if (kind === null) return null;
  if (payload.length === 0) return { ok: false, kind, reason: "empty payload" }; // a cleared retained message
  let body: unknown;
  try {
    body = JSON.parse(payload.toString("utf8"));
  } catch {
    return { ok: false, kind, reason: "not JSON" };
  }
  if (!isObject(body)) return { ok: false, kind, reason: "not an object" };
  const live = !retained;

  if (kind === "ack") {
    const { alert_id, by, request_id } = body;
    if (typeof alert_id !== "string" || typeof by !== "string" || typeof request_id !== "string" || !/^[\w.-]{1,128}$/.test(request_id)) {
      return { ok: false, kind, reason: "an ack needs alert_id, by and a topic-safe request_id" };
    }
    return { ok: true, input: { kind: "ack", request: body as unknown as AckRequest } };
  }
  const device = lastLevel(topic);
  if (body.device !== device || !isTs(body.ts)) return { ok: false, kind, reason: "device must match the topic and ts be epoch ms" };
  if (kind === "reading") {
    if (!isObject(body.values)) return { ok: false, kind, reason: "a reading needs values" };
    if (body.phases !== undefined && !isObject(body.phases)) return { ok: false, kind, reason: "phases must be an object" };
    return { ok: true, input: { kind: "reading", reading: body as unknown as Reading, live } };
  }
  if (kind === "status") {
    if (typeof body.online !== "boolean") return { ok: false, kind, reason: "a status needs online: boolean" };
    return { ok: true, input: { kind: "status", status: body as unknown as StatusChange, live } };
  }
  if (!EVENT_TYPES.includes(body.type as DeviceEvent["type"])) return { ok: false, kind, reason: "unknown event type" };
  return { ok: true, input: { kind: "event", event: body as unknown as DeviceEvent } };
}
