// The rule list. A new rule (domain.md §8) is one file here exporting a `Rule` with its parameter
// schema (domain/rule-params.ts: the defaults written once, as the schema's defaults), added to
// `defaultRules`; the engine needs no change. Rule ids are fixed by CONTRACT §5; the parameter names a
// campus file may use are those of each rule's schema (checked when the campus file is read).
import type { Rule } from "../types.js";
import { afterHoursRule } from "./after-hours.js";
import { malignantLoadRule, powerLimitRule } from "./dormitory.js";
import { arcFaultRule, deviceTripRule } from "./events.js";
import { leakageRule, overtemperatureRule } from "./fire.js";
import { offlineRule } from "./offline.js";
import { heavyLoadRule, overloadRule } from "./overload.js";
import { predictedTripRule } from "./predicted-trip.js";
import { overvoltageRule, phaseLossRule, undervoltageRule } from "./voltage.js";

export function defaultRules(): Rule[] {
  return [
    overloadRule,
    heavyLoadRule,
    predictedTripRule,
    powerLimitRule,
    malignantLoadRule,
    leakageRule,
    overtemperatureRule,
    overvoltageRule,
    undervoltageRule,
    phaseLossRule,
    offlineRule,
    deviceTripRule,
    arcFaultRule,
    afterHoursRule,
  ];
}
