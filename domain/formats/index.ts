// The device formats the ingest understands. Adding one is adding a data file here.
import type { DeviceFormat } from "../campus.js";
import { native } from "./native.js";
import { shellyGen1 } from "./shelly-gen1.js";
import { shellyGen2 } from "./shelly-gen2.js";
import { tasmota } from "./tasmota.js";
import { type FormatDefinition, withUntypedState } from "./types.js";
import { zigbee2mqtt } from "./zigbee2mqtt.js";

/** Each format as the ingest holds it: its per-device state kept untyped, checked by the format on the way back. */
export const FORMATS: Partial<Record<DeviceFormat, FormatDefinition>> = {
  native: withUntypedState(native),
  tasmota: withUntypedState(tasmota),
  "shelly-gen1": withUntypedState(shellyGen1),
  "shelly-gen2": withUntypedState(shellyGen2),
  zigbee2mqtt: withUntypedState(zigbee2mqtt),
};

export * from "./types.js";
export { localTimeToEpochMs, zoneOffsetMs } from "../time-zone.js";
export { jsonObjectDecoder, jsonTelemetry, localTime, numeric, onOff, statusWords, valueAt } from "./mappers.js";
export { commandMessage, type CommandMessage, commandTopic, RPC_REPLY_PREFIX, shellyRpcReplyTopic } from "./commands.js";
export { jsonRelay, relayWord } from "./relay.js";
