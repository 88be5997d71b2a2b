// The device formats the ingest understands. Adding one is adding a data file here.
import type { DeviceFormat } from "../campus.js";
import { native } from "./native.js";
import { shellyGen1 } from "./shelly-gen1.js";
import { shellyGen2 } from "./shelly-gen2.js";
import { tasmota } from "./tasmota.js";
import type { FormatDefinition } from "./types.js";
import { zigbee2mqtt } from "./zigbee2mqtt.js";

export const FORMATS: Partial<Record<DeviceFormat, FormatDefinition>> = {
  native,
  tasmota,
  "shelly-gen1": shellyGen1,
  "shelly-gen2": shellyGen2,
  zigbee2mqtt,
};

export * from "./types.js";
export { localTimeToEpochMs, zoneOffsetMs } from "../time-zone.js";
export { jsonTelemetry, localTime, numeric, onOff, statusWords, valueAt } from "./mappers.js";
