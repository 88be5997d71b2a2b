// Feeds the engine from the internal topics (docs/architecture.md): the shared decoder of
// domain/internal-stream.ts, plus whether the message is live or a retained copy.
import { decodeInternalMessage, decodeReadingBatch, parseJsonObject } from "../domain/internal-stream.js";
import { silenceTopic, type SilenceRequest } from "../domain/silence.js";
import { INTERNAL_FILTERS, internalTopic } from "../domain/topics.js";
import type { EngineInput } from "./types.js";

export const ALERT_INPUT_FILTERS = {
  readings: INTERNAL_FILTERS.readings,
  readingBatches: INTERNAL_FILTERS.readingBatches,
  status: INTERNAL_FILTERS.status,
  events: INTERNAL_FILTERS.events,
  ack: internalTopic.ack,
  silenceRequest: silenceTopic.request,
} as const;

export type Decoded = { ok: true; input: EngineInput } | { ok: false; kind: string; reason: string };

/**
 * The engine inputs of one message, in order: a batch of readings gives one input per reading (its bad
 * items as failures), anything else what decodeInternal() gives.
 */
export function decodeInputs(topic: string, payload: Buffer, retained: boolean): Decoded[] | null {
  if (topic.startsWith(BATCH_PREFIX)) {
    const batch = decodeReadingBatch(payload);
    const inputs: Decoded[] = batch.readings.map((reading) => ({ ok: true, input: { kind: "reading", reading, live: !retained } }));
    for (const bad of batch.invalid) inputs.push({ ok: false, kind: "reading-batch", reason: bad.index < 0 ? bad.reason : `item ${bad.index}: ${bad.reason}` });
    return inputs;
  }
  const decoded = decodeInternal(topic, payload, retained);
  return decoded === null ? null : [decoded];
}
const BATCH_PREFIX = INTERNAL_FILTERS.readingBatches.slice(0, -1);

export function decodeInternal(topic: string, payload: Buffer, retained: boolean): Decoded | null {
  if (topic === silenceTopic.request) {
    const body = parseJsonObject(payload);
    const requestId = body?.request_id;
    if (body === null || typeof requestId !== "string" || !/^[\w.-]{1,128}$/.test(requestId) || (body.action !== "create" && body.action !== "end")) {
      return { ok: false, kind: "silence", reason: "a silence request needs action create|end and a topic-safe request_id" };
    }
    return { ok: true, input: { kind: "silence", request: body as unknown as SilenceRequest } };
  }
  const decoded = decodeInternalMessage(topic, payload, retained);
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
    case "relay":
      return null; // the command desk's (commands/inputs.ts), handled before the rule engine's inputs
  }
}
