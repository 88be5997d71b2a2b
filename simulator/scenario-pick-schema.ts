// What a scenario file says about the devices it runs on (its `pick:` section, docs/scenarios.md "Picking
// devices"): a name per pick, and what the device must be — its kind, its building's kind, format, phases,
// rating, a room's circuit or a building's feeder, protected or switchable, the rules its campus file leaves
// on, where it sits in the wiring against earlier picks — or which schedule. Elsewhere in the file `$name`
// stands where a device id (or a schedule id) would. The schemas and their reading, with every problem
// listed; pure. Matching them against a campus is scenario-pick.ts.
import { type Static, type TSchema, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { RULE_IDS } from "../domain/alert.js";
import { BUILDING_KINDS, DEVICE_FORMATS, DEVICE_KINDS } from "../domain/campus.js";
import { SWITCHING_RULES } from "../domain/campus-alerts.js";
import { COMMAND_ACTIONS } from "../domain/command.js";
import type { Problem } from "../domain/errors.js";
import { literalUnion } from "../domain/schema.js";
import { DurationSchema } from "./scenario-duration.js";

/** A pick's name: what follows `$` where the file uses it. */
const PICK_NAME = /^[a-z][a-z0-9-]*$/;
/** `$room`: a pick where a device id goes (a device id never starts with `$`: CONTRACT §2 ids are [a-z0-9-]). */
const PICK_REF = /^\$([a-z][a-z0-9-]*)$/;
const RefSchema = T.String({ pattern: PICK_REF.source });

const oneOrMore = <S extends TSchema>(schema: S) => T.Union([schema, T.Array(schema, { minItems: 1 })]);
/** Inclusive bounds; either may be left out. */
const RangeSchema = T.Object({ min: T.Optional(T.Number({ minimum: 0 })), max: T.Optional(T.Number({ minimum: 0 })) }, { additionalProperties: false });
const RuleIdsSchema = T.Array(literalUnion(RULE_IDS), { minItems: 1 });

/** What a device must be; every facet given must hold (scenario-pick.ts says what each means). */
const facets = {
  kind: T.Optional(oneOrMore(literalUnion(DEVICE_KINDS))),
  building_kind: T.Optional(oneOrMore(literalUnion(BUILDING_KINDS))),
  format: T.Optional(oneOrMore(literalUnion(DEVICE_FORMATS))),
  phases: T.Optional(T.Union([T.Literal(1), T.Literal(3)])),
  /** Rated current In, A: the device must have one. */
  rating_a: T.Optional(RangeSchema),
  /** Residual-current rating IΔn, mA: the device must measure leakage. */
  rcd_ma: T.Optional(RangeSchema),
  room: T.Optional(T.Boolean()),
  feeder: T.Optional(T.Boolean()),
  has_devices_below: T.Optional(T.Boolean()),
  protected: T.Optional(T.Boolean()),
  switchable: T.Optional(T.Boolean()),
  feeds_protected: T.Optional(T.Boolean()),
  rules_on: T.Optional(RuleIdsSchema),
  rules_off: T.Optional(RuleIdsSchema),
  power_rule: T.Optional(
    T.Union([
      T.Literal("none"),
      T.Object({ rule: literalUnion(SWITCHING_RULES), restores_within: T.Optional(DurationSchema) }, { additionalProperties: false }),
    ]),
  ),
  above: T.Optional(RefSchema),
  below: T.Optional(RefSchema),
  apart_from: T.Optional(T.Array(RefSchema, { minItems: 1 })),
};

/** The facets alone: what an expectation's `only_if` says of the device it names. */
export const DeviceFacetsSchema = T.Object(facets, { additionalProperties: false });
/** A pick of devices: the first device that fits, or with `all` every one; `optional` lets it pick none. */
const DeviceSelectorSchema = T.Object({ ...facets, all: T.Optional(T.Boolean()), optional: T.Optional(T.Boolean()) }, { additionalProperties: false });
const ScheduleSelectorSchema = T.Object(
  {
    schedule: T.Object(
      {
        action: T.Optional(literalUnion(COMMAND_ACTIONS)),
        /** Every device it switches is in a building of one of these kinds. */
        building_kind: T.Optional(oneOrMore(literalUnion(BUILDING_KINDS))),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type DeviceFacets = Static<typeof DeviceFacetsSchema>;
export type DeviceSelector = Static<typeof DeviceSelectorSchema>;
export type ScheduleSelector = Static<typeof ScheduleSelectorSchema>["schedule"];

/** One pick: its alternatives in order of preference; the first that anything fits decides. */
export type ScenarioPick = { name: string; of: "device"; alternatives: readonly DeviceSelector[] } | { name: string; of: "schedule"; alternatives: readonly ScheduleSelector[] };

/** `$room` → `room`; anything else (a device id) → null. */
export const pickName = (text: string): string | null => PICK_REF.exec(text)?.[1] ?? null;

/** A given value or list as a list (facets take one value or several). */
export const asList = <V>(value: V | readonly V[] | undefined): readonly V[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value as V]);

/** TypeBox's errors as problems at file paths (`expect[2].only_if.kind`), the first per path. */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ""): Problem[] {
  const problems: Problem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const inner = error.path.split("/").slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("");
    const path = `${prefix}${inner}`.replace(/^\./, "");
    if (!problems.some((p) => p.path === path)) problems.push({ path, message: error.value === undefined ? "is required" : error.message });
  }
  return problems;
}

/** The device picks a facet names (`above`, `below`, `apart_from`). */
export const facetRefs = (f: DeviceFacets): string[] => [f.above, f.below, ...(f.apart_from ?? [])].flatMap((ref) => (ref === undefined ? [] : [pickName(ref)!]));

/**
 * The `pick:` section, read: a map from name to a selector or a list of alternatives (each a device
 * selector, or `{schedule: {...}}`). A relation (`above: $x`) must name an earlier device pick; a list of
 * alternatives picks one device (`all` and `optional` belong to a single selector).
 */
export function parsePicks(raw: unknown): { picks: ScenarioPick[]; problems: Problem[] } {
  const picks: ScenarioPick[] = [];
  const problems: Problem[] = [];
  if (raw === undefined) return { picks, problems };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { picks, problems: [{ path: "pick", message: "must map pick names to what each picks" }] };
  for (const [name, value] of Object.entries(raw)) {
    const at = `pick.${name}`;
    if (!PICK_NAME.test(name)) problems.push({ path: at, message: "a pick's name is lowercase letters, digits and -, starting with a letter" });
    const listed = Array.isArray(value);
    const alternatives: unknown[] = listed ? value : [value];
    if (alternatives.length === 0) problems.push({ path: at, message: "needs at least one alternative" });
    const isSchedule = (a: unknown) => typeof a === "object" && a !== null && "schedule" in a;
    const paths = alternatives.map((_, i) => (listed ? `${at}[${i}]` : at));
    if (alternatives.every(isSchedule) && alternatives.length > 0) {
      alternatives.forEach((a, i) => problems.push(...schemaProblems(ScheduleSelectorSchema, a, paths[i])));
      picks.push({ name, of: "schedule", alternatives: (alternatives as Static<typeof ScheduleSelectorSchema>[]).map((a) => a.schedule) });
      continue;
    }
    alternatives.forEach((a, i) => {
      if (isSchedule(a)) return problems.push({ path: paths[i]!, message: "a pick is of devices or of a schedule, not both" });
      const before = problems.length;
      problems.push(...schemaProblems(DeviceSelectorSchema, a, paths[i]));
      if (problems.length > before) return;
      const selector = a as DeviceSelector;
      if (listed && (selector.all !== undefined || selector.optional !== undefined)) problems.push({ path: paths[i]!, message: "a list of alternatives picks one device: all and optional go on a single selector" });
      for (const ref of facetRefs(selector)) {
        if (!picks.some((p) => p.name === ref && p.of === "device")) problems.push({ path: paths[i]!, message: `$${ref} is no device pick before this one` });
      }
    });
    picks.push({ name, of: "device", alternatives: alternatives as DeviceSelector[] });
  }
  return { picks, problems };
}

/** Where a scenario names devices and schedules: each may be a `$pick` (the shape of scenario.ts's Scenario). */
export interface PickUses {
  faults: readonly { device: string }[];
  expect: readonly { device: string; onlyIf?: DeviceFacets }[];
  devices?: readonly string[];
  expectCommands: readonly { device: string; issuedBy: string; onlyIf?: DeviceFacets }[];
  personCommands: readonly { device: string }[];
  meetsSchedule?: { schedule: string };
}

/** `schedule:$lights-out` → `$lights-out`: an issuer naming a schedule pick. */
export const scheduleIssuerRef = (issuedBy: string): string | null => /^schedule:(\$.+)$/.exec(issuedBy)?.[1] ?? null;

/**
 * Every `$name` the scenario uses must be a pick of the right sort: where a device goes, a device pick (or a
 * schedule pick: the devices it switches); in `meets_schedule` and `issued_by: schedule:$name`, a schedule pick.
 */
export function checkPickRefs(picks: readonly ScenarioPick[], uses: PickUses): Problem[] {
  const problems: Problem[] = [];
  const sortOf = new Map(picks.map((p) => [p.name, p.of]));
  const check = (text: string, path: string, want: "device" | "schedule") => {
    const name = pickName(text);
    if (name === null) return;
    const sort = sortOf.get(name);
    if (sort === undefined) problems.push({ path, message: `no pick named ${text} in the scenario's pick section` });
    else if (want === "schedule" && sort !== "schedule") problems.push({ path, message: `${text} picks devices, not a schedule` });
  };
  const checkOnlyIf = (onlyIf: DeviceFacets | undefined, path: string) => {
    for (const ref of onlyIf ? facetRefs(onlyIf) : []) if (sortOf.get(ref) !== "device") problems.push({ path: `${path}.only_if`, message: `$${ref} is no device pick` });
  };
  uses.faults.forEach((f, i) => check(f.device, `faults[${i}].device`, "device"));
  uses.expect.forEach((e, i) => (check(e.device, `expect[${i}].device`, "device"), checkOnlyIf(e.onlyIf, `expect[${i}]`)));
  uses.devices?.forEach((d, i) => check(d, `devices[${i}]`, "device"));
  uses.expectCommands.forEach((e, i) => {
    check(e.device, `expect_commands[${i}].device`, "device");
    const issuer = scheduleIssuerRef(e.issuedBy);
    if (issuer !== null) check(issuer, `expect_commands[${i}].issued_by`, "schedule");
    checkOnlyIf(e.onlyIf, `expect_commands[${i}]`);
  });
  uses.personCommands.forEach((p, i) => check(p.device, `person_commands[${i}].device`, "device"));
  if (uses.meetsSchedule) check(uses.meetsSchedule.schedule, "meets_schedule.schedule", "schedule");
  return problems;
}
