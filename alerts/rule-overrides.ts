// The campus file's rule overrides checked against each rule's parameter schema, pure. The alerts
// service refuses to start on a problem (createRuleBook) and `campus-power check-config` lists them,
// each with the place in the file, the rule and the parameter, e.g.
// `alerts.building_kinds.dormitory.rules.overload.pickup_ratio: must be a number > 0 (got "high")`.
import { KindGuard, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Campus } from "../domain/campus.js";
import type { RuleOverrides } from "../domain/campus-alerts.js";
import type { Problem } from "../domain/errors.js";
import { defaultRules } from "./rules/index.js";
import type { Rule } from "./types.js";

/** Every place of the campus file that overrides rule parameters, with its path in the file. */
export function overridePlaces(campus: Campus): { at: string; overrides: RuleOverrides }[] {
  return [
    { at: "alerts.rules", overrides: campus.alerts.rules },
    ...Object.entries(campus.alerts.buildingKinds).map(([kind, entry]) => ({ at: `alerts.building_kinds.${kind}.rules`, overrides: entry.rules })),
    ...campus.devices.map((device, i) => ({ at: `devices[${i}].alerts`, overrides: device.alerts ?? {} })),
  ];
}

/** Every override that names no rule, no parameter of its rule, or a value its schema refuses. */
export function checkRuleOverrides(campus: Campus, rules: readonly Rule[] = defaultRules()): Problem[] {
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const problems: Problem[] = [];
  for (const { at, overrides } of overridePlaces(campus)) {
    for (const [ruleId, params] of Object.entries(overrides)) {
      const rule = byId.get(ruleId);
      if (!rule) {
        problems.push({ path: `${at}.${ruleId}`, message: `unknown rule (one of ${[...byId.keys()].join(", ")})` });
        continue;
      }
      for (const [name, value] of Object.entries(params ?? {})) {
        const problem = checkParam(rule, name, value);
        if (problem) problems.push({ path: `${at}.${ruleId}.${name}`, message: problem });
      }
    }
  }
  return problems;
}

function checkParam(rule: Rule, name: string, value: unknown): string | null {
  if (name === "disabled") return typeof value === "boolean" ? null : `must be true or false (got ${JSON.stringify(value)})`;
  const properties = rule.params.properties;
  const schema = Object.hasOwn(properties, name) ? properties[name] : undefined;
  if (!schema) return `unknown parameter of ${rule.id} (one of disabled, ${Object.keys(properties).join(", ")})`;
  return Value.Check(schema, value) ? null : `must be ${expectation(schema)} (got ${JSON.stringify(value)})`;
}

/** What a parameter's schema accepts, in words: "a number > 0", "a whole number from 0 to 24", "one of critical, major". */
function expectation(schema: TSchema): string {
  if (KindGuard.IsUnion(schema)) return `one of ${schema.anyOf.map((option) => (KindGuard.IsLiteral(option) ? String(option.const) : "?")).join(", ")}`;
  if (!KindGuard.IsNumber(schema) && !KindGuard.IsInteger(schema)) return "a valid value";
  const kind = KindGuard.IsInteger(schema) ? "a whole number" : "a number";
  const { minimum, maximum, exclusiveMinimum } = schema;
  if (minimum !== undefined && maximum !== undefined) return `${kind} from ${minimum} to ${maximum}`;
  if (exclusiveMinimum !== undefined) return `${kind} > ${exclusiveMinimum}`;
  if (minimum !== undefined) return `${kind} ≥ ${minimum}`;
  return kind;
}
