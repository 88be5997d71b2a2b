// Decoded messages → InfluxDB points, exactly the schema of CONTRACT §4 (ms precision), each tagged with
// the device's `site` (CONTRACT §9: every point carries it, so energy and history work per school). Pure.
import type { Device } from "../domain/campus.js";
import type { Point } from "../domain/line-protocol.js";
import { type DeviceEvent, MEASUREMENT_FIELDS, PHASES, PHASE_FIELDS, type Reading, type StatusChange } from "../domain/reading.js";

export const MEASUREMENTS = { electrical: "electrical", status: "device_status", event: "device_event" } as const;

/** `site`, `device`, `kind`, `building` and, when the device has one, `room`; tag cardinality stays per device. */
function electricalTags(device: Device): Record<string, string> {
  const tags: Record<string, string> = { site: device.site, device: device.id, kind: device.kind, building: device.building };
  if (device.room !== null && device.room !== "") tags.room = device.room;
  return tags;
}

/** One point for the totals (if any) and one per phase tagged `phase`, carrying that phase's fields. */
export function readingToPoints(reading: Reading, device: Device): Point[] {
  const points: Point[] = [];
  const tags = electricalTags(device);
  const fields: Point["fields"] = {};
  for (const field of MEASUREMENT_FIELDS) {
    const value = reading.values[field];
    if (value !== undefined) fields[field] = value;
  }
  if (reading.values.switch_on !== undefined) fields.switch_on = reading.values.switch_on;
  if (Object.keys(fields).length > 0) points.push({ measurement: MEASUREMENTS.electrical, tags, fields, ts: reading.ts });
  for (const phase of PHASES) {
    const values = reading.phases?.[phase];
    if (!values) continue;
    const phaseFields: Point["fields"] = {};
    for (const field of PHASE_FIELDS) {
      if (values[field] !== undefined) phaseFields[field] = values[field];
    }
    if (Object.keys(phaseFields).length > 0) {
      points.push({ measurement: MEASUREMENTS.electrical, tags: { ...tags, phase }, fields: phaseFields, ts: reading.ts });
    }
  }
  return points;
}

export function statusToPoint(status: StatusChange, device: Device): Point {
  return { measurement: MEASUREMENTS.status, tags: { site: device.site, device: device.id, building: device.building }, fields: { online: status.online }, ts: status.ts };
}

/**
 * `reason` is always written (empty when the device gave none): InfluxDB refuses a point without
 * fields, and an event with only a `type` is still an event worth keeping.
 */
export function eventToPoint(event: DeviceEvent, device: Device): Point {
  const fields: Point["fields"] = { reason: event.reason ?? "" };
  if (event.detail !== undefined) fields.detail = event.detail;
  return { measurement: MEASUREMENTS.event, tags: { site: device.site, device: device.id, building: device.building, type: event.type }, fields, ts: event.ts };
}
