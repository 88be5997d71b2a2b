// The rule list. A new rule (domain.md §8) is one file here exporting a `Rule` factory with its
// defaults, added to `defaultRules`; the engine needs no change. Rule ids are fixed by CONTRACT §5.
import type { Rule } from "../types.js";
import { offlineRule, type OfflineParams } from "./offline.js";
import { overloadRule, type OverloadParams } from "./overload.js";

export { OFFLINE_DEFAULTS, offlineRule } from "./offline.js";
export { OVERLOAD_DEFAULTS, decidingCurrent, overloadRule } from "./overload.js";

export interface RuleOverrides {
  overload?: Partial<OverloadParams>;
  offline?: Partial<OfflineParams>;
}

export function defaultRules(overrides: RuleOverrides = {}): Rule<unknown>[] {
  return [overloadRule(overrides.overload), offlineRule(overrides.offline)];
}
