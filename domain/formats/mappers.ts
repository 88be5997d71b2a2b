// Small reusable field mappers; a foreign format's decoder is a list of them (see ./tasmota.ts).
// A mapper reads one value at a path of the vendor's JSON and names the canonical field it becomes.
// The assembled object then goes through the native validator (parseReadingObject), so a foreign
// reading obeys exactly the same ranges, field types and timestamp rules as a native one (CONTRACT §3/§4).
import { ErrorCodes } from "../errors.js";
import { type MeasurementField, decodeJson, parseReadingObject } from "../reading.js";
import { type DecodeContext, type MessageDecoder, emptyDecoded, refused } from "./types.js";
import { localTimeToEpochMs } from "../time-zone.js";

type Json = Record<string, unknown>;
export type MapperResult = { value: number | boolean } | { error: string } | undefined;

export interface FieldMapper {
  field: MeasurementField | "switch_on";
  path: string;
  read(payload: Json): MapperResult;
}

/** Reads a value at a dotted path (`ENERGY.Power`); undefined when any level is missing. */
export function valueAt(payload: unknown, path: string): unknown {
  let current: unknown = payload;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

export interface NumericOptions {
  field: MeasurementField;
  path: string;
  /** Multiplier to the canonical unit, e.g. 1/60000 for watt-minutes → kWh (Shelly Gen1). */
  scale?: number;
  /**
   * Multi-channel devices send arrays (Tasmota `"Power":[52,5]`): `sum` for additive quantities
   * (power, current, energy: the device's total), `first` for the others (voltage, factor, frequency).
   */
  channels?: "first" | "sum";
}

export function numeric(options: NumericOptions): FieldMapper {
  const { field, path, scale = 1, channels = "first" } = options;
  return {
    field,
    path,
    read(payload) {
      let raw = valueAt(payload, path);
      if (raw === undefined || raw === null) return undefined;
      if (Array.isArray(raw)) {
        if (raw.length === 0) return undefined;
        if (!raw.every((v) => typeof v === "number" && Number.isFinite(v))) return { error: `"${path}" must hold numbers` };
        raw = channels === "sum" ? (raw as number[]).reduce((a, b) => a + b, 0) : raw[0];
      }
      if (typeof raw !== "number" || !Number.isFinite(raw)) return { error: `"${path}" must be a number` };
      // Round away binary noise from scaling and summing (0.1 + 0.2); 1e-9 is far below any meter's resolution.
      return { value: Math.round((raw as number) * scale * 1e9) / 1e9 };
    },
  };
}

export interface OnOffOptions {
  field: "switch_on";
  path: string;
  on?: readonly (string | boolean)[];
  off?: readonly (string | boolean)[];
}

/** A relay state: `"ON"`/`"OFF"` (Tasmota POWER), `true`/`false` (Shelly output). */
export function onOff(options: OnOffOptions): FieldMapper {
  const { field, path, on = ["ON", true], off = ["OFF", false] } = options;
  return {
    field,
    path,
    read(payload) {
      const raw = valueAt(payload, path);
      if (raw === undefined || raw === null) return undefined;
      if (on.includes(raw as string)) return { value: true };
      if (off.includes(raw as string)) return { value: false };
      return { error: `"${path}" must be one of ${[...on, ...off].map((v) => JSON.stringify(v)).join(", ")}` };
    },
  };
}

/** Turns the vendor's time into what resolveTimestamp takes (epoch ms or ISO with zone), or the raw value. */
export type TimeMapper = (payload: Json, context: DecodeContext) => unknown;

/** A local wall time without zone, in the site's zone (Tasmota `Time`); a time with a zone passes as is. */
export const localTime =
  (path: string): TimeMapper =>
  (payload, context) => {
    const raw = valueAt(payload, path);
    if (typeof raw !== "string") return raw;
    const epochMs = localTimeToEpochMs(raw, context.timeZone);
    // NaN: not a zone-less time; hand the raw text on, so a time with a zone is parsed and
    // anything else is counted as an unparseable timestamp (the receive time is used).
    return Number.isNaN(epochMs) ? raw : epochMs;
  };

export interface JsonTelemetryOptions {
  time?: TimeMapper;
  fields: readonly FieldMapper[];
  /** Clock-skew tolerance for a device that only reports live (ParseOptions.maxSkewMs). */
  maxSkewMs?: number;
}

/** Applies field mappers to a vendor object: the canonical fields, or the first mapper error. */
export function mapFields(body: Json, fields: readonly FieldMapper[]): { ok: true; values: Json } | { ok: false; reason: string } {
  const values: Json = {};
  for (const mapper of fields) {
    const result = mapper.read(body);
    if (result === undefined) continue;
    if ("error" in result) return { ok: false, reason: result.error };
    values[mapper.field] = result.value;
  }
  return { ok: true, values };
}

/** A JSON object payload → one reading, from a time mapper and field mappers. Unmapped keys are ignored. */
export function jsonTelemetry(options: JsonTelemetryOptions): MessageDecoder {
  return (payload, context) => {
    const decoded = decodeJson(payload, context.maxBytes);
    if (!decoded.ok) return refused(decoded.refusal);
    const body = decoded.value;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: "payload must be a JSON object" });
    }
    const mapped = mapFields(body as Json, options.fields);
    if (!mapped.ok) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: mapped.reason });
    const reading = mapped.values;
    const ts = options.time?.(body as Json, context);
    if (ts !== undefined) reading.ts = ts;
    const parseContext = options.maxSkewMs === undefined ? context : { ...context, maxSkewMs: options.maxSkewMs };
    const parsed = parseReadingObject(context.device, reading, parseContext);
    if (!parsed.ok) {
      const reason = Object.keys(reading).every((k) => k === "ts") ? "payload holds none of the mapped measurements" : parsed.refusal.reason;
      return refused({ ...parsed.refusal, reason });
    }
    return { ...emptyDecoded(), readings: [parsed.value] };
  };
}

export interface StatusWordsOptions {
  online: readonly string[];
  offline: readonly string[];
}

/** A plain-text availability payload (Tasmota LWT `Online`/`Offline`, Shelly `true`/`false`); stamped with the receive time. */
export function statusWords(options: StatusWordsOptions): MessageDecoder {
  return (payload, context) => {
    const text = payload.toString("utf8").trim();
    const online = options.online.includes(text) ? true : options.offline.includes(text) ? false : undefined;
    if (online === undefined) {
      return refused({
        code: ErrorCodes.PAYLOAD_INVALID,
        reason: `status must be one of ${[...options.online, ...options.offline].join(", ")}`,
      });
    }
    return { ...emptyDecoded(), statuses: [{ device: context.device, ts: context.receivedAt, online }] };
  };
}
