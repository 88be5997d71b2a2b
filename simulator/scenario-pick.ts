// Picking a scenario's devices on a campus by what they are (docs/scenarios.md "Picking devices"). Pure and
// deterministic: picks are taken in the file's order; each alternative of a pick is tried in its order;
// candidates come in the campus's order (a district: its sites in the district file's order, each site's
// devices and schedules in its file's order); a device or schedule an earlier pick took is not taken again.
// A fact about one device (its rules, its power rule) is read from its own site's campus (CONTRACT §9).
import type { RuleId } from "../domain/alert.js";
import type { Campus, Device, Schedule } from "../domain/campus.js";
import { SWITCHING_RULES } from "../domain/campus-alerts.js";
import { scheduleTargets } from "../domain/campus/schedules.js";
import { downstreamOf, switchRefusal } from "../domain/command.js";
import type { Problem } from "../domain/errors.js";
import { durationMs } from "./scenario-duration.js";
import { asList, type DeviceFacets, facetRefs, type ScenarioPick, pickName, type ScheduleSelector } from "./scenario-pick-schema.js";

export type Picked =
  | { name: string; of: "device"; devices: readonly Device[]; /** Which alternative decided, from 0; -1: an optional pick that found none. */ alternative: number }
  | { name: string; of: "schedule"; schedule: Schedule; targets: readonly Device[]; alternative: number };

export type PickResult = { ok: true; picked: Picked[] } | { ok: false; problems: Problem[] };

/** What the facets of a device need besides the device: the campus and the devices picked so far, by pick name. */
export interface PickContext {
  campus: Campus;
  picked: ReadonlyMap<string, readonly Device[]>;
}

/** Takes every pick in order; lists every pick the campus has nothing for (a pick relying on one that failed is not judged). */
export function pickFrom(campus: Campus, picks: readonly ScenarioPick[]): PickResult {
  const pickedDevices = new Map<string, readonly Device[]>();
  const context: PickContext = { campus, picked: pickedDevices };
  const picked: Picked[] = [];
  const problems: Problem[] = [];
  const failed = new Set<string>();
  for (const pick of picks) {
    if (pick.of === "schedule") {
      const taken = new Set(picked.flatMap((p) => (p.of === "schedule" ? [p.schedule.id] : [])));
      const found = firstAlternative(pick.alternatives, (s) => campus.schedules.find((schedule) => !taken.has(schedule.id) && scheduleFits(campus, s, schedule)));
      if (found) picked.push({ name: pick.name, of: "schedule", schedule: found.value, targets: scheduleTargets(campus, found.value), alternative: found.index });
      else problems.push({ path: `pick.${pick.name}`, message: `the campus has no schedule that ${either(pick.alternatives.map(describeSchedule))}` });
      continue;
    }
    if (pick.alternatives.some((a) => facetRefs(a).some((ref) => failed.has(ref)))) {
      failed.add(pick.name);
      continue;
    }
    const taken = new Set([...pickedDevices.values()].flat().map((d) => d.id));
    const fits = (facets: DeviceFacets) => (device: Device) => !taken.has(device.id) && deviceFits(context, facets, device);
    const found = firstAlternative(pick.alternatives, (s) => {
      const devices = s.all ? campus.devices.filter(fits(s)) : campus.devices.filter(fits(s)).slice(0, 1);
      return devices.length > 0 ? devices : undefined;
    });
    const single = pick.alternatives.length === 1 ? pick.alternatives[0]! : null;
    if (found === null && single?.optional !== true) {
      failed.add(pick.name);
      problems.push({ path: `pick.${pick.name}`, message: `the campus has no device that is ${either(pick.alternatives.map((a) => describeFacets(a)))}` });
      continue;
    }
    const devices = found?.value ?? [];
    pickedDevices.set(pick.name, devices);
    picked.push({ name: pick.name, of: "device", devices, alternative: found?.index ?? -1 });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, picked };
}

function firstAlternative<S, V>(alternatives: readonly S[], find: (selector: S) => V | undefined): { value: V; index: number } | null {
  for (const [index, selector] of alternatives.entries()) {
    const value = find(selector);
    if (value !== undefined) return { value, index };
  }
  return null;
}

const within = (value: number | undefined, range: { min?: number; max?: number }) =>
  value !== undefined && (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);
const buildingKindOf = (campus: Campus, device: Device) => campus.buildingById.get(device.building)?.kind ?? "other";

/** The devices upstream of `device` in the wiring, nearest first (the campus is validated: no cycles). */
function ancestorsOf(campus: Campus, device: Device): Device[] {
  const out: Device[] = [];
  for (let up = device.parent === null ? undefined : campus.deviceById.get(device.parent); up !== undefined; up = up.parent === null ? undefined : campus.deviceById.get(up.parent)) out.push(up);
  return out;
}
const isAbove = (campus: Campus, upper: Device, lower: Device) => ancestorsOf(campus, lower).some((d) => d.id === upper.id);

/** A building's feeder: the first device of the building's wiring (no parent, or a parent in another building). */
const isFeeder = (campus: Campus, device: Device) => device.parent === null || campus.deviceById.get(device.parent)?.building !== device.building;

/**
 * Whether the campus file disables `rule` for the device: the last `disabled` of its site's `alerts.rules`,
 * its building kind's rules and the device's own `alerts` (the layers docs/alerts.md gives, most specific last).
 */
function ruleDisabled(site: Campus, device: Device, rule: RuleId): boolean {
  const layers = [site.alerts.rules, site.alerts.buildingKinds[buildingKindOf(site, device)]?.rules, device.alerts];
  return layers.reduce<boolean>((disabled, layer) => {
    const off = layer?.[rule]?.disabled;
    return typeof off === "boolean" ? off : disabled;
  }, false);
}

/** The dormitory power rule's action on `rule` for the device's building kind, if it acts on this device (CONTRACT §10). */
function powerAction(site: Campus, device: Device, rule: (typeof SWITCHING_RULES)[number]) {
  const action = site.alerts.buildingKinds[buildingKindOf(site, device)]?.actions?.[rule];
  return action !== undefined && !ruleDisabled(site, device, rule) ? action : undefined;
}

/** Whether every facet given holds for the device; facets about the wiring read the picks made so far. */
export function deviceFits(context: PickContext, facets: DeviceFacets, device: Device): boolean {
  const { campus } = context;
  const site = campus.siteOfDevice.get(device.id) ?? campus;
  const is = (given: boolean | undefined, actual: () => boolean) => given === undefined || given === actual();
  const among = <V>(given: V | readonly V[] | undefined, actual: V) => given === undefined || asList(given)!.includes(actual);
  const picked = (ref: string) => context.picked.get(pickName(ref)!) ?? [];
  const power = facets.power_rule;
  return (
    among(facets.kind, device.kind) &&
    among(facets.building_kind, buildingKindOf(campus, device)) &&
    among(facets.format, device.format) &&
    (facets.phases === undefined || facets.phases === device.phases) &&
    (facets.rating_a === undefined || within(device.rating_a, facets.rating_a)) &&
    (facets.rcd_ma === undefined || within(device.rcd_ma, facets.rcd_ma)) &&
    is(facets.room, () => device.room !== null) &&
    is(facets.protected, () => device.protected === true) &&
    is(facets.feeder, () => isFeeder(campus, device)) &&
    is(facets.has_devices_below, () => campus.devices.some((d) => d.parent === device.id)) &&
    (facets.rules_on ?? []).every((rule) => !ruleDisabled(site, device, rule)) &&
    (facets.rules_off ?? []).every((rule) => ruleDisabled(site, device, rule)) &&
    (power === undefined ||
      (power === "none"
        ? SWITCHING_RULES.every((rule) => powerAction(site, device, rule) === undefined)
        : restoresWithin(powerAction(site, device, power.rule), power.restores_within))) &&
    (facets.above === undefined || picked(facets.above).some((below) => isAbove(campus, device, below))) &&
    (facets.below === undefined || picked(facets.below).some((above) => isAbove(campus, above, device))) &&
    (facets.apart_from ?? []).every((ref) => picked(ref).every((other) => other.id !== device.id && !isAbove(campus, other, device) && !isAbove(campus, device, other))) &&
    // The two that walk the wiring below the device, last: the costliest.
    is(facets.switchable, () => switchRefusal(campus, device.id) === null) &&
    is(facets.feeds_protected, () => downstreamOf(campus, device.id).slice(1).some((d) => d.protected === true))
  );
}

function restoresWithin(action: { restoreAfterMs: number | null } | undefined, bound: string | undefined): boolean {
  if (action === undefined) return false;
  return bound === undefined || (action.restoreAfterMs !== null && action.restoreAfterMs <= durationMs(bound));
}

function scheduleFits(campus: Campus, selector: ScheduleSelector, schedule: Schedule): boolean {
  if (selector.action !== undefined && selector.action !== schedule.action) return false;
  const kinds = asList(selector.building_kind);
  return kinds === undefined || scheduleTargets(campus, schedule).every((d) => kinds.includes(buildingKindOf(campus, d)));
}

const or = (values: readonly string[] | undefined) => (values ?? []).join(" or ");
const range = (r: { min?: number; max?: number }, unit: string) =>
  r.min !== undefined && r.max !== undefined ? (r.min === r.max ? `${r.min} ${unit}` : `${r.min}–${r.max} ${unit}`) : r.min !== undefined ? `at least ${r.min} ${unit}` : r.max !== undefined ? `at most ${r.max} ${unit}` : `any ${unit}`;
const yesNo = (given: boolean | undefined, yes: string, no: string) => (given === undefined ? [] : [given ? yes : no]);

/**
 * The facets in words, in a fixed order, for the errors and the run's report ("a breaker, in a dormitory
 * building, …"); without `subject`, no leading "a device" when no kind is given (an expectation's `only_if`).
 */
export function describeFacets(f: DeviceFacets, subject = true): string {
  const power = f.power_rule;
  const words = [
    ...(f.kind !== undefined ? [`a ${or(asList(f.kind))}`] : subject ? ["a device"] : []),
    ...(f.building_kind === undefined ? [] : [`in a ${or(asList(f.building_kind))} building`]),
    ...(f.format === undefined ? [] : [`of format ${or(asList(f.format))}`]),
    ...(f.phases === undefined ? [] : [`${f.phases}-phase`]),
    ...(f.rating_a === undefined ? [] : [`rated ${range(f.rating_a, "A")}`]),
    ...(f.rcd_ma === undefined ? [] : [`with an RCD of ${range(f.rcd_ma, "mA")}`]),
    ...yesNo(f.room, "in a room", "in no room"),
    ...yesNo(f.feeder, "a building's feeder", "not a building's feeder"),
    ...yesNo(f.has_devices_below, "with devices below it", "with no device below it"),
    ...yesNo(f.protected, "protected", "not protected"),
    ...yesNo(f.switchable, "switchable remotely", "not switchable remotely"),
    ...yesNo(f.feeds_protected, "feeding a protected circuit", "feeding no protected circuit"),
    ...(f.rules_on === undefined ? [] : [`with ${f.rules_on.join(", ")} on`]),
    ...(f.rules_off === undefined ? [] : [`with ${f.rules_off.join(", ")} disabled`]),
    ...(power === undefined ? [] : [power === "none" ? "that no power rule switches off" : `that its school's power rule switches off on ${power.rule}${power.restores_within ? ` and back on within ${power.restores_within}` : ""}`]),
    ...(f.above === undefined ? [] : [`above ${f.above}`]),
    ...(f.below === undefined ? [] : [`below ${f.below}`]),
    ...(f.apart_from === undefined ? [] : [`neither above nor below ${f.apart_from.join(", ")}`]),
  ];
  return words.join(", ");
}

function describeSchedule(s: ScheduleSelector): string {
  const kinds = asList(s.building_kind);
  return [s.action === undefined ? "switches" : `switches ${s.action === "switch_off" ? "off" : "on"}`, ...(kinds ? [`only in ${or(kinds)} buildings`] : [])].join(" ");
}

const either = (descriptions: readonly string[]) => (descriptions.length === 1 ? descriptions[0]! : descriptions.map((d, i) => `(${i + 1}) ${d}`).join("; or "));
