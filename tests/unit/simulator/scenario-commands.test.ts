// The switching parts of a scenario file (CONTRACT §10): expected commands, a person's commands through the
// API, the schedule a run meets; read with their units and checked against the campus, every problem listed.
import { describe, expect, it } from "vitest";
import { parseCampusText } from "../../../domain/campus.js";
import { parseConfigText } from "../../../domain/district/parse.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { scheduleMeeting } from "../../../simulator/scenario-commands.js";
import { checkScenarioDevices, parseScenarioText } from "../../../simulator/scenario.js";

const campus = loadCampus("scenarios/campus.yaml");
const scenario = (extra: string) => `name: t\ndescription: a test\nduration: 3m\n${extra}`;

describe("expected commands, a person's commands and the schedule met, in a scenario file", () => {
  it("reads them with their units", () => {
    const parsed = parseScenarioText(
      scenario(`expect_commands:
  - { device: brk-d1-102, action: switch_off, issued_by: person, state: confirmed, sent_within: 45s }
  - { device: brk-d1-101, action: switch_off, issued_by: "rule:malignant-load", state: confirmed, sent_within: 2m, linked_alert: malignant-load }
  - { device: brk-d1-103, action: switch_off, issued_by: "schedule:lights-out", state: timeout, sent_within: 90s }
no_other_commands: true
person_commands:
  - { at: 30s, device: brk-d1-102, action: switch_off, reason: smoke in room 102 }
  - { at: 1m, device: brk-l1-fridge, action: switch_off, reason: should be refused, refused: PROTECTED }
meets_schedule: { schedule: lights-out, at: 1m }
`),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const s = parsed.scenario;
    expect(s.expectCommands).toEqual([
      { device: "brk-d1-102", action: "switch_off", issuedBy: "person", state: "confirmed", sentWithinMs: 45_000 },
      { device: "brk-d1-101", action: "switch_off", issuedBy: "rule:malignant-load", state: "confirmed", sentWithinMs: 120_000, linkedAlert: "malignant-load" },
      { device: "brk-d1-103", action: "switch_off", issuedBy: "schedule:lights-out", state: "timeout", sentWithinMs: 90_000 },
    ]);
    expect(s.noOtherCommands).toBe(true);
    expect(s.personCommands).toEqual([
      { atMs: 30_000, device: "brk-d1-102", action: "switch_off", reason: "smoke in room 102" },
      { atMs: 60_000, device: "brk-l1-fridge", action: "switch_off", reason: "should be refused", refused: "PROTECTED" },
    ]);
    expect(s.meetsSchedule).toEqual({ schedule: "lights-out", atMs: 60_000 });
    expect(checkScenarioDevices(s, campus)).toEqual([]);
  });

  it("leaves them empty in a scenario that does not switch", () => {
    const parsed = parseScenarioText(scenario("expect: []\n"));
    expect(parsed).toMatchObject({ ok: true, scenario: { expectCommands: [], noOtherCommands: false, personCommands: [] } });
    if (parsed.ok) expect(parsed.scenario.meetsSchedule).toBeUndefined();
  });

  it("lists every problem of their shape: an unknown issuer, state, action, refusal or key; then, beside the faults', a time outside the span, an alert link no rule makes", () => {
    const shape = parseScenarioText(
      scenario(`expect_commands:
  - { device: d, action: switch_off, issued_by: somebody, state: confirmed, sent_within: 1m }
  - { device: d, action: toggle, issued_by: person, state: sent, sent_within: soon }
person_commands:
  - { at: 1m, device: d, action: switch_off, reason: "", refused: MAYBE, extra: 1 }
meets_schedule: { schedule: lights-out }
`),
    );
    expect(shape.ok).toBe(false);
    if (!shape.ok) {
      expect(shape.problems.map((p) => p.path).sort()).toEqual([
        "expect_commands[0].issued_by", "expect_commands[1].action", "expect_commands[1].sent_within", "expect_commands[1].state",
        "meets_schedule.at", "person_commands[0].extra", "person_commands[0].reason", "person_commands[0].refused",
      ].sort());
    }
    const timing = parseScenarioText(
      scenario(`faults:
  - { type: leakage, device: brk-d1-103, at: 1m }
expect_commands:
  - { device: d, action: switch_off, issued_by: person, state: confirmed, sent_within: 1m, linked_alert: malignant-load }
person_commands:
  - { at: 3m, device: d, action: switch_off, reason: too late }
meets_schedule: { schedule: lights-out, at: 5m }
`),
    );
    expect(timing).toMatchObject({
      ok: false,
      problems: [
        { path: "faults[0].leakage_ma" },
        { path: "person_commands[0].at", message: "must lie within the scenario's duration" },
        { path: "expect_commands[0].linked_alert", message: "only a command issued by rule:malignant-load names its alert" },
        { path: "meets_schedule.at", message: "must lie within the scenario's duration" },
      ],
    });
  });

  it("lists what the campus makes impossible: unknown devices and schedules, a command nobody may send, a refusal not expected", () => {
    const parsed = parseScenarioText(
      scenario(`expect_commands:
  - { device: nope, action: switch_off, issued_by: person, state: confirmed, sent_within: 1m }
  - { device: brk-l1-main, action: switch_off, issued_by: person, state: confirmed, sent_within: 1m }
  - { device: brk-d1-101, action: switch_off, issued_by: "schedule:night", state: confirmed, sent_within: 1m }
person_commands:
  - { at: 1m, device: brk-l1-fridge, action: switch_off, reason: should have said PROTECTED }
  - { at: 1m, device: meter-o1-main, action: switch_off, reason: a meter, refused: PROTECTED }
  - { at: 1m, device: ghost, action: switch_off, reason: nobody }
meets_schedule: { schedule: night, at: 1m }
`),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(checkScenarioDevices(parsed.scenario, campus)).toEqual([
      { path: "expect_commands[0].device", message: 'unknown device "nope" in the scenario\'s campus' },
      { path: "expect_commands[1].device", message: "no command for brk-l1-main is ever sent: brk-l1-main feeds protected brk-l1-fridge: it must stay on and cannot be switched remotely" },
      { path: "expect_commands[2].issued_by", message: 'no schedule "night" in the scenario\'s campus' },
      { path: "person_commands[0].refused", message: "the campus makes it certain: brk-l1-fridge is protected: it must stay on and cannot be switched remotely (say refused: PROTECTED)" },
      { path: "person_commands[1].refused", message: "the campus makes it certain: meter-o1-main is a meter: it has no relay to switch (say refused: NOT_SWITCHABLE)" },
      { path: "person_commands[2].device", message: 'unknown device "ghost" in the scenario\'s campus' },
      { path: "meets_schedule.schedule", message: 'no schedule "night" in the scenario\'s campus' },
    ]);
  });
});

const EAST_SCHOOL = `
site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices: [ { id: brk-1, kind: breaker, building: dorm-1, room: "1", rating_a: 16 } ]
schedules:
  - { id: lights-out, name: Lights out, action: switch_off, at: "23:00", days: [mon, tue, wed, thu, fri], devices: [brk-1] }
`;

describe("meeting a schedule", () => {
  const parsed = parseCampusText(EAST_SCHOOL);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const school = parsed.campus;
  // Monday 2030-01-07 23:00 in Shanghai (UTC+8) is 15:00 UTC.
  const lightsOut = Date.parse("2030-01-07T15:00:00Z");

  it("starts the run so that the schedule's next run falls at its moment of the scenario's clock", () => {
    // At 10×, one minute of the scenario's clock is 6 s of the wall clock.
    expect(scheduleMeeting(school, { schedule: "lights-out", atMs: 60_000 }, 10, lightsOut - 3_600_000)).toMatchObject({ run: { at: lightsOut, date: "2030-01-07" }, startWallMs: lightsOut - 6_000 });
  });

  it("waits for the next run the lead can still meet: the next school day's when this one is too close", () => {
    const meeting = scheduleMeeting(school, { schedule: "lights-out", atMs: 60_000 }, 10, lightsOut - 5_000);
    expect(meeting?.run.date).toBe("2030-01-08");
    // Friday's lights-out passed: Monday's, three days on.
    const friday = lightsOut + 4 * 86_400_000;
    expect(scheduleMeeting(school, { schedule: "lights-out", atMs: 60_000 }, 10, friday + 1_000)?.run.date).toBe("2030-01-14");
  });

  it("knows no meeting with a schedule the campus does not have", () => {
    expect(scheduleMeeting(school, { schedule: "night", atMs: 0 }, 1, lightsOut)).toBeNull();
  });

  it("meets a schedule of a district's school at its minute in that school's own zone (CONTRACT §9)", () => {
    const inBerlin = (site: string, device: string) => `
site: { id: ${site}, name: ${site}, timezone: Europe/Berlin }
buildings: [ { id: b-${site}, name: B, kind: dormitory } ]
devices: [ { id: ${device}, kind: breaker, building: b-${site}, room: "1", rating_a: 16 } ]
schedules:
  - { id: berlin-lights-out, name: Lights out, action: switch_off, at: "23:00", days: [mon, tue, wed, thu, fri], devices: [${device}] }
`;
    const district = parseConfigText("district: { id: d, name: D }\nsites: [east.yaml, west.yaml]\n", "district.yaml", (path) =>
      path === "east.yaml" ? { ok: true, text: EAST_SCHOOL } : { ok: true, text: inBerlin("west", "brk-w") },
    );
    if (!district.ok) throw new Error(JSON.stringify(district.problems));
    // Monday 2030-01-07 23:00 in Berlin (UTC+1) is 22:00 UTC; the district's first school is in Shanghai.
    const berlinLightsOut = Date.parse("2030-01-07T22:00:00Z");
    expect(scheduleMeeting(district.campus, { schedule: "berlin-lights-out", atMs: 60_000 }, 10, berlinLightsOut - 3_600_000)).toMatchObject({
      run: { at: berlinLightsOut, date: "2030-01-07" },
      timeZone: "Europe/Berlin",
    });
  });
});
