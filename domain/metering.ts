// Which devices' counters make up a group's energy (building, room or device), from the electrical
// tree. Shared by the API (energy queries) and the InfluxDB rollups the ingest maintains.
import type { Campus, Device } from "./campus.js";

export const ENERGY_GROUPS = ["building", "room", "device"] as const;
export type EnergyGroup = (typeof ENERGY_GROUPS)[number];
export const ENERGY_EVERY = ["1h", "1d", "1w", "1mo"] as const;
export type EnergyEvery = (typeof ENERGY_EVERY)[number];

/** The group a device's energy counts for, or null when it has none at this level (a device without a room). */
export function groupKey(device: Device, by: EnergyGroup): string | null {
  if (by === "device") return device.id;
  if (by === "building") return device.building;
  return device.room ? `${device.building}/${device.room}` : null;
}

/**
 * The devices whose counters make up each group: the group's roots, i.e. devices whose parent is
 * outside the group. A breaker's counter already includes its sockets', so counting both would
 * double the energy. (A root without an energy counter leaves its children uncounted: give the
 * campus file's top-level devices a meter.)
 */
export function meteringDevices(campus: Campus, by: EnergyGroup): Device[] {
  if (by === "device") return [...campus.devices];
  return campus.devices.filter((d) => {
    const key = groupKey(d, by);
    if (key === null) return false;
    const parent = d.parent === null ? undefined : campus.deviceById.get(d.parent);
    return parent === undefined || groupKey(parent, by) !== key;
  });
}
