// The canonical reading (CONTRACT §3) and the pure parsers of native device payloads.
// Every decoder, native or foreign, ends in these types; nothing here does I/O or reads a clock.
import { ErrorCodes, type Refusal } from "./errors.js";
import { isJsonObject } from "./json-object.js";
import { ISO_WITH_ZONE } from "./time-zone.js";

export const MEASUREMENT_FIELDS = [
  "voltage_v",
  "current_a",
  "power_w",
  "energy_kwh",
  "power_factor",
  "frequency_hz",
  "leakage_ma",
  "temperature_c",
] as const;
export type MeasurementField = (typeof MEASUREMENT_FIELDS)[number];
export const PHASES = ["L1", "L2", "L3"] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_FIELDS = ["voltage_v", "current_a", "power_w", "energy_kwh", "power_factor"] as const;
export type PhaseField = (typeof PHASE_FIELDS)[number];

export type Values = Partial<Record<MeasurementField, number>> & { switch_on?: boolean };
export type PhaseValues = Partial<Record<PhaseField, number>>;

export interface Reading {
  device: string;
  /** Event time, epoch milliseconds. */
  ts: number;
  values: Values;
  phases?: Partial<Record<Phase, PhaseValues>>;
  /** Set when the device's own timestamp was not used (CONTRACT §4), so the case can be counted. */
  tsFallback?: TimestampFallback;
}

export interface StatusChange {
  device: string;
  ts: number;
  online: boolean;
}

export const EVENT_TYPES = ["trip", "arc", "switch", "fault"] as const;
/** CONTRACT §3; and "command refused", by which a native device refuses a command (CONTRACT §10, domain/formats/native.ts). */
export const EVENT_REASONS = ["overload", "short_circuit", "leakage", "overtemp", "overvoltage", "undervoltage", "manual", "remote", "command refused"] as const;
export interface DeviceEvent {
  device: string;
  ts: number;
  type: (typeof EVENT_TYPES)[number];
  reason?: (typeof EVENT_REASONS)[number];
  detail?: string;
  tsFallback?: TimestampFallback;
}

/**
 * Why a device timestamp was replaced by the receive time (each case is counted by the ingest):
 * future (> 5 min ahead, CONTRACT §4), unparseable, too-old (beyond the raw retention), no-zone (an ISO
 * time without offset where one is required), skew (a format that only reports live — Tasmota, Shelly —
 * whose clock is further behind the receive time than its tolerance: a wrong or unsynchronised clock).
 */
export type TimestampFallback = "future" | "unparseable" | "too-old" | "no-zone" | "skew";

/** An ISO 8601 local date-time without a zone: ambiguous, so not trusted where a zone is required. */
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Plausible physical ranges: a value outside is a broken device or a unit mix-up, not a reading. */
const RANGES: Record<MeasurementField, [number, number]> = {
  voltage_v: [0, 1000],
  current_a: [-10_000, 10_000],
  power_w: [-10_000_000, 10_000_000],
  energy_kwh: [0, 1e12],
  power_factor: [-1, 1],
  frequency_hz: [0, 100],
  leakage_ma: [0, 100_000],
  temperature_c: [-60, 400],
};

export interface ParseOptions {
  /** Broker receive time, epoch ms: the timestamp used when the device gives none or an insane one. */
  receivedAt: number;
  /** How far back a device timestamp is still accepted (the raw retention period). */
  maxAgeMs: number;
  /** How far ahead of the receive time a device timestamp may be (CONTRACT §4: 5 minutes). */
  maxFutureMs?: number;
  /** Largest payload accepted, bytes. */
  maxBytes?: number;
  /** Most readings in one batch payload. */
  maxBatch?: number;
  /**
   * For formats that only report live (no buffering on the device): how far behind the receive time a
   * device timestamp may be before it counts as clock skew. Unset for the native format, whose devices
   * may flush readings buffered while offline (CONTRACT §4).
   */
  maxSkewMs?: number;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
export const DEFAULT_MAX_BATCH = 5_000;
export const MAX_FUTURE_MS = 5 * 60_000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

const refuse = (code: Refusal["code"], reason: string): { ok: false; refusal: Refusal } => ({ ok: false, refusal: { code, reason } });

/** Decodes JSON with a size limit; a refusal for anything that is not JSON. */
export function decodeJson(payload: Buffer | string, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): Parsed<unknown> {
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return refuse(ErrorCodes.PAYLOAD_TOO_LARGE, `payload of ${size} bytes exceeds ${maxBytes}`);
  try {
    return { ok: true, value: JSON.parse(payload.toString()) };
  } catch {
    return refuse(ErrorCodes.PAYLOAD_NOT_JSON, "payload is not valid JSON");
  }
}

/**
 * Resolves a device timestamp (ISO 8601 with offset, or epoch ms) against the receive time:
 * absent → receive time; unparseable, > 5 min ahead, or older than the raw retention → receive time + fallback.
 */
export function resolveTimestamp(ts: unknown, options: ParseOptions): { ts: number; fallback?: TimestampFallback } {
  const { receivedAt } = options;
  if (ts === undefined || ts === null) return { ts: receivedAt };
  let epochMs = Number.NaN;
  if (typeof ts === "number") epochMs = ts;
  else if (typeof ts === "string" && ISO_WITH_ZONE.test(ts)) epochMs = Date.parse(ts);
  else if (typeof ts === "string" && ISO_WITHOUT_ZONE.test(ts)) return { ts: receivedAt, fallback: "no-zone" };
  if (!Number.isFinite(epochMs) || epochMs <= 0) return { ts: receivedAt, fallback: "unparseable" };
  epochMs = Math.round(epochMs);
  if (epochMs - receivedAt > (options.maxFutureMs ?? MAX_FUTURE_MS)) return { ts: receivedAt, fallback: "future" };
  if (receivedAt - epochMs > options.maxAgeMs) return { ts: receivedAt, fallback: "too-old" };
  if (options.maxSkewMs !== undefined && receivedAt - epochMs > options.maxSkewMs) return { ts: receivedAt, fallback: "skew" };
  return { ts: epochMs };
}

const READING_KEYS = new Set<string>(["ts", "switch_on", "phases", ...MEASUREMENT_FIELDS]);

/** Validates one native reading object (CONTRACT §3). */
export function parseReadingObject(device: string, input: unknown, options: ParseOptions): Parsed<Reading> {
  if (!isJsonObject(input)) return refuse(ErrorCodes.PAYLOAD_INVALID, "a reading must be a JSON object");
  const record = input;
  for (const key of Object.keys(record)) {
    if (!READING_KEYS.has(key)) return refuse(ErrorCodes.PAYLOAD_INVALID, `unknown field "${key}"`);
  }
  const values: Values = {};
  for (const field of MEASUREMENT_FIELDS) {
    const checked = checkNumber(field, record[field]);
    if (typeof checked === "string") return refuse(ErrorCodes.PAYLOAD_INVALID, checked);
    if (checked !== undefined) values[field] = checked;
  }
  if (record.switch_on !== undefined) {
    if (typeof record.switch_on !== "boolean") return refuse(ErrorCodes.PAYLOAD_INVALID, `"switch_on" must be a boolean`);
    values.switch_on = record.switch_on;
  }
  const phases = parsePhases(record.phases);
  if (typeof phases === "string") return refuse(ErrorCodes.PAYLOAD_INVALID, phases);
  if (Object.keys(values).length === 0 && phases === undefined) {
    return refuse(ErrorCodes.PAYLOAD_INVALID, "a reading needs at least one measurement");
  }
  const time = resolveTimestamp(record.ts, options);
  const reading: Reading = { device, ts: time.ts, values };
  if (phases !== undefined) reading.phases = phases;
  if (time.fallback !== undefined) reading.tsFallback = time.fallback;
  return { ok: true, value: reading };
}

export interface TelemetryResult {
  readings: Reading[];
  refusals: Refusal[];
}

/** A telemetry payload: one reading object, or an array of them (a device flushing its buffer). */
export function parseTelemetry(device: string, payload: Buffer | string, options: ParseOptions): TelemetryResult {
  const decoded = decodeJson(payload, options.maxBytes);
  if (!decoded.ok) return { readings: [], refusals: [decoded.refusal] };
  const items = Array.isArray(decoded.value) ? decoded.value : [decoded.value];
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (items.length === 0) return { readings: [], refusals: [{ code: ErrorCodes.PAYLOAD_INVALID, reason: "empty batch" }] };
  if (items.length > maxBatch) {
    return { readings: [], refusals: [{ code: ErrorCodes.PAYLOAD_TOO_LARGE, reason: `batch of ${items.length} readings exceeds ${maxBatch}` }] };
  }
  const result: TelemetryResult = { readings: [], refusals: [] };
  items.forEach((item, index) => {
    const parsed = parseReadingObject(device, item, options);
    if (parsed.ok) result.readings.push(parsed.value);
    else {
      const where = items.length > 1 ? ` (item ${index})` : "";
      result.refusals.push({ ...parsed.refusal, reason: parsed.refusal.reason + where });
    }
  });
  return result;
}

/** `online` / `offline` (CONTRACT §3); JSON strings and booleans are accepted too. */
export function parseStatus(payload: Buffer | string): Parsed<boolean> {
  const text = payload.toString().trim().replace(/^"(.*)"$/, "$1").toLowerCase();
  if (text === "online" || text === "true") return { ok: true, value: true };
  if (text === "offline" || text === "false") return { ok: true, value: false };
  return refuse(ErrorCodes.PAYLOAD_INVALID, 'status must be "online" or "offline"');
}

export function parseEvent(device: string, payload: Buffer | string, options: ParseOptions): Parsed<DeviceEvent> {
  const decoded = decodeJson(payload, options.maxBytes);
  if (!decoded.ok) return decoded;
  const record = decoded.value;
  if (!isJsonObject(record)) return refuse(ErrorCodes.PAYLOAD_INVALID, "an event must be a JSON object");
  for (const key of Object.keys(record)) {
    if (!["ts", "type", "reason", "detail"].includes(key)) return refuse(ErrorCodes.PAYLOAD_INVALID, `unknown field "${key}"`);
  }
  if (!EVENT_TYPES.includes(record.type as DeviceEvent["type"])) {
    return refuse(ErrorCodes.PAYLOAD_INVALID, `"type" must be one of ${EVENT_TYPES.join(", ")}`);
  }
  if (record.reason !== undefined && !EVENT_REASONS.includes(record.reason as never)) {
    return refuse(ErrorCodes.PAYLOAD_INVALID, `"reason" must be one of ${EVENT_REASONS.join(", ")}`);
  }
  if (record.detail !== undefined && (typeof record.detail !== "string" || record.detail.length > 1024)) {
    return refuse(ErrorCodes.PAYLOAD_INVALID, `"detail" must be a string of at most 1024 characters`);
  }
  const time = resolveTimestamp(record.ts, options);
  const event: DeviceEvent = { device, ts: time.ts, type: record.type as DeviceEvent["type"] };
  if (record.reason !== undefined) event.reason = record.reason as DeviceEvent["reason"];
  if (record.detail !== undefined) event.detail = record.detail as string;
  if (time.fallback !== undefined) event.tsFallback = time.fallback;
  return { ok: true, value: event };
}

function checkNumber(field: string, value: unknown): number | undefined | string {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) return `"${field}" must be a finite number`;
  const range = RANGES[field as MeasurementField];
  if (range && (value < range[0] || value > range[1])) return `"${field}" = ${value} is outside ${range[0]}..${range[1]}`;
  return value;
}

function parsePhases(input: unknown): Partial<Record<Phase, PhaseValues>> | undefined | string {
  if (input === undefined) return undefined;
  if (!isJsonObject(input)) return `"phases" must be an object of L1, L2, L3`;
  const phases: Partial<Record<Phase, PhaseValues>> = {};
  for (const [name, raw] of Object.entries(input)) {
    if (!PHASES.includes(name as Phase)) return `unknown phase "${name}" (expected L1, L2, L3)`;
    if (!isJsonObject(raw)) return `"phases.${name}" must be an object`;
    const values: PhaseValues = {};
    for (const [key, value] of Object.entries(raw)) {
      if (!PHASE_FIELDS.includes(key as PhaseField)) return `unknown field "phases.${name}.${key}"`;
      const checked = checkNumber(key, value);
      if (typeof checked === "string") return checked.replace(`"${key}"`, `"phases.${name}.${key}"`);
      if (checked !== undefined) values[key as PhaseField] = checked;
    }
    if (Object.keys(values).length > 0) phases[name as Phase] = values;
  }
  return Object.keys(phases).length > 0 ? phases : undefined;
}
