// Feeds the engine from the internal topics (docs/architecture.md): the shared decoder of
// domain/internal-stream.ts, plus whether the message is live or a retained copy.
import { decodeInternalMessage, parseJsonObject } from "../domain/internal-stream.js";
import { silenceTopic, type SilenceRequest } from "../domain/silence.js";
import { INTERNAL_FILTERS, internalTopic } from "../domain/topics.js";
import type { EngineInput } from "./types.js";

export const ALERT_INPUT_FILTERS = {
  readings: INTERNAL_FILTERS.readings,
  status: INTERNAL_FILTERS.status,
  events: INTERNAL_FILTERS.events,
  ack: internalTopic.ack,
  silenceRequest: silenceTopic.request,
} as const;

export type Decoded = { ok: true; input: EngineInput } | { ok: false; kind: string; reason: string };

export function decodeInternal(topic: string, payload: Buffer, retained: boolean): Decoded | null {
  if (topic === silenceTopic.request) {
    const body = parseJsonObject(payload);
    const requestId = body?.request_id;
    if (body === null || typeof requestId !== "string" || !/^[\w.-]{1,128}$/.test(requestId) || (body.action !== "create" && body.action !== "end")) {
      return { ok: false, kind: "silence", reason: "a silence request needs action create|end and a topic-safe request_id" };
    }
    return { ok: true, input: { kind: "silence", request: body as unknown as SilenceRequest } };
  }
  const decoded = decodeInternalMessage(topic, payload);
  if (decoded === null || !decoded.ok) return decoded;
  const message = decoded.message;
  const live = !retained;
  switch (message.kind) {
    case "reading":
      return { ok: true, input: { kind: "reading", reading: message.reading, live } };
    case "status":
      return { ok: true, input: { kind: "status", status: message.status, live } };
    case "event":
      return { ok: true, input: { kind: "event", event: message.event } };
    case "ack":
      return { ok: true, input: { kind: "ack", request: message.request } };
  }
}
