// Schedules (定时通断电, CONTRACT §10): at a local time on chosen weekdays, switch a set of circuits off or on,
// in the site's time zone. The schema, the checks a schema cannot make, and which devices a schedule reaches.
// Two rounds of checks: references (unknown device, building or room, a bad time, devices and buildings
// both or neither) on whatever parts of the file are well typed, like the rest of the file; then, on a
// valid campus, safety: a schedule may reach no protected device (the device or anything it feeds:
// `switchRefusal`, the same check the command executor makes), and an explicit `devices` list may name no
// device without a relay (one chosen by building and kind is simply left out).
import { type Static, Type as T } from "@sinclair/typebox";
import { COMMAND_ACTIONS, type ElectricalTree, hasRelay, switchRefusal } from "../command.js";
import { WEEKDAY_NAMES } from "../campus-alerts.js";
import type { Problem } from "../errors.js";
import type { JsonObject } from "../json-object.js";
import { literalUnion } from "../schema.js";
import { type Device, ID_PATTERN } from "./device-schema.js";

/** The device kinds a schedule switches (CONTRACT §10): meters and detectors have no relay. */
export const SCHEDULE_KINDS = ["breaker", "socket"] as const;

/** "HH:MM", 00:00–23:59, site time. */
const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

export const ScheduleSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
    action: literalUnion(COMMAND_ACTIONS),
    at: T.String({ description: '"HH:MM", site time (24-hour clock)' }),
    days: T.Array(literalUnion(WEEKDAY_NAMES), { minItems: 1 }),
    /** Exactly one of `devices` (these devices) and `buildings` (their breakers and sockets of `kinds`). */
    devices: T.Optional(T.Array(T.String(), { minItems: 1 })),
    buildings: T.Optional(T.Array(T.String(), { minItems: 1 })),
    /** Required with `buildings`; with `devices`, each listed device must be of one of them. */
    kinds: T.Optional(T.Array(literalUnion(SCHEDULE_KINDS), { minItems: 1 })),
    /** Only devices in these rooms. */
    rooms: T.Optional(T.Array(T.String(), { minItems: 1 })),
    /** Only on the site's school days (CONTRACT §11: its calendar's, else Monday to Friday); a make-up workday runs Monday's. */
    school_days_only: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);
export type Schedule = Static<typeof ScheduleSchema>;

/** Minutes since local midnight of a schedule's `at`; null when it is not "HH:MM". */
export function minuteOfDay(at: string): number | null {
  const match = LOCAL_TIME.exec(at);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const strings = (value: unknown): string[] => list(value).filter((v): v is string => typeof v === "string");

/** Round one: the references and shape of every schedule, on the file as far as it can be read. */
export function checkScheduleReferences(schedules: readonly JsonObject[], devices: readonly JsonObject[], buildingIds: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const byId = new Map(devices.filter((d) => typeof d.id === "string").map((d) => [d.id as string, d]));
  const ids = new Set<string>();
  schedules.forEach((schedule, i) => {
    const at = `schedules[${i}]`;
    const add = (path: string, message: string) => problems.push({ path: `${at}${path}`, message });
    if (typeof schedule.id === "string") {
      if (ids.has(schedule.id)) add(".id", `duplicate schedule id "${schedule.id}"`);
      ids.add(schedule.id);
    }
    if (typeof schedule.at === "string" && minuteOfDay(schedule.at) === null) add(".at", `must be a local time "HH:MM" from 00:00 to 23:59 (got "${schedule.at}")`);
    const hasDevices = schedule.devices !== undefined;
    const hasBuildings = schedule.buildings !== undefined;
    if (hasDevices === hasBuildings) add("", hasDevices ? "give either devices or buildings, not both" : "needs devices (a list of device ids) or buildings (with kinds)");
    if (hasBuildings && schedule.kinds === undefined) add(".kinds", "a schedule by buildings needs the kinds it switches (breaker, socket)");
    const kinds = strings(schedule.kinds);
    const rooms = strings(schedule.rooms);
    const chosen: JsonObject[] = [];
    strings(schedule.devices).forEach((id, j) => {
      const device = byId.get(id);
      if (device === undefined) return add(`.devices[${j}]`, `unknown device "${id}"`);
      chosen.push(device);
      if (schedule.kinds !== undefined && !kinds.includes(String(device.kind))) add(`.devices[${j}]`, `${id} is a ${String(device.kind)}, not one of kinds (${kinds.join(", ")})`);
      if (schedule.rooms !== undefined && !rooms.includes(String(device.room))) add(`.devices[${j}]`, `${id} is not in one of rooms (${rooms.join(", ")})`);
    });
    strings(schedule.buildings).forEach((id, j) => {
      if (!buildingIds.has(id)) return add(`.buildings[${j}]`, `unknown building "${id}"`);
      chosen.push(...devices.filter((d) => d.building === id));
    });
    rooms.forEach((room, j) => {
      if (!chosen.some((d) => d.room === room)) add(`.rooms[${j}]`, `unknown room "${room}": no device of this schedule's ${hasDevices ? "devices" : "buildings"} is in it`);
    });
  });
  return problems;
}

/**
 * The devices a schedule switches, in the file's order: its `devices`, or the devices of its `buildings`
 * whose kind is one of `kinds` and that have a relay; in `rooms` when given. The campus is validated.
 */
export function scheduleTargets(tree: ElectricalTree, schedule: Schedule): Device[] {
  if (schedule.devices !== undefined) return schedule.devices.map((id) => tree.deviceById.get(id)!);
  const buildings = new Set(schedule.buildings ?? []);
  const kinds: readonly string[] = schedule.kinds ?? SCHEDULE_KINDS;
  return tree.devices.filter(
    (d) => buildings.has(d.building) && kinds.includes(d.kind) && hasRelay(d) && (schedule.rooms === undefined || (d.room !== null && schedule.rooms.includes(d.room))),
  );
}

/** Round two, on a valid campus: what each schedule would switch must be switchable, and nothing it darkens protected. */
export function checkScheduleSafety(tree: ElectricalTree, schedules: readonly Schedule[]): Problem[] {
  const problems: Problem[] = [];
  schedules.forEach((schedule, i) => {
    const targets = scheduleTargets(tree, schedule);
    const named = `schedule "${schedule.id}" (${schedule.name})`;
    if (targets.length === 0) problems.push({ path: `schedules[${i}]`, message: `${named} reaches no device with a relay` });
    targets.forEach((device) => {
      const refused = switchRefusal(tree, device.id);
      if (refused === null) return;
      const j = schedule.devices?.indexOf(device.id) ?? -1;
      const path = j >= 0 ? `schedules[${i}].devices[${j}]` : `schedules[${i}]`;
      // A device without a relay is an error only when listed by name (by building it is left out above).
      const narrow = j >= 0 ? "" : "; narrow it with rooms, or list its devices";
      problems.push({ path, message: `${named} would switch ${device.id}: ${refused.message}${narrow}` });
    });
  });
  return problems;
}
