// One simulated device on the wire, whatever its format (CONTRACT §3, reference/anchors.md §2): the
// messages of one report, its availability message (retained) and its last will. Pure.
import type { Device } from "../domain/campus.js";
import { deviceTopic } from "../domain/topics.js";
import { type OutMessage, shellyGen1Messages, shellyGen2Notify, shellyGen2Status, zigbee2mqttMessage } from "./foreign-payloads.js";
import { localTime } from "./local-time.js";
import type { CampusModel } from "./model.js";
import { nativeReading, tasmotaSensor, tasmotaState } from "./payloads.js";

export type { OutMessage };

export const sourceOf = (device: Device) => device.source ?? device.id;

/**
 * The messages a device sends at one report, at the model's current time. `skewMs` is the error of
 * the device's clock (clock-skew scenario); `first` marks the first report after (re)connecting, when a
 * Shelly Gen2 also publishes its full status.
 */
export function reportMessages(model: CampusModel, device: Device, skewMs = 0, first = false): OutMessage[] {
  const source = sourceOf(device);
  switch (device.format) {
    case "native": {
      const reading = nativeReading(model, device.id);
      if (skewMs !== 0) reading.ts = new Date(model.nowMs + skewMs).toISOString();
      return [{ topic: deviceTopic.telemetry(device.id), payload: JSON.stringify(reading) }];
    }
    case "tasmota": {
      // Each TelePeriod Tasmota sends STATE (with the relay's POWER) and then SENSOR.
      const state = tasmotaState(model, device.id);
      const sensor = tasmotaSensor(model, device.id);
      if (skewMs !== 0) state.Time = sensor.Time = localTime(model.nowMs + skewMs, model.timezone).iso;
      return [
        { topic: `tele/${source}/STATE`, payload: JSON.stringify(state) },
        { topic: `tele/${source}/SENSOR`, payload: JSON.stringify(sensor) },
      ];
    }
    case "shelly-gen1":
      return shellyGen1Messages(model, device.id, source);
    case "shelly-gen2":
      return first
        ? [shellyGen2Status(model, device.id, source), shellyGen2Notify(model, device.id, source, skewMs)]
        : [shellyGen2Notify(model, device.id, source, skewMs)];
    case "zigbee2mqtt":
      return [zigbee2mqttMessage(model, device.id, source, skewMs)];
  }
}

/** The retained availability message of a device: what it says on connecting, and its last will. */
export function availabilityMessage(device: Device, online: boolean): OutMessage {
  const source = sourceOf(device);
  switch (device.format) {
    case "native":
      return { topic: deviceTopic.status(device.id), payload: online ? "online" : "offline", retain: true };
    case "tasmota":
      return { topic: `tele/${source}/LWT`, payload: online ? "Online" : "Offline", retain: true };
    case "shelly-gen1":
      return { topic: `shellies/${source}/online`, payload: online ? "true" : "false", retain: true };
    case "shelly-gen2":
      return { topic: `${source}/online`, payload: online ? "true" : "false", retain: true };
    case "zigbee2mqtt":
      // Zigbee2MQTT ≥ 1.30 writes availability as JSON (the legacy plain `online` is opt-in).
      return { topic: `zigbee2mqtt/${source}/availability`, payload: JSON.stringify({ state: online ? "online" : "offline" }), retain: true };
  }
}
