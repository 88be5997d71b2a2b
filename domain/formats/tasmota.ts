// Tasmota energy-monitoring plugs (Sonoff POW/S31 and kin), as data. Source: tasmota/docs MQTT.md and
// the energy monitoring page; shared/reference/anchors.md §2; Tasmota xdrv_03_energy.ino (margins).
//   tele/<topic>/SENSOR  {"Time":"2023-05-19T20:52:56","ENERGY":{"Total":514.153,"Power":56,"Factor":0.61,
//                          "Voltage":234,"Current":0.392,...}}  every TelePeriod (default 300 s)
//   tele/<topic>/LWT     Online | Offline (retained last will)
//   tele/<topic>/MARGINS {"Time":…,"MARGINS":{"PowerHigh":"ON"}}  a set limit (PowerHigh, CurrentHigh,
//                        VoltageHigh, VoltageLow …) crossed: a device-side protection warning → fault event
//   stat/<topic>/WARNING {"Time":…,"MaxPowerReached":3000}  MaxPower exceeded: Tasmota switched the relay off → trip
//   stat/<topic>/POWER   ON | OFF, and stat/<topic>/RESULT {"POWER":"ON"}: Tasmota's answer to every POWER
//                        command, with the state the relay is in after it (the kept state when it did not
//                        switch) → explicit relay reports (CONTRACT §10); RESULT answers other commands too
//   tele/<topic>/STATE   {"Time":…,"POWER":"ON",…} every TelePeriod → periodic relay report
// Units: Voltage V, Current A, Power W, Factor cos φ (0–1), Total kWh (cumulative), Frequency Hz.
// `Time` is the device's local time WITHOUT zone: it is read in the site's zone (campus site.timezone).
// Multi-channel devices send arrays (`"Power":[52,5]`, `"Total":[2.813,0.254]`, Voltage scalar); one
// campus device is one metered point, so additive quantities are summed (the device's total) and the
// others take channel 0. A device whose channels feed different circuits should be split once per-channel
// devices exist in the campus file. Such a device reports `POWER1`, `POWER2`… instead of `POWER`, and so no
// relay state here.
import { isJsonObject, type JsonObject } from "../json-object.js";
import { type DeviceEvent, resolveTimestamp } from "../reading.js";
import { jsonObjectDecoder, jsonTelemetry, localTime, numeric, onOff, statusWords } from "./mappers.js";
import { jsonRelay, relayWord } from "./relay.js";
import { type DecodeContext, type FormatDefinition, emptyDecoded, keepsNoState } from "./types.js";
import { LIVE_SKEW_TOLERANCE_MS } from "./vendor.js";

const MARGINS: Record<string, Pick<DeviceEvent, "type" | "reason">> = {
  PowerHigh: { type: "fault", reason: "overload" },
  CurrentHigh: { type: "fault", reason: "overload" },
  VoltageHigh: { type: "fault", reason: "overvoltage" },
  VoltageLow: { type: "fault", reason: "undervoltage" },
};

/** Tasmota's words for the relay (its default StateText). */
const ON = ["ON"];
const OFF = ["OFF"];
const POWER = onOff({ field: "switch_on", path: "POWER", on: ON, off: OFF });

function eventTime(body: JsonObject, context: DecodeContext<never>): { ts: number; tsFallback?: DeviceEvent["tsFallback"] } {
  const time = resolveTimestamp(localTime("Time")(body, context), { ...context, maxSkewMs: LIVE_SKEW_TOLERANCE_MS });
  return time.fallback ? { ts: time.ts, tsFallback: time.fallback } : { ts: time.ts };
}

export const tasmota: FormatDefinition<never> = {
  name: "tasmota",
  isState: keepsNoState,
  topics: [
    {
      template: "tele/{source}/SENSOR",
      kind: "telemetry",
      decode: jsonTelemetry({
        time: localTime("Time"),
        maxSkewMs: LIVE_SKEW_TOLERANCE_MS,
        fields: [
          numeric({ field: "voltage_v", path: "ENERGY.Voltage", channels: "first" }),
          numeric({ field: "current_a", path: "ENERGY.Current", channels: "sum" }),
          numeric({ field: "power_w", path: "ENERGY.Power", channels: "sum" }),
          numeric({ field: "power_factor", path: "ENERGY.Factor", channels: "first" }),
          numeric({ field: "energy_kwh", path: "ENERGY.Total", channels: "sum" }),
          numeric({ field: "frequency_hz", path: "ENERGY.Frequency", channels: "first" }),
        ],
      }),
    },
    { template: "tele/{source}/LWT", kind: "status", decode: statusWords({ online: ["Online"], offline: ["Offline"] }) },
    {
      template: "tele/{source}/MARGINS",
      kind: "events",
      decode: jsonObjectDecoder((body, context) => {
        const margins = isJsonObject(body.MARGINS) ? body.MARGINS : body;
        const time = eventTime(body, context);
        const events: DeviceEvent[] = [];
        for (const [name, mapping] of Object.entries(MARGINS)) {
          // 1 ms apart, as in vendor.ts protectionEvents: same type, same device, distinct points.
          if (margins[name] === "ON") events.push({ device: context.device, ...time, ts: time.ts + events.length, ...mapping, detail: name });
        }
        return { ...emptyDecoded(), events };
      }),
    },
    {
      template: "stat/{source}/WARNING",
      kind: "events",
      decode: jsonObjectDecoder((body, context) => {
        if (body.MaxPowerReached === undefined) return emptyDecoded();
        const detail = `MaxPowerReached ${String(body.MaxPowerReached)}`.slice(0, 100);
        return { ...emptyDecoded(), events: [{ device: context.device, ...eventTime(body, context), type: "trip", reason: "overload", detail }] };
      }),
    },
    { template: "stat/{source}/POWER", kind: "relay", decode: relayWord({ on: ON, off: OFF, explicit: true }) },
    { template: "stat/{source}/RESULT", kind: "relay", decode: jsonRelay({ state: POWER, explicit: true }) },
    { template: "tele/{source}/STATE", kind: "relay", decode: jsonRelay({ state: POWER, explicit: false, time: localTime("Time"), maxSkewMs: LIVE_SKEW_TOLERANCE_MS }) },
  ],
};
