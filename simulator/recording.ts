// Recorded traffic (CONTRACT §7): NDJSON lines {"t": epoch_ms, "topic", "payload"}, payload as UTF-8
// text or {"base64": ...}. Pure helpers of record and replay: encoding, topic filters, which device a
// topic belongs to, and moving the times a payload carries (--restamp), in every device format.
import { isUtf8 } from "node:buffer";
import type { Campus } from "../domain/campus.js";
import { localTimeToEpochMs } from "../domain/time-zone.js";
import { parseDeviceTopic } from "../domain/topics.js";
import { localTime } from "./local-time.js";

export interface RecordedMessage {
  t: number;
  topic: string;
  payload: string | { base64: string };
}

export const DEFAULT_RECORD_TOPICS = ["campus/devices/#", "tele/#", "stat/#", "shellies/#", "zigbee2mqtt/#", "+/status/#", "+/events/rpc", "+/online"];

export function encodePayload(payload: Buffer): RecordedMessage["payload"] {
  return isUtf8(payload) ? payload.toString("utf8") : { base64: payload.toString("base64") };
}

export function decodePayload(payload: RecordedMessage["payload"]): Buffer {
  return typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload.base64, "base64");
}

/** One NDJSON line → a message, or a reason it is not one. */
export function parseRecordedLine(line: string): RecordedMessage | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: "not JSON" };
  }
  const m = value as Partial<RecordedMessage>;
  const payloadOk = typeof m.payload === "string" || (typeof m.payload === "object" && m.payload !== null && typeof m.payload.base64 === "string");
  if (typeof m.t !== "number" || !Number.isFinite(m.t) || typeof m.topic !== "string" || m.topic === "" || !payloadOk) {
    return { error: 'needs {"t": epoch_ms, "topic": string, "payload": string | {"base64"}}' };
  }
  return { t: m.t, topic: m.topic, payload: m.payload as RecordedMessage["payload"] };
}

/** MQTT topic filter matching (`+` one level, `#` the rest), [MQTT-4.7.1]. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The device a topic belongs to: native topics by id, foreign ones by the campus file's `source`. */
export function deviceForTopic(campus: Campus, topic: string): string | null {
  const native = parseDeviceTopic(topic);
  if (native) return campus.deviceById.has(native.device) ? native.device : null;
  for (const device of campus.devices) {
    if (device.source === undefined) continue;
    const s = device.source;
    const ownTopic =
      device.format === "tasmota" ? topic.startsWith(`tele/${s}/`) || topic.startsWith(`stat/${s}/`)
      : device.format === "shelly-gen1" ? topic.startsWith(`shellies/${s}/`)
      : device.format === "shelly-gen2" ? topic.startsWith(`${s}/`)
      : device.format === "zigbee2mqtt" ? topic === `zigbee2mqtt/${s}` || topic.startsWith(`zigbee2mqtt/${s}/`)
      : false;
    if (ownTopic) return device.id;
  }
  return null;
}

/** A device's availability topic (retained, like its last will): replayed retained too. */
export function isAvailabilityTopic(topic: string): boolean {
  return /^campus\/devices\/[^/]+\/status$/.test(topic) || /^tele\/[^/]+\/LWT$/.test(topic) || /\/online$/.test(topic) || /^zigbee2mqtt\/.+\/availability$/.test(topic);
}

type Json = Record<string, unknown>;

const shiftIso = (value: unknown, offsetMs: number) =>
  typeof value === "string" && Number.isFinite(Date.parse(value)) && /[zZ]|[+-]\d{2}:?\d{2}$/.test(value)
    ? new Date(Date.parse(value) + offsetMs).toISOString()
    : typeof value === "number" ? value + offsetMs : value;

/**
 * Moves every time a payload carries by `offsetMs`: native `ts`; Tasmota's zone-less local `Time` (in
 * the site's zone; SENSOR and STATE); Shelly Gen2 `params.ts` and `aenergy.minute_ts` (unix seconds); Zigbee2MQTT
 * `last_seen`. Shelly Gen1 values carry no time. Anything that is not JSON passes unchanged.
 */
export function restamp(topic: string, payload: Buffer, offsetMs: number, timeZone: string): Buffer {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString("utf8"));
  } catch {
    return payload; // not JSON: replayed as recorded, the ingest will judge it as it did the first time
  }
  if (typeof body !== "object" || body === null) return payload;
  const native = parseDeviceTopic(topic);
  const shiftSeconds = (value: unknown) => (typeof value === "number" ? Math.round((value + offsetMs / 1000) * 100) / 100 : value);
  const shiftSwitch = (component: unknown) => {
    const energy = (component as Json | null)?.aenergy as Json | undefined;
    if (energy && typeof energy.minute_ts === "number") energy.minute_ts = Math.floor(energy.minute_ts + offsetMs / 1000);
  };
  if (native && (native.kind === "telemetry" || native.kind === "events")) {
    for (const item of Array.isArray(body) ? (body as Json[]) : [body as Json]) if (item && "ts" in item) item.ts = shiftIso(item.ts, offsetMs);
  } else if (/^tele\/[^/]+\/(SENSOR|STATE)$/.test(topic)) {
    const sensor = body as Json;
    if (typeof sensor.Time === "string") {
      const epochMs = localTimeToEpochMs(sensor.Time, timeZone);
      sensor.Time = Number.isNaN(epochMs) ? shiftIso(sensor.Time, offsetMs) : localTime(epochMs + offsetMs, timeZone).iso;
    }
  } else if (topic.endsWith("/events/rpc")) {
    const params = (body as Json).params as Json | undefined;
    if (params) {
      params.ts = shiftSeconds(params.ts);
      for (const [name, component] of Object.entries(params)) if (name.startsWith("switch:")) shiftSwitch(component);
    }
  } else if (/\/status\/switch:\d+$/.test(topic)) {
    shiftSwitch(body);
  } else if (topic.startsWith("zigbee2mqtt/")) {
    const z = body as Json;
    if ("last_seen" in z) z.last_seen = shiftIso(z.last_seen, offsetMs);
  } else return payload;
  return Buffer.from(JSON.stringify(body));
}
