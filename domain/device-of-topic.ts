// Which campus device an MQTT device topic belongs to (CONTRACT §3), for keeping all of one device's messages
// together (the partitioned device stream, infra/device-stream.ts): native topics `campus/devices/{id}/…`
// name the device; a foreign format's topics name its `source` (`tele/{source}/SENSOR`, `shellies/{source}/…`,
// `{source}/status/switch:0`, `zigbee2mqtt/{source}`), which only the campus file maps to a device, through
// the same topic templates the ingest's router subscribes to (domain/formats). Pure.
import type { Campus } from "./campus.js";
import { FORMATS, topicFor } from "./formats/index.js";
import { parseDeviceTopic } from "./topics.js";

/** topic → device id, or null for a topic no campus device speaks (the ingest refuses it: any partition will do). */
export type DeviceOfTopic = (topic: string) => string | null;

/** Built once per campus: the foreign topics of every device with a `format` + `source`, then the native shape. */
export function deviceOfTopicIn(campus: Pick<Campus, "devices">): DeviceOfTopic {
  const foreign = new Map<string, string>();
  for (const device of campus.devices) {
    if (device.format === "native" || device.source === undefined) continue;
    for (const rule of FORMATS[device.format]?.topics ?? []) foreign.set(topicFor(rule, device), device.id);
  }
  return (topic) => foreign.get(topic) ?? parseDeviceTopic(topic)?.device ?? null;
}
