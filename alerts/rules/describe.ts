// Human wording shared by the rules: an on-call electrician must know where to go and what to look at
// (DESIGN.md "Who uses it": where, which breaker and its rating, value vs threshold).
import type { Building, Device } from "../../domain/campus.js";

/** "Dormitory 1, room 101" */
export function where(device: Device, building: Building): string {
  return device.room ? `${building.name}, room ${device.room}` : building.name;
}

/** "breaker brk-d1-101 (16 A, curve C)" */
export function which(device: Device): string {
  const details: string[] = [];
  if (device.rating_a !== undefined) details.push(`${format(device.rating_a)} A`);
  if (device.curve) details.push(`curve ${device.curve}`);
  if (device.phases === 3) details.push("3-phase");
  return `${device.kind} ${device.id}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
}

/** At most one decimal, no trailing zero: 16, 17.5. */
export function format(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** "60 s", "2 min", "1 h 30 min" */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.round(s / 60);
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
