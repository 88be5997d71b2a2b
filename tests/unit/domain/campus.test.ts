import { describe, expect, it } from "vitest";
import { parseCampusText } from "../../../domain/campus.js";
import { DEMO_CAMPUS_FILE } from "../../../domain/env.js";
import { readFileSync } from "node:fs";

const minimal = `
site: { id: s, name: School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }
buildings:
  - { id: dorm-3, name: Dormitory 3, kind: dormitory }
devices:
  - { id: brk-main, kind: breaker, building: dorm-3, rating_a: 63, curve: C, phases: 3, rcd_ma: 300 }
  - { id: brk-301, kind: breaker, building: dorm-3, room: "301", parent: brk-main, rating_a: 16, curve: C }
  - { id: plug-301, kind: socket, building: dorm-3, parent: brk-301, rating_a: 10, format: tasmota, source: tasmota_5A1B2C }
`;

describe("campus file", () => {
  it("accepts the contract's example and fills defaults", () => {
    const result = parseCampusText(minimal);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.campus.deviceById.get("brk-301")?.phases).toBe(1);
    expect(result.campus.deviceById.get("brk-main")?.format).toBe("native");
    expect(result.campus.deviceById.get("plug-301")?.source).toBe("tasmota_5A1B2C");
  });

  it("fills the file's defaults and freezes what it returns", () => {
    const result = parseCampusText(minimal.replace(", nominal_voltage_v: 220", ""));
    if (!result.ok) return expect.unreachable(JSON.stringify(result.problems));
    const { campus } = result;
    expect(campus.site.nominal_voltage_v).toBe(220);
    expect(campus.deviceById.get("brk-main")).toMatchObject({ room: null, parent: null, phases: 3, format: "native", report_interval_s: 60 });
    expect(campus.bridges).toEqual([]);
    expect(Object.isFrozen(campus.deviceById.get("brk-main"))).toBe(true);
    expect(Object.isFrozen(campus.devices)).toBe(true);
  });

  it("names the accepted words when a kind or format is not one of them", () => {
    const result = parseCampusText(minimal.replace("kind: dormitory", "kind: castle").replace("format: tasmota", "format: sonoff"));
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toContainEqual({ path: "buildings[0].kind", message: 'must be one of "classroom", "dormitory", "lab", "office", "canteen", "other" (got "castle")' });
    expect(problems).toContainEqual({ path: "devices[2].format", message: 'must be one of "native", "tasmota", "shelly-gen1", "shelly-gen2", "zigbee2mqtt" (got "sonoff")' });
  });

  it("lists every problem with its path instead of stopping at the first", () => {
    const bad = `
site: { id: s, name: School, timezone: Mars/Olympus, colour: red }
buildings:
  - { id: b1, name: B1, kind: castle }
  - { id: b2, name: B2, kind: lab }
  - { id: b2, name: B2 again, kind: lab }
devices:
  - { id: a, kind: breaker, building: b2, rating_a: 16, parent: c }
  - { id: a, kind: socket, building: nowhere }
  - { id: c, kind: breaker, building: b2, rating_a: 16, parent: a }
  - { id: d, kind: socket, building: b2, parent: ghost, format: tasmota }
  - { id: Bad_Id, kind: socket, building: b2 }
  - { id: x, kind: breaker, building: b2, rating_a: 16, parent: y }
  - { id: y, kind: breaker, building: b2, rating_a: 16, parent: x }
`;
    const first = parseCampusText(bad);
    expect(first.ok).toBe(false);
    if (first.ok) return;
    const paths = first.problems.map((p) => p.path);
    expect(paths).toContain("site.colour");
    expect(paths).toContain("buildings[0].kind");
    expect(paths).toContain("devices[4].id");
    // Schema errors first; once they are fixed, the cross-reference problems are all listed together.
    const second = parseCampusText(bad.replace(", colour: red", "").replace("castle", "lab").replace("Bad_Id", "e"));
    expect(second.ok).toBe(false);
    if (second.ok) return;
    const messages = second.problems.map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining("site.timezone: unknown IANA time zone"),
        expect.stringContaining('buildings[2].id: duplicate building id "b2"'),
        expect.stringContaining('devices[1].id: duplicate device id "a"'),
        expect.stringContaining('devices[1].building: unknown building "nowhere"'),
        expect.stringContaining('devices[3].parent: unknown parent device "ghost"'),
        expect.stringContaining("devices[3].source: format \"tasmota\" needs"),
        expect.stringMatching(/parent chain forms a cycle/),
      ]),
    );
  });

  it("lists schema problems and cross-reference problems of one file together", () => {
    const result = parseCampusText(`
site: { id: s, name: S, timezone: Asia/Shanghai, colour: red }
buildings: [{ id: b, name: B, kind: lab }]
devices:
  - { id: a, kind: breaker, building: b, rating_a: 16, parent: ghost }
  - { id: a, kind: socket, building: nowhere, watts: 5 }
`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(["site.colour", "devices[1].watts", "devices[1].id", "devices[1].building", "devices[0].parent"]);
  });

  it("refuses a foreign source that would spell a system topic", () => {
    const result = parseCampusText(minimal.replace("source: tasmota_5A1B2C", 'source: "campus/internal"'));
    expect(result.ok).toBe(false);
  });

  it("takes a source with inner spaces (Zigbee2MQTT friendly names), not one with tabs, line breaks or spaces at its ends", () => {
    expect(parseCampusText(minimal.replace("source: tasmota_5A1B2C", 'source: "Room 301 heater"')).ok).toBe(true);
    for (const bad of ['" leading"', '"trailing "', '"a\\tb"', '"a\\nb"', '"a/#"', '"a+b"']) {
      expect(parseCampusText(minimal.replace("source: tasmota_5A1B2C", `source: ${bad}`)).ok, bad).toBe(false);
    }
  });

  it("reports YAML syntax errors with the line", () => {
    const result = parseCampusText("site: {\nbuildings: [");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.path).toMatch(/^line \d+/);
  });

  it("rejects a device using the service account's name", () => {
    const result = parseCampusText(minimal + "  - { id: campus-service, kind: socket, building: dorm-3 }\n");
    expect(result.ok).toBe(false);
  });
});

describe("campus file: the alerts section (docs/alerts.md)", () => {
  const base = `
site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [ { id: b1, name: B1, kind: classroom } ]
devices:
  - { id: d1, kind: breaker, building: b1, rating_a: 16, curve: C, breaker_model: m1, alerts: { overload: { hold_s: 30 } } }
`;
  it("accepts overrides, schedules, an allow-list, curve tables and silences", async () => {
    const { parseCampusText } = await import("../../../domain/campus.js");
    const result = parseCampusText(`${base}
alerts:
  rules: { overload: { pickup_ratio: 1.0, severity: major } }
  building_kinds: { classroom: { rules: { after-hours: { hold_s: 600 } }, occupied: [ { days: [mon, fri], from: "07:30", to: "17:30" } ] } }
  allowed_appliances: [ { name: dispenser, min_w: 400, max_w: 600 } ]
  breaker_models: { m1: { earliest: [[1.13, 3600], [2.55, 2]] } }
  silences: [ { id: works, scope: { buildings: [b1] }, ends_at: "2030-01-01T00:00:00Z", reason: rewiring } ]
`);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.campus.alerts.buildingKinds.classroom?.occupied).toEqual([{ days: [1, 5], fromMin: 450, toMin: 1050 }]);
      expect(result.campus.devices[0]?.alerts).toEqual({ overload: { hold_s: 30 } });
    }
  });

  it("lists every problem of the alerts section with its path", async () => {
    const { parseCampusText } = await import("../../../domain/campus.js");
    const result = parseCampusText(`
site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [ { id: b1, name: B1, kind: classroom } ]
devices:
  - { id: d1, kind: breaker, building: b1, rating_a: 16, breaker_model: nope, alerts: { overlaod: { hold_s: 1 } } }
alerts:
  rules: { overload: { hold: 30, severity: loud } }
  building_kinds: { garage: {}, classroom: { occupied: [ { days: [funday], from: "7:30", to: "17:30" } ] } }
  breaker_models: { m1: { earliest: [[2.55, 2], [1.13, 3600]] } }
  silences: [ { id: w, scope: { devices: [ghost] }, starts_at: "2030-01-02T00:00:00Z", ends_at: "2030-01-01T00:00:00Z", reason: r } ]
`);
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "alerts.rules.overload.hold",
        "alerts.rules.overload.severity",
        "alerts.building_kinds.garage",
        "alerts.building_kinds.classroom.occupied[0].from",
        "alerts.building_kinds.classroom.occupied[0].days[0]",
        "alerts.breaker_models.m1.earliest",
        "devices[0].alerts.overlaod",
        "devices[0].breaker_model",
        "alerts.silences[0].ends_at",
        "alerts.silences[0].scope.devices[0]",
      ]),
    );
  });
});
