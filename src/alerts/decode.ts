// Feeds the engine from the internal topics (docs/architecture.md): the shared decoder of
// domain/internal-stream.ts, plus whether the message is live or a retained copy.
import { decodeInternalMessage } from "../domain/internal-stream.js";
import { INTERNAL_FILTERS, internalTopic } from "../domain/topics.js";
import type { EngineInput } from "./types.js";

export const ALERT_INPUT_FILTERS = {
  readings: INTERNAL_FILTERS.readings,
  status: INTERNAL_FILTERS.status,
  events: INTERNAL_FILTERS.events,
  ack: internalTopic.ack,
} as const;

export type Decoded = { ok: true; input: EngineInput } | { ok: false; kind: string; reason: string };

export function decodeInternal(topic: string, payload: Buffer, retained: boolean): Decoded | null {
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
