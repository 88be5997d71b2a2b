// Zigbee2MQTT smart plugs, DIN relays and meters, as data. Sources: zigbee2mqtt.io guide "MQTT topics
// and messages", "Device availability", device pages (Tuya TS011F, Nous D4Z, Develco ZHEMI101);
// shared/reference/anchors.md §2.
//   zigbee2mqtt/<name>                JSON state: power W, voltage V, current A, energy kWh (counter),
//                                     power_factor (in % on many Tuya devices, 0–1 on others), ac_frequency Hz,
//                                     temperature / device_temperature °C, state ON|OFF, 3-phase power_a/b/c,
//                                     current_a/b/c, voltage_a/b/c (phase A–C, NOT our current_a), faults;
//                                     `state` → switch_on, and a periodic relay report (CONTRACT §10: the
//                                     answer to a `/set` is this same message, so never an explicit one)
//   zigbee2mqtt/<name>/availability   {"state":"online"|"offline"} (or the legacy plain text)
// Breaker-style devices report protection faults (`faults: [...]` or `fault: "..."`): short circuit,
// overload, over-current and leakage trip the breaker; voltage, surge, temperature and phase faults are faults.
import { ErrorCodes } from "../errors.js";
import { isJsonObject, type JsonObject } from "../json-object.js";
import { decodeJson } from "../reading.js";
import { type FieldMapper, jsonObjectDecoder, mapFields, numeric, onOff } from "./mappers.js";
import { type Decoded, type FormatDefinition, emptyDecoded, refused } from "./types.js";
import { LIVE_SKEW_TOLERANCE_MS, type ProtectionMapping, codesOf, protectionEvents, readingOf } from "./vendor.js";

/** Kept per device: the fault codes active after the last message that spoke about faults. */
type ActiveFaults = string[];
const isActiveFaults = (value: unknown): value is ActiveFaults => Array.isArray(value) && value.every((code) => typeof code === "string");

/**
 * Power factor: Zigbee2MQTT passes the device's value, which many Tuya devices give in percent (0–100)
 * and others as cos φ (0–1). A magnitude above 1 can only be percent; at or below 1 it is taken as cos φ
 * (a true 1 % power factor does not occur on a loaded circuit).
 */
const powerFactor: FieldMapper = {
  field: "power_factor",
  path: "power_factor",
  read(payload) {
    const raw = payload.power_factor;
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== "number" || !Number.isFinite(raw)) return { error: `"power_factor" must be a number` };
    return { value: Math.abs(raw) > 1 ? Math.round(raw * 1e7) / 1e9 : raw };
  },
};

const FIELDS: FieldMapper[] = [
  numeric({ field: "power_w", path: "power" }),
  numeric({ field: "voltage_v", path: "voltage" }),
  numeric({ field: "current_a", path: "current" }),
  numeric({ field: "energy_kwh", path: "energy" }),
  numeric({ field: "frequency_hz", path: "ac_frequency" }),
  numeric({ field: "temperature_c", path: "temperature" }),
  numeric({ field: "temperature_c", path: "device_temperature" }),
  powerFactor,
  onOff({ field: "switch_on", path: "state" }),
];

const PHASE_KEYS = { a: "L1", b: "L2", c: "L3" } as const;
const PHASE_FIELDS = { power: "power_w", current: "current_a", voltage: "voltage_v", energy: "energy_kwh" } as const;

const FAULTS: ProtectionMapping = {
  short_circuit: { type: "trip", reason: "short_circuit" },
  overload: { type: "trip", reason: "overload" },
  over_current: { type: "trip", reason: "overload" },
  leakage_current: { type: "trip", reason: "leakage" },
  residual_current: { type: "trip", reason: "leakage" },
  over_voltage: { type: "fault", reason: "overvoltage" },
  surge: { type: "fault", reason: "overvoltage" },
  under_voltage: { type: "fault", reason: "undervoltage" },
  over_temperature: { type: "fault", reason: "overtemp" },
  high_temperature: { type: "fault", reason: "overtemp" },
};
const NO_FAULT = ["clear", "none", "normal", "ok"];

function faultsOf(body: JsonObject): ActiveFaults {
  return [...codesOf(body.faults, NO_FAULT), ...codesOf(body.fault, NO_FAULT)];
}

export const zigbee2mqtt: FormatDefinition<ActiveFaults> = {
  name: "zigbee2mqtt",
  isState: isActiveFaults,
  topics: [
    {
      template: "zigbee2mqtt/{source}",
      kind: "telemetry",
      decode: jsonObjectDecoder((state, context) => {
        const mapped = mapFields(state, FIELDS);
        if (!mapped.ok) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: mapped.reason });
        const phases: Record<string, JsonObject> = {};
        for (const [suffix, phase] of Object.entries(PHASE_KEYS)) {
          for (const [key, field] of Object.entries(PHASE_FIELDS)) {
            const value = state[`${key}_${suffix}`];
            if (value === undefined || value === null) continue;
            (phases[phase] ??= {})[field] = value;
          }
        }
        const values: JsonObject = { ...mapped.values };
        if (Object.keys(phases).length > 0) values.phases = phases;
        // Z2M also publishes messages with no measurement (linkquality only, an update notice): not an error.
        const decoded: Decoded<ActiveFaults> = Object.keys(values).length > 0 ? readingOf(values, { ...context, maxSkewMs: LIVE_SKEW_TOLERANCE_MS }) : emptyDecoded();
        const before = context.previous ?? [];
        const faults = faultsOf(state);
        decoded.events.push(...protectionEvents(context.device, context.receivedAt, faults, before, FAULTS));
        // Only a message that speaks about faults changes what is active (most messages do not mention them).
        decoded.state = "faults" in state || "fault" in state ? faults : before;
        return decoded;
      }),
    },
    {
      template: "zigbee2mqtt/{source}/availability",
      kind: "status",
      decode: (payload, context) => {
        const text = payload.toString("utf8").trim();
        let word: unknown = text;
        if (text.startsWith("{")) {
          const parsed = decodeJson(text);
          word = parsed.ok && isJsonObject(parsed.value) ? parsed.value.state : undefined;
        }
        if (word !== "online" && word !== "offline") return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: 'availability must be "online" or "offline"' });
        return { ...emptyDecoded(), statuses: [{ device: context.device, ts: context.receivedAt, online: word === "online" }] };
      },
    },
  ],
};
