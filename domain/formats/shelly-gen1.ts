// Shelly Gen1 (Plug S, 1PM, 2.5 …), as data. Source: shelly-api-docs.shelly.cloud/gen1 (MQTT);
// shared/reference/anchors.md §2. One value per topic, plain text, no timestamp (receive time):
//   shellies/<id>/relay/0/power     W, float
//   shellies/<id>/relay/0/energy    watt-minutes, a counter (÷ 60,000 → kWh); it restarts at 0 on reboot,
//                                   which the ingest's energy rules treat as a new counter cycle
//   shellies/<id>/relay/0           on | off | overpower (the relay's own overload protection tripped), on change
//                                   and every 30 s → switch_on, and a periodic relay report (CONTRACT §10;
//                                   Gen1 has no answer to a command)
//   shellies/<id>/temperature       °C, the device's internal temperature
//   shellies/<id>/overtemperature   1 while the device protects itself from overheating
//   shellies/<id>/online            true | false (last will)
import { ErrorCodes } from "../errors.js";
import { statusWords } from "./mappers.js";
import { type FormatDefinition, emptyDecoded, refused } from "./types.js";
import { readingOf, textNumber } from "./vendor.js";

const WATT_MINUTES_TO_KWH = 1 / 60_000;

const RELAY_STATES = ["on", "off", "overpower"] as const;
/** Kept per device: the relay's last state, so an overpower trip is reported once per episode. */
type RelayState = (typeof RELAY_STATES)[number];
const isRelayState = (value: unknown): value is RelayState => RELAY_STATES.includes(value as RelayState);

export const shellyGen1: FormatDefinition<RelayState> = {
  name: "shelly-gen1",
  isState: isRelayState,
  topics: [
    { template: "shellies/{source}/relay/0/power", kind: "telemetry", decode: textNumber("power_w") },
    { template: "shellies/{source}/relay/0/energy", kind: "telemetry", decode: textNumber("energy_kwh", WATT_MINUTES_TO_KWH) },
    { template: "shellies/{source}/temperature", kind: "telemetry", decode: textNumber("temperature_c") },
    {
      template: "shellies/{source}/relay/0",
      kind: "telemetry",
      decode: (payload, context) => {
        const state = payload.toString("utf8").trim();
        if (!isRelayState(state)) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: "relay state must be on, off or overpower" });
        const decoded = readingOf<RelayState>({ switch_on: state === "on" }, context);
        // The relay switched itself off on overpower: a trip, reported once per episode.
        if (state === "overpower" && context.previous !== "overpower") {
          decoded.events.push({ device: context.device, ts: context.receivedAt, type: "trip", reason: "overload", detail: "overpower" });
        }
        return { ...decoded, state };
      },
    },
    {
      template: "shellies/{source}/overtemperature",
      kind: "events",
      decode: (payload, context) => {
        const text = payload.toString("utf8").trim();
        if (text !== "0" && text !== "1") return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: "overtemperature must be 0 or 1" });
        if (text === "0") return emptyDecoded();
        return { ...emptyDecoded(), events: [{ device: context.device, ts: context.receivedAt, type: "fault", reason: "overtemp", detail: "overtemperature" }] };
      },
    },
    { template: "shellies/{source}/online", kind: "status", decode: statusWords({ online: ["true"], offline: ["false"] }) },
  ],
};
