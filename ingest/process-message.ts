// One MQTT message → what the ingest must do about it, as data: normalised messages to publish,
// points to store, refusals to count/log/dead-letter. Pure (the receive time is passed in).
import type { RelayReport } from "../domain/command.js";
import type { Refusal } from "../domain/errors.js";
import type { Decoded } from "../domain/formats/index.js";
import type { Point } from "../domain/line-protocol.js";
import type { TimestampFallback } from "../domain/reading.js";
import { internalTopic } from "../domain/topics.js";
import { eventToPoint, readingToPoints, statusToPoint } from "./points.js";
import type { Router } from "./routing.js";

export interface Publication {
  topic: string;
  payload: string;
  retain: boolean;
  /** The report a relay publication carries (the stream coalesces periodic repeats: ./stream.ts). */
  relay?: RelayReport;
}

export interface MessageEffects {
  device: string | null;
  kind: string;
  format: string;
  publish: Publication[];
  points: Point[];
  refusals: Refusal[];
  fallbacks: TimestampFallback[];
  /** Readings decoded (for the per-format counters). */
  readings: number;
  /** The device's vendor state to keep for its next message (DecodeContext.previous), when it changed. */
  state?: { key: string; value: unknown };
}

export interface ProcessOptions {
  receivedAt: number;
  /** Raw retention, ms: older device timestamps are not sane (CONTRACT §4). */
  maxAgeMs: number;
  maxBytes?: number;
  /** The vendor state a format kept for this key (device + format) last time. */
  previousState?(key: string): unknown;
}

export function processMessage(router: Router, topic: string, payload: Buffer, options: ProcessOptions): MessageEffects {
  const routed = router.route(topic);
  if (!routed.ok) {
    return { device: routed.device, kind: "unknown", format: "unknown", publish: [], points: [], refusals: [routed.refusal], fallbacks: [], readings: 0 };
  }
  const { device, timeZone, format, kind, decode } = routed.route;
  const stateKey = `${format}/${device.id}`;
  const previous = options.previousState?.(stateKey);
  const context = { device: device.id, timeZone, receivedAt: options.receivedAt, maxAgeMs: options.maxAgeMs, ...(previous === undefined ? {} : { previous }) };
  const decoded: Decoded = decode(payload, options.maxBytes === undefined ? context : { ...context, maxBytes: options.maxBytes });

  const effects: MessageEffects = { device: device.id, kind, format, publish: [], points: [], refusals: decoded.refusals, fallbacks: [], readings: decoded.readings.length };
  if (decoded.state !== undefined) effects.state = { key: stateKey, value: decoded.state };
  // The internal stream (docs/architecture.md): readings and statuses retained (latest per device), events and relay reports not.
  for (const reading of decoded.readings) {
    effects.publish.push({ topic: internalTopic.reading(device.id), payload: JSON.stringify(reading), retain: true });
    effects.points.push(...readingToPoints(reading, device));
    if (reading.tsFallback) effects.fallbacks.push(reading.tsFallback);
  }
  for (const status of decoded.statuses) {
    effects.publish.push({ topic: internalTopic.status(device.id), payload: JSON.stringify(status), retain: true });
    effects.points.push(statusToPoint(status, device));
  }
  for (const event of decoded.events) {
    effects.publish.push({ topic: internalTopic.event(device.id), payload: JSON.stringify(event), retain: false });
    effects.points.push(eventToPoint(event, device));
    if (event.tsFallback) effects.fallbacks.push(event.tsFallback);
  }
  // Relay reports (CONTRACT §10) go to the command executor only: `switch_on` is stored with its reading.
  for (const relay of decoded.relays) {
    effects.publish.push({ topic: internalTopic.relay(device.id), payload: JSON.stringify(relay), retain: false, relay });
  }
  return effects;
}
