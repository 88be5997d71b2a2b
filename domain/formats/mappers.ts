// Small reusable field mappers; a foreign format's decoder is a list of them (see ./tasmota.ts).
// A mapper reads one value at a path of the vendor's JSON and names the canonical field it becomes.
// The assembled object then goes through the native validator (parseReadingObject), so a foreign
// reading obeys exactly the same ranges, field types and timestamp rules as a native one (CONTRACT §3/§4).
import { ErrorCodes } from "../errors.js";
import { isJsonObject, type JsonObject } from "../json-object.js";
import { type MeasurementField, decodeJson, parseReadingObject } from "../reading.js";
import { type DecodeContext, type Decoded, type MessageDecoder, decodedReadings, emptyDecoded, refused } from "./types.js";
import { localTimeToEpochMs } from "../time-zone.js";

export type MapperResult = { value: number | boolean } | { error: string } | undefined;

export interface FieldMapper {
  field: MeasurementField | "switch_on";
  path: string;
  read(payload: JsonObject): MapperResult;
}

/** Reads a value at a dotted path (`ENERGY.Power`); undefined when any level is missing. */
export function valueAt(payload: unknown, path: string): unknown {
  let current: unknown = payload;
  for (const key of path.split(".")) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A mapper of the value at `path`; an absent value (missing or null) maps to nothing. */
function mapperAt(field: FieldMapper["field"], path: string, convert: (raw: unknown) => MapperResult): FieldMapper {
  return {
    field,
    path,
    read(payload) {
      const raw = valueAt(payload, path);
      return raw === undefined || raw === null ? undefined : convert(raw);
    },
  };
}

/**
 * A decoder of payloads that must be one JSON object (size-limited): anything else is refused
 * (`PAYLOAD_NOT_JSON`, `PAYLOAD_TOO_LARGE`, or `PAYLOAD_INVALID` with `notObject` as the reason).
 */
export function jsonObjectDecoder<State>(
  decode: (body: JsonObject, context: DecodeContext<State>) => Decoded<State>,
  notObject = "payload must be a JSON object",
): MessageDecoder<State> {
  return (payload, context) => {
    const parsed = decodeJson(payload, context.maxBytes);
    if (!parsed.ok) return refused(parsed.refusal);
    if (!isJsonObject(parsed.value)) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: notObject });
    return decode(parsed.value, context);
  };
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
  return mapperAt(field, path, (raw) => {
    let value = raw;
    if (Array.isArray(raw)) {
      if (raw.length === 0) return undefined;
      if (!raw.every((v) => typeof v === "number" && Number.isFinite(v))) return { error: `"${path}" must hold numbers` };
      value = channels === "sum" ? (raw as number[]).reduce((a, b) => a + b, 0) : raw[0];
    }
    if (typeof value !== "number" || !Number.isFinite(value)) return { error: `"${path}" must be a number` };
    // Round away binary noise from scaling and summing (0.1 + 0.2); 1e-9 is far below any meter's resolution.
    return { value: Math.round(value * scale * 1e9) / 1e9 };
  });
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
  return mapperAt(field, path, (raw) => {
    if (on.includes(raw as string)) return { value: true };
    if (off.includes(raw as string)) return { value: false };
    return { error: `"${path}" must be one of ${[...on, ...off].map((v) => JSON.stringify(v)).join(", ")}` };
  });
}

/** Turns the vendor's time into what resolveTimestamp takes (epoch ms or ISO with zone), or the raw value. */
export type TimeMapper = (payload: JsonObject, context: DecodeContext<unknown>) => unknown;

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
export function mapFields(body: JsonObject, fields: readonly FieldMapper[]): { ok: true; values: JsonObject } | { ok: false; reason: string } {
  const values: JsonObject = {};
  for (const mapper of fields) {
    const result = mapper.read(body);
    if (result === undefined) continue;
    if ("error" in result) return { ok: false, reason: result.error };
    values[mapper.field] = result.value;
  }
  return { ok: true, values };
}

/** A JSON object payload → one reading, from a time mapper and field mappers. Unmapped keys are ignored. */
export function jsonTelemetry<State = never>(options: JsonTelemetryOptions): MessageDecoder<State> {
  return jsonObjectDecoder<State>((body, context) => {
    const mapped = mapFields(body, options.fields);
    if (!mapped.ok) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: mapped.reason });
    const reading = mapped.values;
    const ts = options.time?.(body, context);
    if (ts !== undefined) reading.ts = ts;
    const parseContext = options.maxSkewMs === undefined ? context : { ...context, maxSkewMs: options.maxSkewMs };
    const parsed = parseReadingObject(context.device, reading, parseContext);
    if (!parsed.ok) {
      const reason = Object.keys(reading).every((k) => k === "ts") ? "payload holds none of the mapped measurements" : parsed.refusal.reason;
      return refused({ ...parsed.refusal, reason });
    }
    return decodedReadings([parsed.value]);
  });
}

/**
 * A decoder of a plain-text payload that must be one of `yes` or `no` (trimmed): `then` turns the meaning
 * into the result; anything else is refused, naming `what` it should have been.
 */
export function wordDecoder<State = never>(
  what: string,
  yes: readonly string[],
  no: readonly string[],
  then: (meaning: boolean, context: DecodeContext<State>) => Decoded<State>,
): MessageDecoder<State> {
  return (payload, context) => {
    const text = payload.toString("utf8").trim();
    const meaning = yes.includes(text) ? true : no.includes(text) ? false : undefined;
    if (meaning === undefined) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: `${what} must be one of ${[...yes, ...no].join(", ")}` });
    return then(meaning, context);
  };
}

export interface StatusWordsOptions {
  online: readonly string[];
  offline: readonly string[];
}

/** A plain-text availability payload (Tasmota LWT `Online`/`Offline`, Shelly `true`/`false`); stamped with the receive time. */
export const statusWords = <State = never>(options: StatusWordsOptions): MessageDecoder<State> =>
  wordDecoder("status", options.online, options.offline, (online, context) => ({ ...emptyDecoded(), statuses: [{ device: context.device, ts: context.receivedAt, online }] }));
