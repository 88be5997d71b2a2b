// The selector language of scenario files (simulator/scenario-pick-schema.ts) and picking devices by it
// (simulator/scenario-pick.ts): what each facet means, the order picks are taken in, what the campus lacks;
// and, on random campuses and selectors (fast-check), that every pick satisfies its selector, prefers its
// earlier alternatives and the campus's earlier devices, never takes a device twice, and is deterministic.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILDING_KINDS, type Campus, DEVICE_FORMATS, DEVICE_KINDS, parseCampusText, validateCampus } from "../../../domain/campus.js";
import { parseConfigText } from "../../../domain/district/parse.js";
import { type DeviceSelector, parsePicks, type ScenarioPick } from "../../../simulator/scenario-pick-schema.js";
import { deviceFits, type Picked, pickFrom } from "../../../simulator/scenario-pick.js";

const SCHOOL = `
site: { id: school, name: School, timezone: Asia/Shanghai }
buildings:
  - { id: dorm, name: Dorm, kind: dormitory }
  - { id: teach, name: Teaching, kind: classroom }
devices:
  - { id: dorm-main, kind: breaker, building: dorm, rating_a: 63, phases: 3, rcd_ma: 300 }
  - { id: dorm-101, kind: breaker, building: dorm, room: "101", parent: dorm-main, rating_a: 16, rcd_ma: 30 }
  - { id: dorm-102, kind: breaker, building: dorm, room: "102", parent: dorm-main, rating_a: 16, alerts: { malignant-load: { disabled: true } } }
  - { id: plug-101, kind: socket, building: dorm, room: "101", parent: dorm-101, rating_a: 10, format: tasmota, source: plug101 }
  - { id: teach-meter, kind: meter, building: teach, phases: 3 }
  - { id: teach-light, kind: breaker, building: teach, room: "2F", parent: teach-meter, rating_a: 20, format: shelly-gen2, source: light2f }
  - { id: teach-fridge, kind: breaker, building: teach, room: "lab", parent: teach-light, rating_a: 10, protected: true }
schedules:
  - { id: lights-on, name: On, action: switch_on, at: "06:00", days: [mon], buildings: [dorm], kinds: [breaker] }
  - { id: lights-out, name: Out, action: switch_off, at: "23:00", days: [mon], buildings: [dorm], kinds: [breaker, socket], rooms: ["101", "102"] }
alerts:
  building_kinds:
    dormitory:
      actions: { malignant-load: { switch_off: true, restore_after: 10s } }
`;

function campusOf(text: string): Campus {
  const parsed = parseCampusText(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.campus;
}
const school = campusOf(SCHOOL);

function picksOf(raw: unknown): ScenarioPick[] {
  const { picks, problems } = parsePicks(raw);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return picks;
}
/** Every device of the campus that fits the facets alone (no earlier picks), in the campus's order. */
const fitting = (campus: Campus, selector: DeviceSelector) => campus.devices.filter((d) => deviceFits({ campus, picked: new Map() }, selector, d)).map((d) => d.id);
const ids = (picked: readonly Picked[]) => Object.fromEntries(picked.map((p) => [p.name, p.of === "device" ? p.devices.map((d) => d.id) : [p.schedule.id, ...p.targets.map((d) => d.id)]]));

describe("the facets of a device selector", () => {
  it.each<[string, DeviceSelector, string[]]>([
    ["kind (one or several)", { kind: ["socket", "meter"] }, ["plug-101", "teach-meter"]],
    ["building kind", { building_kind: "classroom" }, ["teach-meter", "teach-light", "teach-fridge"]],
    ["format (the default native included)", { format: ["tasmota", "shelly-gen2"] }, ["plug-101", "teach-light"]],
    ["phases", { phases: 3 }, ["dorm-main", "teach-meter"]],
    ["a rating within bounds, A (a device without one never fits)", { rating_a: { min: 10, max: 16 } }, ["dorm-101", "dorm-102", "plug-101", "teach-fridge"]],
    ["an RCD within bounds, mA", { rcd_ma: { max: 30 } }, ["dorm-101"]],
    ["a room", { room: false }, ["dorm-main", "teach-meter"]],
    ["a building's feeder: first of its building's wiring", { feeder: true }, ["dorm-main", "teach-meter"]],
    ["devices below it", { has_devices_below: true, kind: "breaker" }, ["dorm-main", "dorm-101", "teach-light"]],
    ["protected", { protected: true }, ["teach-fridge"]],
    ["switchable: a relay, not protected and feeding nothing protected", { switchable: true }, ["dorm-main", "dorm-101", "dorm-102", "plug-101"]],
    ["feeding a protected circuit", { feeds_protected: true }, ["teach-meter", "teach-light"]],
    ["rules the campus file leaves on, or disables", { rules_off: ["malignant-load"] }, ["dorm-102"]],
    ["the power rule on a rule: an action for its building kind, the rule not disabled", { power_rule: { rule: "malignant-load" } }, ["dorm-main", "dorm-101", "plug-101"]],
    ["the power rule restoring within a time", { power_rule: { rule: "malignant-load", restores_within: "9s" } }, []],
    ["no power rule", { power_rule: "none", building_kind: "dormitory" }, ["dorm-102"]],
  ])("%s", (_, selector, expected) => {
    expect(fitting(school, selector)).toEqual(expected);
  });

  it("reads the rule layers of the device's own site, the most specific last (campus, building kind, device)", () => {
    const layered = campusOf(`${SCHOOL.replace("alerts:\n", "alerts:\n  rules: { power-limit: { disabled: true } }\n").replace("      actions:", "      rules: { leakage: { disabled: true } }\n      actions:")}`.replace(
      "rcd_ma: 30 }",
      "rcd_ma: 30, alerts: { power-limit: { disabled: false }, leakage: { disabled: false } } }",
    ));
    expect(fitting(layered, { rules_on: ["power-limit", "leakage"] })).toEqual(["dorm-101"]);
    expect(fitting(layered, { rules_off: ["leakage"], building_kind: "dormitory" })).toEqual(["dorm-main", "dorm-102", "plug-101"]);
  });

  it("relates a device to earlier picks: above, below, apart from", () => {
    const picked = pickFrom(school, picksOf({
      plug: { kind: "socket" },
      up: { above: "$plug", all: true },
      down: { below: "$up", kind: "breaker", all: true },
      apart: { kind: "breaker", apart_from: ["$plug"], room: true },
    }));
    expect(picked.ok && ids(picked.picked)).toEqual({ plug: ["plug-101"], up: ["dorm-main", "dorm-101"], down: ["dorm-102"], apart: ["teach-light"] });
  });
});

describe("picking", () => {
  it("takes picks in order, alternatives in order, devices in the campus's order, never one device twice", () => {
    const picked = pickFrom(school, picksOf({
      room: { kind: "breaker", room: true },
      other: [{ kind: "detector" }, { kind: "breaker", room: true }, { kind: "socket" }],
      rest: { kind: "breaker", building_kind: "dormitory", all: true },
      none: { kind: "detector", all: true, optional: true },
    }));
    expect(picked).toMatchObject({ ok: true });
    if (!picked.ok) return;
    expect(ids(picked.picked)).toEqual({ room: ["dorm-101"], other: ["dorm-102"], rest: ["dorm-main"], none: [] });
    expect(picked.picked.map((p) => p.alternative)).toEqual([0, 1, 0, -1]);
  });

  it("picks a schedule by its action and its buildings' kind, with the devices it switches", () => {
    const picked = pickFrom(school, picksOf({ out: [{ schedule: { action: "switch_off", building_kind: "classroom" } }, { schedule: { action: "switch_off" } }] }));
    expect(picked.ok && ids(picked.picked)).toEqual({ out: ["lights-out", "dorm-101", "dorm-102", "plug-101"] });
  });

  it("takes a district's sites in the district file's order", () => {
    const other = SCHOOL.replace("id: school,", "id: second,").replace(/\b(dorm|teach|plug)-/g, "$1-b-").replace(/id: (dorm|teach)(,| })/g, "id: $1-b$2")
      .replace(/building: (dorm|teach)\b/g, "building: $1-b").replace(/buildings: \[dorm\]/g, "buildings: [dorm-b]").replace(/source: (\w+)/g, "source: b$1").replace(/id: lights-/g, "id: b-lights-");
    const district = parseConfigText("district: { id: d, name: D }\nsites: [second.yaml, first.yaml]\n", "d.yaml", (path) => ({ ok: true, text: path === "first.yaml" ? SCHOOL : other }));
    if (!district.ok) throw new Error(JSON.stringify(district.problems));
    const picked = pickFrom(district.campus, picksOf({ room: { kind: "breaker", room: true }, socket: { kind: "socket", all: true } }));
    expect(picked.ok && ids(picked.picked)).toEqual({ room: ["dorm-b-101"], socket: ["plug-b-101", "plug-101"] });
  });

  it("names every pick the campus has nothing for, with what it needs in words, and not the picks relying on it", () => {
    const picked = pickFrom(school, picksOf({
      heater: [{ kind: "breaker", building_kind: "canteen" }, { kind: "detector", power_rule: { rule: "malignant-load", restores_within: "1m" } }],
      above: { above: "$heater", all: true },
      out: { schedule: { action: "switch_off", building_kind: "office" } },
    }));
    expect(picked).toEqual({
      ok: false,
      problems: [
        { path: "pick.heater", message: "the campus has no device that is (1) a breaker, in a canteen building; or (2) a detector, that its school's power rule switches off on malignant-load and back on within 1m" },
        { path: "pick.out", message: "the campus has no schedule that switches off only in office buildings" },
      ],
    });
  });
});

describe("the pick section of a scenario file", () => {
  it("lists every problem with its path: names, facets and their values, relations to later picks, alternatives with all", () => {
    const { problems } = parsePicks({
      Room: { kind: "breaker" },
      room: { kind: "kettle", rating_a: { min: -1 }, colour: "red" },
      later: { above: "$nothing" },
      list: [{ kind: "breaker", all: true }, { schedule: { action: "switch_off" } }],
      sched: { schedule: { action: "dim" } },
    });
    expect(problems.map((p) => p.path)).toEqual(["pick.Room", "pick.room.colour", "pick.room.kind", "pick.room.rating_a.min", "pick.later", "pick.list[0]", "pick.list[1]", "pick.sched.schedule.action"]);
    expect(parsePicks(["a"]).problems).toEqual([{ path: "pick", message: "must map pick names to what each picks" }]);
  });
});

// ── Properties, on random campuses and selectors ────────────────────────────────────────────────────
const RULES = ["power-limit", "malignant-load", "leakage"] as const;
const arbitraryCampus = fc
  .record({
    buildings: fc.array(fc.constantFrom(...BUILDING_KINDS), { minLength: 1, maxLength: 3 }),
    devices: fc.array(
      fc.record({
        kind: fc.constantFrom(...DEVICE_KINDS), building: fc.nat(), parent: fc.option(fc.nat(), { nil: undefined }), room: fc.option(fc.constantFrom("101", "102"), { nil: undefined }),
        rating: fc.constantFrom(10, 16, 32), phases: fc.constantFrom(1, 3), rcd: fc.option(fc.constantFrom(30, 300), { nil: undefined }),
        format: fc.constantFrom(...DEVICE_FORMATS), protect: fc.boolean(), off: fc.option(fc.constantFrom(...RULES), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    action: fc.boolean(),
  })
  .map(({ buildings, devices, action }) => {
    const raw = {
      site: { id: "s", name: "S", timezone: "Asia/Shanghai" },
      buildings: buildings.map((kind, i) => ({ id: `b${i}`, name: `B${i}`, kind })),
      devices: devices.map((d, i) => ({
        id: `d${i}`, kind: d.kind, building: `b${d.building % buildings.length}`, phases: d.phases,
        ...(d.parent !== undefined && i > 0 ? { parent: `d${d.parent % i}` } : {}), ...(d.room ? { room: d.room } : {}),
        ...(d.kind === "breaker" || d.kind === "socket" ? { rating_a: d.rating } : {}), ...(d.rcd ? { rcd_ma: d.rcd } : {}),
        ...(d.format !== "native" ? { format: d.format, source: `src${i}` } : {}), ...(d.protect ? { protected: true } : {}), ...(d.off ? { alerts: { [d.off]: { disabled: true } } } : {}),
      })),
      ...(action ? { alerts: { building_kinds: { dormitory: { actions: { "malignant-load": { switch_off: true } } } } } } : {}),
    };
    const result = validateCampus(raw);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.campus;
  });
const FACETS = {
  kind: fc.subarray([...DEVICE_KINDS], { minLength: 1 }), building_kind: fc.constantFrom(...BUILDING_KINDS), format: fc.constantFrom(...DEVICE_FORMATS), phases: fc.constantFrom(1 as const, 3 as const),
  rating_a: fc.record({ min: fc.constantFrom(10, 16) }), room: fc.boolean(), feeder: fc.boolean(), has_devices_below: fc.boolean(), protected: fc.boolean(), switchable: fc.boolean(),
  feeds_protected: fc.boolean(), rules_off: fc.subarray([...RULES], { minLength: 1 }), power_rule: fc.constantFrom("none" as const, { rule: "malignant-load" as const }),
};
/** Up to three facets (more rarely fit anything on a dozen devices), maybe `all`. */
const arbitrarySelector: fc.Arbitrary<DeviceSelector> = fc
  .tuple(fc.record(FACETS), fc.subarray(Object.keys(FACETS) as (keyof typeof FACETS)[], { maxLength: 3 }), fc.boolean())
  .map(([values, keys, all]) => ({ ...Object.fromEntries(keys.map((k) => [k, values[k]])), ...(all ? { all: true } : {}) }));
/** Up to four picks; each may relate to the one before it. */
const arbitraryPicks = fc.array(fc.tuple(fc.array(arbitrarySelector, { minLength: 1, maxLength: 3 }), fc.constantFrom(undefined, "above", "below", "apart_from")), { minLength: 1, maxLength: 4 }).map((entries) =>
  Object.fromEntries(entries.map(([alternatives, relation], i) => {
    const related = alternatives.map((a) => (relation === undefined || i === 0 ? a : { ...a, [relation]: relation === "apart_from" ? [`$p${i - 1}`] : `$p${i - 1}` }));
    return [`p${i}`, related.length === 1 ? related[0] : related.map(({ all: _all, ...a }) => a)];
  })),
);

describe("picking, as properties", () => {
  it("gives every pick a device that fits its chosen alternative, the first such in the campus's order, when no earlier alternative fits any; never one device twice", () => {
    let judged = 0;
    fc.assert(
      fc.property(arbitraryCampus, arbitraryPicks, (campus, raw) => {
        const picks = picksOf(raw);
        const result = pickFrom(campus, picks);
        if (!result.ok) return;
        judged++;
        const picked = new Map<string, readonly Campus["devices"][number][]>();
        for (const [i, p] of result.picked.entries()) {
          const pick = picks[i]!;
          if (p.of !== "device" || pick.of !== "device") continue;
          const context = { campus, picked };
          const taken = new Set([...picked.values()].flat().map((d) => d.id));
          const free = campus.devices.filter((d) => !taken.has(d.id));
          pick.alternatives.slice(0, Math.max(0, p.alternative)).forEach((earlier) => expect(free.filter((d) => deviceFits(context, earlier, d))).toEqual([]));
          if (p.alternative >= 0) {
            const chosen = pick.alternatives[p.alternative]!;
            const fits = free.filter((d) => deviceFits(context, chosen, d));
            expect(p.devices).toEqual(chosen.all ? fits : fits.slice(0, 1));
          }
          picked.set(p.name, p.devices);
        }
        const all = result.picked.flatMap((p) => (p.of === "device" ? p.devices.map((d) => d.id) : []));
        expect(new Set(all).size).toBe(all.length);
      }),
      { numRuns: 300 },
    );
    // About a third of the runs pick everything they ask for: the property is not judged on refusals alone.
    expect(judged).toBeGreaterThan(60);
  });

  it("gives the same campus the same picks", () => {
    fc.assert(
      fc.property(arbitraryCampus, arbitraryPicks, (campus, raw) => {
        expect(pickFrom(campus, picksOf(raw))).toEqual(pickFrom(campus, picksOf(raw)));
      }),
      { numRuns: 100 },
    );
  });
});
