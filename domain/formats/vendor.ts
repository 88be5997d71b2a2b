// Mappers shared by the vendor formats beyond Tasmota: plain-text value topics (Shelly Gen1), device
// protection errors → device_event (Shelly `errors`, Zigbee2MQTT `faults`, Tasmota margins), and the
// live-only clock tolerance. Pure.
import { ErrorCodes } from "../errors.js";
import { type DeviceEvent, type MeasurementField, parseReadingObject } from "../reading.js";
import { type DecodeContext, type Decoded, type MessageDecoder, decodedReadings, refused } from "./types.js";

/**
 * Devices that only report what they measure now (Tasmota, Shelly, Zigbee2MQTT: no buffering) may be
 * this far behind the receive time; beyond it their clock is wrong (no NTP, wrong zone setting) and the
 * receive time is used. 5 minutes, the same margin CONTRACT §4 allows ahead: MQTT delivery on a campus
 * LAN takes well under a second, and a clock without NTP drifts a few seconds a day.
 */
export const LIVE_SKEW_TOLERANCE_MS = 5 * 60_000;

/** A plain-text number on its own topic (Shelly Gen1 `relay/0/power`), times `scale`; stamped at receive time. */
export function textNumber<State = never>(field: MeasurementField, scale = 1): MessageDecoder<State> {
  return (payload, context) => {
    const text = payload.toString("utf8").trim();
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: `"${text.slice(0, 40)}" is not a number` });
    return readingOf({ [field]: Math.round(value * scale * 1e9) / 1e9 }, context);
  };
}

/**
 * Runs the canonical validator on mapped values, so vendor readings obey the native rules; a `switch_on`
 * among them is also a periodic relay report (CONTRACT §10).
 */
export function readingOf<State = never>(values: Record<string, unknown>, context: DecodeContext<unknown>): Decoded<State> {
  const parsed = parseReadingObject(context.device, values, context);
  return parsed.ok ? decodedReadings([parsed.value]) : refused(parsed.refusal);
}

export type ProtectionMapping = Record<string, Pick<DeviceEvent, "type" | "reason">>;

/**
 * Protection errors → device events, only for errors that were not already active in `before`
 * (a device repeating "overpower" in every status must not become a stream of trips). Unknown codes
 * become `fault` events with the vendor's code as detail. Several new errors of one message are stamped
 * 1 ms apart: a device_event point is keyed by (device, building, type, time), so two trips at the same
 * millisecond would overwrite each other; the offsets are deterministic, so a replay stays idempotent.
 */
export function protectionEvents(device: string, ts: number, active: readonly string[], before: readonly string[], mapping: ProtectionMapping): DeviceEvent[] {
  const events: DeviceEvent[] = [];
  for (const code of new Set(active)) {
    if (before.includes(code)) continue;
    const known = mapping[code];
    const event: DeviceEvent = { device, ts: ts + events.length, type: known?.type ?? "fault", detail: code };
    if (known?.reason) event.reason = known.reason;
    events.push(event);
  }
  return events;
}

/**
 * A vendor's error code is an event's `detail`, held to the native bound (CONTRACT §3: at most 1,024
 * characters); a longer one is cut there. Found by fuzzing (tests/fuzz/device-payloads.test.ts): a
 * Zigbee2MQTT `fault` of 256 KiB became a 256 KiB string field in InfluxDB.
 */
const MAX_CODE_CHARS = 1024;
/**
 * Real devices report a handful of protections at once (Shelly Gen2 has 4, Zigbee breakers ~10); one
 * message listing thousands of codes would become thousands of event points and alerts. 32 keeps every
 * real one and bounds what one message can cost.
 */
const MAX_CODES_PER_MESSAGE = 32;

/** A list of error codes from a vendor value: an array of strings, one string, or nothing (bounded, see above). */
export function codesOf(value: unknown, ignore: readonly string[] = []): string[] {
  const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  const codes = list.filter((v): v is string => typeof v === "string" && v !== "" && !ignore.includes(v.toLowerCase()));
  return codes.slice(0, MAX_CODES_PER_MESSAGE).map((code) => code.slice(0, MAX_CODE_CHARS));
}
