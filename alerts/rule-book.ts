// The rules resolved against a campus, pure: which rules apply to which device, with which parameters,
// computed once at start, and the maintenance windows every evaluation looks at. The engine and the
// overlay both read it (its own module, so neither imports the other).
import { Value } from "@sinclair/typebox/value";
import type { Campus, Device } from "../domain/campus.js";
import type { ParamValue, RuleOverrides } from "../domain/campus-alerts.js";
import { campusSilences, isCurrent, type SiteSilence } from "./silences.js";
import { siteOf } from "./sites.js";
import type { EngineState, Params, Rule } from "./types.js";

/** A rule as it applies to one device: its parameters resolved from the defaults and the campus file. */
export interface BoundRule {
  rule: Rule;
  params: Params;
}

export interface RuleBook {
  campus: Campus;
  rules: readonly Rule[];
  rulesFor: ReadonlyMap<string, readonly BoundRule[]>;
  /** Maintenance windows of every site's campus file (read-only for operators). */
  fileSilences: readonly SiteSilence[];
  /** Device → the devices whose `parent` it is (the overlay's inhibition walks down it). */
  children: ReadonlyMap<string, readonly string[]>;
  /**
   * Every device, each after its parent: the watchdog's tick in slices (engine.ts) opens a parent's `offline`
   * in an earlier slice than its children's or in the same one, so a child's alert is inhibited when it opens,
   * as in one tick over all, and never paged first.
   */
  tickOrder: readonly Device[];
}

/** One rule's overrides in one place of the campus file (`alerts.rules`, a building kind, a device). */
export const overridesOf = (source: RuleOverrides | undefined, ruleId: string): Record<string, ParamValue> | undefined =>
  Object.entries(source ?? {}).find(([id]) => id === ruleId)?.[1];

/**
 * Parameters: the schema's defaults (domain.md §8) ← `alerts.rules` ← `alerts.building_kinds.<kind>.rules`
 * ← the device's `alerts`, the `alerts:` section being that of the device's own site (CONTRACT §9);
 * `disabled: true` at any level (the most specific wins) removes the rule.
 * Null when disabled. Throws when the result does not fit the rule's schema: reading the campus file
 * checked every override against it (domain/rule-params.ts), so that is a bug, not a bad file.
 */
export function resolveParams(campus: Campus, device: Device, rule: Rule): Params | null {
  const site = siteOf(campus, device.id);
  const kind = site.buildingById.get(device.building)?.kind ?? "other";
  const layers = [site.alerts.rules, site.alerts.buildingKinds[kind]?.rules, device.alerts].map((source) => overridesOf(source, rule.id));
  const merged: Record<string, ParamValue> = {};
  let disabled = false;
  for (const layer of layers) {
    const { disabled: off, ...params } = layer ?? {};
    if (typeof off === "boolean") disabled = off;
    Object.assign(merged, params);
  }
  if (disabled) return null;
  const params = Value.Default(rule.params, merged);
  Value.Assert(rule.params, params);
  return params;
}

export function createRuleBook(campus: Campus, rules: readonly Rule[]): RuleBook {
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) throw new Error(`rule "${rule.id}" is listed twice`);
    ids.add(rule.id);
  }
  const rulesFor = new Map(
    campus.devices.map((d) => {
      const building = campus.buildingById.get(d.building)!;
      const site = siteOf(campus, d.id);
      const bound: BoundRule[] = [];
      for (const rule of rules) {
        const params = resolveParams(campus, d, rule);
        if (params !== null && rule.appliesTo(d, building, site)) bound.push({ rule, params });
      }
      return [d.id, bound] as const;
    }),
  );
  const children = new Map<string, string[]>();
  for (const d of campus.devices) {
    if (d.parent === null) continue;
    const siblings = children.get(d.parent);
    if (siblings) siblings.push(d.id);
    else children.set(d.parent, [d.id]);
  }
  return { campus, rules, rulesFor, fileSilences: campusSilences(campus), children, tickOrder: parentsFirst(campus, children) };
}

/** The campus's devices, each after its parent (depth first from each root, in the file's order). */
function parentsFirst(campus: Campus, children: ReadonlyMap<string, readonly string[]>): Device[] {
  const order: Device[] = [];
  const placed = new Set<string>();
  const place = (root: Device) => {
    const stack = [root];
    while (stack.length > 0) {
      const device = stack.pop()!;
      if (placed.has(device.id)) continue;
      placed.add(device.id);
      order.push(device);
      const below = children.get(device.id) ?? [];
      for (let i = below.length - 1; i >= 0; i--) stack.push(campus.deviceById.get(below[i]!)!);
    }
  };
  for (const device of campus.devices) if (device.parent === null || !campus.deviceById.has(device.parent)) place(device);
  for (const device of campus.devices) place(device); // none is left out (the campus file refuses a cycle)
  return order;
}

/** Every silence operators can see now: the campus file's and the API's, not ended nor expired. */
export function currentSilences(book: RuleBook, state: EngineState, now: number): SiteSilence[] {
  return [...book.fileSilences, ...(state.silences ?? [])].filter((s) => isCurrent(s, now));
}
