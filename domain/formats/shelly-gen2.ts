// Shelly Gen2/Gen3/Gen4 (Plus/Pro/Mini PM), as data. Sources: shelly-api-docs.shelly.cloud/gen2
// ComponentsAndServices/Mqtt, …/Switch, General/Notifications; shared/reference/anchors.md §2.
//   <prefix>/status/switch:0   the full Switch status (needs "Generic status update over MQTT")
//   <prefix>/events/rpc        {"method":"NotifyStatus","params":{"ts":<unix s>,"switch:0":{<changed keys>}}}
//                              a PARTIAL diff: overlaid on the last known status (per device, in memory)
//   <prefix>/online            true | false (last will)
//   campus-power/<device id>/rpc  the answer to our RPC request (Switch.Set, CONTRACT §10): Shelly replies on
//                              the request's `src` + "/rpc", {"id":N,"src":…,"dst":…,"result":{"was_on":true}} or
//                              {"id":N,…,"error":{"code":-103,"message":"…"}} → an explicit relay report
// Switch status units: apower W, voltage V, current A, pf (−1…1), freq Hz, aenergy.total Wh (→ kWh),
// temperature.tC °C, output boolean, errors ∈ overtemp | overpower | overvoltage | undervoltage, each of
// which switches the output off: a trip, reported when it appears. `output` is the relay: a periodic relay report.
import { ErrorCodes } from "../errors.js";
import { isJsonObject, type JsonObject } from "../json-object.js";
import { shellyRpcReplyTopic } from "./commands.js";
import { jsonObjectDecoder, mapFields, numeric, onOff, statusWords } from "./mappers.js";
import { type DecodeContext, type Decoded, type FormatDefinition, ID_PLACEHOLDER, emptyDecoded, refused } from "./types.js";
import { LIVE_SKEW_TOLERANCE_MS, type ProtectionMapping, codesOf, protectionEvents, readingOf } from "./vendor.js";

/** Kept per device: the last full Switch status, which a partial NotifyStatus is overlaid on. */
type SwitchStatus = JsonObject;

const FIELDS = [
  numeric({ field: "power_w", path: "apower" }),
  numeric({ field: "voltage_v", path: "voltage" }),
  numeric({ field: "current_a", path: "current" }),
  numeric({ field: "power_factor", path: "pf" }),
  numeric({ field: "frequency_hz", path: "freq" }),
  numeric({ field: "energy_kwh", path: "aenergy.total", scale: 1 / 1000 }),
  numeric({ field: "temperature_c", path: "temperature.tC" }),
  onOff({ field: "switch_on", path: "output" }),
];

const PROTECTIONS: ProtectionMapping = {
  overpower: { type: "trip", reason: "overload" },
  overtemp: { type: "trip", reason: "overtemp" },
  overvoltage: { type: "trip", reason: "overvoltage" },
  undervoltage: { type: "trip", reason: "undervoltage" },
};

/** Deep overlay of a partial status on the last known one (nested objects such as aenergy merge). */
export function overlay(base: JsonObject, diff: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(diff)) {
    const under = base[key];
    out[key] = isJsonObject(value) && isJsonObject(under) ? overlay(under, value) : value;
  }
  return out;
}

function decodeStatus(status: SwitchStatus, ts: number | undefined, context: DecodeContext<SwitchStatus>): Decoded<SwitchStatus> {
  const mapped = mapFields(status, FIELDS);
  if (!mapped.ok) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: mapped.reason });
  const values = ts === undefined ? mapped.values : { ...mapped.values, ts };
  const hasMeasurement = Object.keys(mapped.values).length > 0;
  const decoded: Decoded<SwitchStatus> = hasMeasurement ? readingOf(values, { ...context, maxSkewMs: LIVE_SKEW_TOLERANCE_MS }) : emptyDecoded();
  const eventTs = decoded.readings[0]?.ts ?? context.receivedAt;
  decoded.events.push(...protectionEvents(context.device, eventTs, codesOf(status.errors), codesOf(context.previous?.errors), PROTECTIONS));
  decoded.state = status;
  return decoded;
}

/**
 * A reply to our RPC request (Shelly Gen2 API, "RPC over MQTT": JSON-RPC 2.0 framing without "jsonrpc"):
 * an integer `id` (the request's), and exactly one of `result` (carried out; `was_on` is the state before,
 * so the state now is what was asked) or `error` `{code, message}` (refused). It names the request, not the
 * relay's state (`on: null`). Anything else is refused: an answer nobody can match is worth nothing.
 */
function rpcReply(reply: JsonObject, context: DecodeContext<SwitchStatus>): Decoded<SwitchStatus> {
  const { id, result, error } = reply;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: "an RPC reply needs the integer id of its request" });
  const answer = { device: context.device, ts: context.receivedAt, on: null, explicit: true, rpc_id: id };
  if (isJsonObject(result) && error === undefined) return { ...emptyDecoded(), relays: [answer] };
  if (isJsonObject(error) && result === undefined) {
    const why = typeof error.message === "string" && error.message.trim() !== "" ? error.message.trim() : `error ${String(error.code ?? "without a message")}`;
    return { ...emptyDecoded(), relays: [{ ...answer, error: why.slice(0, 500) }] };
  }
  return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: "an RPC reply needs either a result or an error object" });
}

export const shellyGen2: FormatDefinition<SwitchStatus> = {
  name: "shelly-gen2",
  isState: isJsonObject,
  topics: [
    {
      template: "{source}/status/switch:0",
      kind: "telemetry",
      decode: jsonObjectDecoder((status, context) => decodeStatus(status, undefined, context), "a switch status must be a JSON object"),
    },
    {
      template: "{source}/events/rpc",
      kind: "telemetry",
      decode: jsonObjectDecoder((message, context) => {
        if (typeof message.method !== "string") return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: "an RPC notification needs a method" });
        // NotifyEvent (button presses, scripts) and other methods carry no measurement: nothing to store.
        if (message.method !== "NotifyStatus" && message.method !== "NotifyFullStatus") return { ...emptyDecoded(), state: context.previous };
        const params = isJsonObject(message.params) ? message.params : {};
        const diff = params["switch:0"];
        if (!isJsonObject(diff)) return { ...emptyDecoded(), state: context.previous };
        const base = message.method === "NotifyStatus" ? (context.previous ?? {}) : {};
        const ts = typeof params.ts === "number" ? Math.round(params.ts * 1000) : undefined;
        return decodeStatus(overlay(base, diff), ts, context);
      }, "an RPC notification needs a method"),
    },
    { template: "{source}/online", kind: "status", decode: statusWords({ online: ["true"], offline: ["false"] }) },
    { template: shellyRpcReplyTopic(ID_PLACEHOLDER), kind: "relay", decode: jsonObjectDecoder(rpcReply, "an RPC reply must be a JSON object") },
  ],
};
