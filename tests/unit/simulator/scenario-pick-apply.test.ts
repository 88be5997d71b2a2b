// A scenario's picks applied to a campus (simulator/scenario-pick-apply.ts): `$name`s become the ids picked,
// an entry naming several devices (or a schedule) becomes one per device, `only_if` keeps or skips an
// expectation; the bundled scenarios pick on their own campus the devices their files named before picks
// existed, and run on the demo campus and district, or say what a school lacks.
import { describe, expect, it } from "vitest";
import { CampusError } from "../../../domain/errors.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { listScenarios, loadScenario } from "../../../simulator/scenario-file.js";
import { applyPicks, formatPicks } from "../../../simulator/scenario-pick-apply.js";
import { checkScenarioDevices, parseScenarioText, type Scenario } from "../../../simulator/scenario.js";

const campus = loadCampus("scenarios/campus.yaml");
const scenario = (extra: string) => `name: t\ndescription: a test\nduration: 3m\n${extra}`;

function parsed(text: string): Scenario {
  const result = parseScenarioText(scenario(text));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.scenario;
}

/** Every device a scenario names, where, in the file's order: what a run connects, breaks, expects and switches. */
const named = (s: Scenario) => ({
  devices: s.devices,
  faults: s.faults.map((f) => `${f.type} ${f.device}`),
  expect: s.expect.map((e) => `${e.rule} ${e.device}`),
  commands: s.expectCommands.map((e) => `${e.action} ${e.device} by ${e.issuedBy}`),
  persons: s.personCommands.map((p) => `${p.action} ${p.device}${p.refused ? ` refused ${p.refused}` : ""}`),
  schedule: s.meetsSchedule?.schedule,
});

describe("a scenario's picks applied to a campus", () => {
  it("writes the ids picked where the file says $name: one entry per device of a pick of several, a schedule's devices", () => {
    const s = parsed(`pick:
  room: { kind: breaker, building_kind: dormitory, room: true }
  below: { below: $room, all: true }
  out: { schedule: { action: switch_off } }
devices: [$room, $below, brk-o1-101]
faults:
  - { type: overload, device: $below, at: 1m, factor: 1.2 }
expect:
  - { rule: overload, device: $below, opens_within: 2m }
expect_commands:
  - { device: $out, action: switch_off, issued_by: "schedule:$out", state: confirmed, sent_within: 2m }
person_commands:
  - { at: 1m, device: $room, action: switch_off, reason: test }
meets_schedule: { schedule: $out, at: 1m }
`);
    const applied = applyPicks(s, campus);
    if (!applied.ok) throw new Error(JSON.stringify(applied.problems));
    expect(named(applied.scenario)).toEqual({
      devices: ["brk-d1-101", "plug-d1-101-a", "brk-o1-101"],
      faults: ["overload plug-d1-101-a"],
      expect: ["overload plug-d1-101-a"],
      commands: ["brk-d1-101", "brk-d1-102", "brk-d1-103", "plug-d1-101-a", "plug-d1-102-a"].map((d) => `switch_off ${d} by schedule:lights-out`),
      persons: ["switch_off brk-d1-101"],
      schedule: "lights-out",
    });
    expect(applied.skipped).toEqual([]);
  });

  it("keeps an expectation where its only_if holds for the device and skips it, saying so, elsewhere", () => {
    const s = parsed(`pick:
  rooms: { kind: breaker, building_kind: dormitory, room: true, all: true }
expect:
  - { rule: malignant-load, device: $rooms, opens_within: 2m, only_if: { rules_on: [malignant-load] } }
expect_commands:
  - { device: $rooms, action: switch_on, issued_by: "rule:malignant-load", state: confirmed, sent_within: 2m, only_if: { power_rule: { rule: malignant-load, restores_within: 5s } } }
`);
    const applied = applyPicks(s, campus);
    if (!applied.ok) throw new Error(JSON.stringify(applied.problems));
    expect(named(applied.scenario).expect).toEqual(["malignant-load brk-d1-101", "malignant-load brk-d1-102"]);
    expect(applied.scenario.expect.every((e) => e.onlyIf === undefined)).toBe(true);
    expect(applied.scenario.expectCommands).toEqual([]);
    expect(applied.skipped).toEqual([
      { path: "expect[0]", what: "malignant-load on brk-d1-103", onlyIf: "with malignant-load on" },
      ...["brk-d1-101", "brk-d1-102", "brk-d1-103"].map((d) => ({
        path: "expect_commands[0]",
        what: `switch_on on ${d} by rule:malignant-load`,
        onlyIf: "that its school's power rule switches off on malignant-load and back on within 5s",
      })),
    ]);
    expect(formatPicks(campus, applied.picked, applied.skipped)).toContain("  skip malignant-load on brk-d1-103 (expect[0]): expected only if with malignant-load on\n");
  });

  it("leaves device ids as they are, an unknown one with its only_if too, for the campus check to name", () => {
    const s = parsed(`expect:
  - { rule: offline, device: brk-o1-101, opens_within: 2m }
  - { rule: offline, device: ghost, opens_within: 2m, only_if: { kind: breaker } }
`);
    const applied = applyPicks(s, campus);
    if (!applied.ok) throw new Error(JSON.stringify(applied.problems));
    expect(named(applied.scenario).expect).toEqual(["offline brk-o1-101", "offline ghost"]);
    expect(checkScenarioDevices(applied.scenario, campus)).toEqual([{ path: "expect[1].device", message: 'unknown device "ghost" in the scenario\'s campus' }]);
  });

  it("lists, when reading the file, every $name that names no pick or a pick of the wrong sort", () => {
    const result = parseScenarioText(scenario(`pick:
  room: { kind: breaker }
faults:
  - { type: offline, device: $ghost, at: 1m }
expect:
  - { rule: offline, device: $room, opens_within: 2m, only_if: { above: $ghost } }
expect_commands:
  - { device: $room, action: switch_off, issued_by: "schedule:$room", state: confirmed, sent_within: 2m }
meets_schedule: { schedule: $room, at: 1m }
`));
    expect(result).toMatchObject({
      ok: false,
      problems: [
        { path: "faults[0].device", message: "no pick named $ghost in the scenario's pick section" },
        { path: "expect[0].only_if", message: "$ghost is no device pick" },
        { path: "expect_commands[0].issued_by", message: "$room picks devices, not a schedule" },
        { path: "meets_schedule.schedule", message: "$room picks devices, not a schedule" },
      ],
    });
  });
});

describe("the bundled scenarios", () => {
  it("pick on their own campus the devices their files named before picks existed", () => {
    const on = (name: string) => named(loadScenario(name).scenario);
    expect(on("overload")).toMatchObject({ devices: ["brk-d1-main", "brk-d1-103", "brk-d1-101", "brk-d1-102"], faults: ["overload brk-d1-103"], expect: ["overload brk-d1-103", "predicted-trip brk-d1-103", "power-limit brk-d1-103"] });
    expect(on("flapping")).toMatchObject({ devices: ["brk-d1-main", "brk-d1-103"], faults: ["flapping brk-d1-103"], expect: ["overload brk-d1-103"] });
    expect(on("malignant-load")).toMatchObject({ devices: ["brk-d1-main", "brk-d1-101", "plug-d1-101-a"], commands: ["switch_off brk-d1-101 by rule:malignant-load"] });
    expect(on("dorm-heater-cutoff")).toMatchObject({ faults: ["malignant-load brk-d1-101"], commands: ["switch_off brk-d1-101 by rule:malignant-load", "switch_on brk-d1-101 by rule:malignant-load"] });
    expect(on("overheat")).toMatchObject({ devices: ["meter-o1-main", "brk-o1-101"], faults: ["overheat brk-o1-101"] });
    expect(on("counter-reset").faults).toEqual(["counter-reset brk-o1-101", "counter-reset plug-d1-101-a", "counter-reset brk-l1-fridge"]);
    expect(on("clock-skew").faults).toEqual(["clock-skew brk-o1-101", "clock-skew brk-l1-fridge"]);
    expect(on("lights-out-schedule")).toMatchObject({ schedule: "lights-out", commands: ["brk-d1-101", "brk-d1-102", "brk-d1-103", "plug-d1-101-a", "plug-d1-102-a"].map((d) => `switch_off ${d} by schedule:lights-out`) });
    expect(on("remote-switch-off")).toMatchObject({
      faults: ["command plug-d1-101-a", "command brk-t1-201-light"],
      persons: ["switch_off brk-d1-102", "switch_off plug-d1-101-a", "switch_off brk-t1-201-light", "switch_off brk-l1-fridge refused PROTECTED", "switch_off brk-l1-main refused PROTECTED"],
    });
    // Two differ on purpose. leakage: brk-d1-101 and brk-d1-102 are alike (16 A, 30 mA, dorm rooms on one
    // feeder) and the campus's order takes 101; the same three devices connect.
    expect(on("leakage")).toMatchObject({ devices: ["brk-d1-main", "brk-d1-101", "brk-d1-102"], expect: ["leakage brk-d1-101"] });
    // offline: every device below the dropped feeder is expected offline, not two samples of them (101 and 103).
    expect(on("offline").expect).toEqual(["brk-o1-101", "brk-d1-main", "brk-d1-101", "brk-d1-102", "brk-d1-103", "plug-d1-101-a", "plug-d1-102-a"].map((d) => `offline ${d}`));
  });

  it.each(["config/demo-campus.yaml", "config/demo-district.yaml"])("all fit %s, leaving out only what the campus settles otherwise", (file) => {
    const skipped = Object.fromEntries(
      listScenarios().flatMap((name) => {
        const left = loadScenario(name, file).skipped.map((s) => s.what);
        return left.length > 0 ? [[name, left]] : [];
      }),
    );
    // The demo disables power-limit on the one dorm room no power rule cuts off, and restores rooms after 5 min.
    expect(skipped).toEqual({ overload: ["power-limit on brk-d3-301"], "dorm-heater-cutoff": ["switch_on on brk-d3-302 by rule:malignant-load"] });
  });

  it("that need a dormitory say so for a school without one, and the others fit it", () => {
    const primary = "config/demo-schools/meicun-primary.yaml";
    const refused = listScenarios().filter((name) => {
      try {
        loadScenario(name, primary);
        return false;
      } catch (error) {
        if (!(error instanceof CampusError)) throw error;
        expect(error.message).toBe(`scenario ${name} needs what ${primary} does not have`);
        expect(error.problems).toEqual([{ path: "pick.room", message: expect.stringMatching(/^the campus has no device that is .*a breaker, in a dormitory building/) }]);
        return true;
      }
    });
    expect(refused).toEqual(["dorm-heater-cutoff", "malignant-load"]);
  });
});
