// Topic → (device, its site's time zone, format, kind, decoder), built once from the campus (or district)
// file. Pure.
// Native topics are read through wildcards (any device may try them; unknown ids are refused), foreign
// topics through one exact subscription per device, from its `format` + `source` (CONTRACT §3).
import type { Campus, Device } from "../domain/campus.js";
import { ErrorCodes, type Refusal } from "../domain/errors.js";
import { FORMATS, type FormatDefinition, type MessageDecoder, type MessageKind, topicFor } from "../domain/formats/index.js";
import { parseDeviceTopic } from "../domain/topics.js";

export interface Route {
  device: Device;
  /**
   * The IANA zone of the device's own site (CONTRACT §9: in a district each school has its own), in
   * which a device time without zone is read (Tasmota's `Time`, DESIGN "Device timestamps").
   */
  timeZone: string;
  format: FormatDefinition["name"];
  kind: MessageKind;
  decode: MessageDecoder;
}

export type RouteResult = { ok: true; route: Route } | { ok: false; device: string | null; refusal: Refusal };

export interface Router {
  /** MQTT topic filters to subscribe to (QoS 1). */
  subscriptions: readonly string[];
  route(topic: string): RouteResult;
  /** Devices whose format has no decoder yet (their topics are not read). */
  unsupported: readonly Device[];
}

export const NATIVE_FILTERS = ["campus/devices/+/telemetry", "campus/devices/+/status", "campus/devices/+/events"] as const;

export function buildRouter(campus: Campus): Router {
  const routes = new Map<string, Route>();
  const subscriptions: string[] = [...NATIVE_FILTERS];
  const unsupported: Device[] = [];
  const nativeFormat = FORMATS.native!;
  for (const device of campus.devices) {
    const timeZone = campus.siteOfDevice.get(device.id)!.site.timezone;
    // Every campus device may speak the native protocol under its own id, whatever its format.
    for (const rule of nativeFormat.topics) {
      routes.set(topicFor(rule, { id: device.id }), { device, timeZone, format: "native", kind: rule.kind, decode: rule.decode });
    }
    if (device.format === "native" || device.source === undefined) continue;
    const format = FORMATS[device.format];
    if (!format) {
      unsupported.push(device);
      continue;
    }
    for (const rule of format.topics) {
      const topic = topicFor(rule, device);
      routes.set(topic, { device, timeZone, format: format.name, kind: rule.kind, decode: rule.decode });
      subscriptions.push(topic);
    }
  }
  return {
    subscriptions,
    unsupported,
    route(topic) {
      const route = routes.get(topic);
      if (route) return { ok: true, route };
      const native = parseDeviceTopic(topic);
      const device = native?.device ?? null;
      const reason = device === null ? `no campus device reads topic "${topic}"` : `device "${device}" is not in the campus file`;
      return { ok: false, device, refusal: { code: ErrorCodes.UNKNOWN_DEVICE, reason } };
    },
  };
}
