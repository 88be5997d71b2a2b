// The rule list. A new rule (domain.md §8) is one file here exporting a `Rule` factory with its
// defaults, added to `defaultRules`; the engine needs no change. Rule ids are fixed by CONTRACT §5;
// the parameters a campus file may override are listed in RULE_PARAM_NAMES (domain/alert.ts).
import type { Rule } from "../types.js";
import { afterHoursRule } from "./after-hours.js";
import { malignantLoadRule, powerLimitRule } from "./dormitory.js";
import { arcFaultRule, deviceTripRule } from "./events.js";
import { leakageRule, overtemperatureRule } from "./fire.js";
import { offlineRule } from "./offline.js";
import { heavyLoadRule, overloadRule } from "./overload.js";
import { predictedTripRule } from "./predicted-trip.js";
import { overvoltageRule, phaseLossRule, undervoltageRule } from "./voltage.js";

export { OFFLINE_DEFAULTS, offlineRule } from "./offline.js";
export { HEAVY_LOAD_DEFAULTS, OVERLOAD_DEFAULTS, decidingCurrent, heavyLoadRule, overloadRule } from "./overload.js";

/** Code-level overrides per rule id (tests, benches); operators use the campus file instead. */
export type RuleOverrides = Partial<Record<string, Record<string, number | string | boolean>>>;

export function defaultRules(overrides: RuleOverrides = {}): Rule<unknown>[] {
  const o = (id: string) => (overrides[id] ?? {}) as never;
  return [
    overloadRule(o("overload")),
    heavyLoadRule(o("heavy-load")),
    predictedTripRule(o("predicted-trip")),
    powerLimitRule(o("power-limit")),
    malignantLoadRule(o("malignant-load")),
    leakageRule(o("leakage")),
    overtemperatureRule(o("overtemperature")),
    overvoltageRule(o("overvoltage")),
    undervoltageRule(o("undervoltage")),
    phaseLossRule(o("phase-loss")),
    offlineRule(o("offline")),
    deviceTripRule(o("device-trip")),
    arcFaultRule(o("arc-fault")),
    afterHoursRule(o("after-hours")),
  ];
}
