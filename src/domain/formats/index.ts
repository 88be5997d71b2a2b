// The device formats the ingest understands. Adding one (Shelly, Zigbee2MQTT) is adding a data file here.
import type { DeviceFormat } from "../campus.js";
import { native } from "./native.js";
import { tasmota } from "./tasmota.js";
import type { FormatDefinition } from "./types.js";

export const FORMATS: Partial<Record<DeviceFormat, FormatDefinition>> = { native, tasmota };

export * from "./types.js";
export { localTimeToEpochMs, zoneOffsetMs } from "../time-zone.js";
export { jsonTelemetry, localTime, numeric, onOff, statusWords, valueAt } from "./mappers.js";
