// Schedules in the campus file (CONTRACT §10): their shape and references listed with every other problem,
// then, on a sound tree, every device a schedule would switch must be switchable and darken nothing protected.
import { describe, expect, it } from "vitest";
import { type Campus, parseCampusText } from "../../../domain/campus.js";
import { scheduleTargets } from "../../../domain/campus/schedules.js";

const CAMPUS = `
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings:
  - { id: dorm-1, name: Dormitory 1, kind: dormitory }
  - { id: lab-1, name: Lab 1, kind: lab }
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, rating_a: 63 }
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", parent: brk-main, rating_a: 16 }
  - { id: plug-101, kind: socket, building: dorm-1, room: "101", parent: brk-101, rating_a: 10 }
  - { id: brk-102, kind: breaker, building: dorm-1, room: "102", parent: brk-main, rating_a: 16 }
  - { id: meter-102, kind: meter, building: dorm-1, room: "102", parent: brk-102 }
  - { id: brk-fixed, kind: breaker, building: dorm-1, room: "103", parent: brk-main, rating_a: 16, switchable: false }
  - { id: brk-emergency, kind: breaker, building: dorm-1, room: stairs, parent: brk-main, rating_a: 10, protected: true }
  - { id: brk-lab, kind: breaker, building: lab-1, rating_a: 32 }
  - { id: plug-fridge, kind: socket, building: lab-1, room: prep, parent: brk-lab, rating_a: 10, protected: true }
schedules:
`;

const parse = (schedules: string) => parseCampusText(CAMPUS + schedules);
const problemsOf = (schedules: string) => {
  const result = parse(schedules);
  return result.ok ? [] : result.problems;
};
function campusWith(schedules: string): Campus {
  const result = parse(schedules);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.campus;
}

const ROOMS = `{ id: lights-out, name: Lights out, action: switch_off, at: "23:00", days: [mon, tue, wed, thu, fri], buildings: [dorm-1], kinds: [breaker, socket], rooms: ["101", "102", "103"] }`;

describe("schedules in the campus file", () => {
  it("accepts a schedule by building, kinds and rooms, and freezes it", () => {
    const campus = campusWith(`  - ${ROOMS}\n`);
    expect(campus.schedules).toHaveLength(1);
    expect(campus.schedules[0]).toMatchObject({ id: "lights-out", action: "switch_off", at: "23:00" });
    expect(Object.isFrozen(campus.schedules[0])).toBe(true);
  });

  it("reaches the breakers and sockets of its rooms, leaving out a breaker without a relay and the meter", () => {
    const campus = campusWith(`  - ${ROOMS}\n`);
    expect(scheduleTargets(campus, campus.schedules[0]!).map((d) => d.id)).toEqual(["brk-101", "plug-101", "brk-102"]);
  });

  it("reaches exactly the devices it lists", () => {
    const campus = campusWith(`  - { id: two, name: Two rooms, action: switch_on, at: "06:00", days: [sat], devices: [brk-102, plug-101] }\n`);
    expect(scheduleTargets(campus, campus.schedules[0]!).map((d) => d.id)).toEqual(["brk-102", "plug-101"]);
  });

  it("is a campus without schedules when the section is absent", () => {
    const result = parseCampusText(CAMPUS.replace("schedules:\n", ""));
    expect(result.ok && result.campus.schedules).toEqual([]);
  });

  it("lists every problem of shape and reference with its path, beside the file's other problems", () => {
    const problems = problemsOf(`  - { id: a, name: A, action: switch_of, at: "24:00", days: [monday], devices: [ghost, meter-102], buildings: [nowhere], rooms: ["999"] }
  - { id: a, name: B, action: switch_on, at: "6:00", days: [sun] }
  - { id: c, name: C, action: switch_on, at: "06:00", days: [sun], buildings: [dorm-1] }
  - { id: d, name: D, action: switch_on, at: "06:00", days: [sun], devices: [plug-101], kinds: [breaker] }
`);
    expect(problems).toEqual([
      { path: "schedules[0].action", message: 'must be one of "switch_off", "switch_on" (got "switch_of")' },
      { path: "schedules[0].days[0]", message: 'must be one of "sun", "mon", "tue", "wed", "thu", "fri", "sat" (got "monday")' },
      { path: "schedules[0].at", message: 'must be a local time "HH:MM" from 00:00 to 23:59 (got "24:00")' },
      { path: "schedules[0]", message: "give either devices or buildings, not both" },
      { path: "schedules[0].kinds", message: "a schedule by buildings needs the kinds it switches (breaker, socket)" },
      { path: "schedules[0].devices[0]", message: 'unknown device "ghost"' },
      { path: "schedules[0].devices[1]", message: "meter-102 is not in one of rooms (999)" },
      { path: "schedules[0].buildings[0]", message: 'unknown building "nowhere"' },
      { path: "schedules[0].rooms[0]", message: 'unknown room "999": no device of this schedule\'s devices is in it' },
      { path: "schedules[1].id", message: 'duplicate schedule id "a"' },
      { path: "schedules[1].at", message: 'must be a local time "HH:MM" from 00:00 to 23:59 (got "6:00")' },
      { path: "schedules[1]", message: "needs devices (a list of device ids) or buildings (with kinds)" },
      { path: "schedules[2].kinds", message: "a schedule by buildings needs the kinds it switches (breaker, socket)" },
      { path: "schedules[3].devices[0]", message: "plug-101 is a socket, not one of kinds (breaker)" },
    ]);
  });

  it("refuses a schedule whose buildings reach a protected device or a breaker feeding one, naming the schedule and the device", () => {
    const problems = problemsOf(`  - { id: all-off, name: Everything off, action: switch_off, at: "23:00", days: [sun], buildings: [dorm-1, lab-1], kinds: [breaker, socket] }\n`);
    const named = 'schedule "all-off" (Everything off) would switch';
    const narrow = "; narrow it with rooms, or list its devices";
    expect(problems).toEqual([
      { path: "schedules[0]", message: `${named} brk-main: brk-main feeds protected brk-emergency: it must stay on and cannot be switched remotely${narrow}` },
      { path: "schedules[0]", message: `${named} brk-emergency: brk-emergency is protected: it must stay on and cannot be switched remotely${narrow}` },
      { path: "schedules[0]", message: `${named} brk-lab: brk-lab feeds protected plug-fridge: it must stay on and cannot be switched remotely${narrow}` },
      { path: "schedules[0]", message: `${named} plug-fridge: plug-fridge is protected: it must stay on and cannot be switched remotely${narrow}` },
    ]);
  });

  it("refuses a listed device that is protected, feeds a protected one, or has no relay, at its place in the list", () => {
    const problems = problemsOf(`  - { id: listed, name: Listed, action: switch_on, at: "06:00", days: [mon], devices: [brk-101, brk-lab, meter-102, brk-fixed] }\n`);
    expect(problems).toEqual([
      { path: "schedules[0].devices[1]", message: 'schedule "listed" (Listed) would switch brk-lab: brk-lab feeds protected plug-fridge: it must stay on and cannot be switched remotely' },
      { path: "schedules[0].devices[2]", message: 'schedule "listed" (Listed) would switch meter-102: meter-102 is a meter: it has no relay to switch' },
      { path: "schedules[0].devices[3]", message: 'schedule "listed" (Listed) would switch brk-fixed: brk-fixed is a breaker marked switchable: false: it has no relay to switch' },
    ]);
  });

  it("refuses a schedule that reaches no device with a relay", () => {
    const problems = problemsOf(`  - { id: empty, name: Empty, action: switch_off, at: "23:00", days: [mon], buildings: [dorm-1], kinds: [socket], rooms: ["102"] }\n`);
    expect(problems).toEqual([{ path: "schedules[0]", message: 'schedule "empty" (Empty) reaches no device with a relay' }]);
  });
});
