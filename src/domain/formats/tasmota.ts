// Tasmota energy-monitoring plugs (Sonoff POW/S31 and kin), as data. Source: tasmota/docs MQTT.md and
// the energy monitoring page; shared/reference/anchors.md §2.
//   tele/<topic>/SENSOR  {"Time":"2023-05-19T20:52:56","ENERGY":{"Total":514.153,"Power":56,"Factor":0.61,
//                          "Voltage":234,"Current":0.392,...}}  every TelePeriod (default 300 s)
//   tele/<topic>/LWT     Online | Offline (retained last will)
// Units: Voltage V, Current A, Power W, Factor cos φ (0–1), Total kWh (cumulative), Frequency Hz.
// `Time` is the device's local time WITHOUT zone: it is read in the site's zone (campus site.timezone).
// Multi-channel devices send arrays (`"Power":[52,5]`, `"Total":[2.813,0.254]`, Voltage scalar); one
// campus device is one metered point, so additive quantities are summed (the device's total) and the
// others take channel 0. A device whose channels feed different circuits should be split once per-channel
// devices exist in the campus file.
import { jsonTelemetry, localTime, numeric, statusWords } from "./mappers.js";
import type { FormatDefinition } from "./types.js";

export const tasmota: FormatDefinition = {
  name: "tasmota",
  topics: [
    {
      template: "tele/{source}/SENSOR",
      kind: "telemetry",
      decode: jsonTelemetry({
        time: localTime("Time"),
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
  ],
};
