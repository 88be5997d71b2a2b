// The electrical tree as the page knows it (each device's `parent`): which devices have a relay, what a
// switch darkens, and which switches a room has. The same rules as domain/command.ts (`hasRelay`,
// `downstreamOf`), which the page cannot import (plain modules, no build step); the alerts service
// decides every command with the domain's, so a difference here could only mislabel, never switch.

/** Breakers and sockets have a relay; meters and detectors do not (a breaker without a motorised relay is refused by the service: NOT_SWITCHABLE). */
export const hasRelay = (device) => device.kind === "breaker" || device.kind === "socket";

/** The device and every device downstream of it, device first, then breadth first (`devices`: a Map by id). */
export function downstreamOf(devices, id) {
  const children = new Map();
  for (const device of devices.values()) {
    if (!device.parent) continue;
    children.set(device.parent, [...(children.get(device.parent) || []), device]);
  }
  const root = devices.get(id);
  if (!root) return [];
  const out = [];
  const queue = [root];
  while (queue.length > 0) {
    const device = queue.shift();
    out.push(device);
    queue.push(...(children.get(device.id) || []).sort((a, b) => a.id.localeCompare(b.id)));
  }
  return out;
}

/** A room's own switches: its devices with a relay that are fed from outside the room (the room breaker, as a rule one). */
export function roomSwitches(devicesOfRoom) {
  const inRoom = new Set(devicesOfRoom.map((d) => d.id));
  return devicesOfRoom.filter((d) => hasRelay(d) && !(d.parent && inRoom.has(d.parent))).sort((a, b) => a.id.localeCompare(b.id));
}
