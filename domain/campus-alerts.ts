// The campus file's optional alert settings (an additive extension of CONTRACT §2, documented in
// docs/alerts.md): rule overrides per campus, building kind and device; the weekly occupied schedule
// per building kind (after-hours); the switching actions per building kind (the dormitory power rule,
// CONTRACT §10); the dormitory appliance allow-list (malignant-load); per-model breaker curve tables
// (predicted-trip); maintenance windows. Validated with every problem listed.
import { Type as T } from "@sinclair/typebox";
import { RULE_IDS, type RuleId } from "./alert.js";
import { parseDurationMs } from "./duration.js";
import { checkRuleOverrides } from "./rule-params.js";
import type { Problem } from "./errors.js";
import { jsonObjectOrEmpty as obj, type JsonObject as Loose } from "./json-object.js";

export const WEEKDAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

/** `{ <rule id>: { <param>: value, disabled?: bool } }`; ids, names and values are checked against ./rule-params.ts. */
export const RuleOverridesSchema = T.Record(T.String(), T.Record(T.String(), T.Union([T.Number(), T.String(), T.Boolean()])));

const PeriodSchema = T.Object(
  { days: T.Array(T.String(), { minItems: 1 }), from: T.String(), to: T.String() },
  { additionalProperties: false },
);
/** The rules whose alerts may switch a room's circuit off, when a building kind opts in (CONTRACT §10). */
export const SWITCHING_RULES = ["malignant-load", "power-limit"] as const satisfies readonly RuleId[];
/** Fire-related rules never switch anything, whatever a file says: they call people (GB 50116 §9.1.6, CONTRACT §10). */
export const FIRE_RELATED_RULES = ["leakage", "overtemperature", "arc-fault", "device-trip"] as const satisfies readonly RuleId[];
/** CONTRACT §10's example: a room is restored at most 3 times a day unless the file says otherwise. */
export const DEFAULT_MAX_RESTORES_PER_DAY = 3;
/** A restore later than this is no restore: leave `restore_after` out to keep the room off until an operator acts, ms. */
const LONGEST_RESTORE_AFTER_MS = 86_400_000;

const ActionSchema = T.Object(
  {
    switch_off: T.Boolean(),
    restore_after: T.Optional(T.String({ description: "a duration (5m, 30s): switched back on by the rule after it; absent: stays off until an operator switches it on" })),
    max_restores_per_day: T.Optional(T.Integer({ minimum: 0, description: `restores per site-local day; the next cut-off stays off (default ${DEFAULT_MAX_RESTORES_PER_DAY})` })),
  },
  { additionalProperties: false },
);
const CurveTable = T.Array(T.Tuple([T.Number({ exclusiveMinimum: 0 }), T.Number({ exclusiveMinimum: 0 })]), { minItems: 2 });
const ScopeSchema = T.Object(
  { devices: T.Optional(T.Array(T.String())), buildings: T.Optional(T.Array(T.String())), rules: T.Optional(T.Array(T.String())) },
  { additionalProperties: false },
);

export const AlertsConfigSchema = T.Object(
  {
    rules: T.Optional(RuleOverridesSchema),
    building_kinds: T.Optional(
      T.Record(
        T.String(),
        T.Object(
          { rules: T.Optional(RuleOverridesSchema), occupied: T.Optional(T.Array(PeriodSchema)), actions: T.Optional(T.Record(T.String(), ActionSchema)) },
          { additionalProperties: false },
        ),
      ),
    ),
    allowed_appliances: T.Optional(
      T.Array(T.Object({ name: T.String({ minLength: 1 }), min_w: T.Number({ minimum: 0 }), max_w: T.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false })),
    ),
    breaker_models: T.Optional(T.Record(T.String(), T.Object({ earliest: CurveTable, latest: T.Optional(CurveTable) }, { additionalProperties: false }))),
    silences: T.Optional(
      T.Array(
        T.Object(
          { id: T.String({ pattern: "^[a-z0-9-]{1,64}$" }), scope: ScopeSchema, starts_at: T.Optional(T.String()), ends_at: T.String(), reason: T.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export type ParamValue = number | string | boolean;
export type RuleOverrides = Partial<Record<RuleId, Record<string, ParamValue>>>;
/** A weekly period in the site's time zone: minutes since local midnight, [from, to); to < from spans midnight. */
export interface OccupiedPeriod {
  days: number[];
  fromMin: number;
  toMin: number;
}
export interface BreakerModel {
  /** [multiple of In, seconds] points, ascending in the multiple; read log–log. */
  earliest: readonly (readonly [number, number])[];
  latest?: readonly (readonly [number, number])[];
}
export interface CampusSilence {
  id: string;
  scope: { devices?: string[]; buildings?: string[]; rules?: string[] };
  starts_at?: string;
  ends_at: string;
  reason: string;
}
/**
 * A rule's switching action for a building kind, `switch_off: true` only (CONTRACT §10): the room's circuit
 * is switched off when the rule's alert opens, back on after `restoreAfterMs` (null: never by the rule) at
 * most `maxRestoresPerDay` times a site-local day.
 */
export interface PowerAction {
  restoreAfterMs: number | null;
  maxRestoresPerDay: number;
}
export interface AlertsConfig {
  rules: RuleOverrides;
  /** `actions` by rule id, as the file gives them: the alerts service acts only for SWITCHING_RULES, never FIRE_RELATED_RULES. */
  buildingKinds: Record<string, { rules: RuleOverrides; occupied?: OccupiedPeriod[]; actions?: Readonly<Record<string, PowerAction>> }>;
  allowedAppliances: readonly { name: string; min_w: number; max_w: number }[];
  breakerModels: Record<string, BreakerModel>;
  silences: readonly CampusSilence[];
}

export const EMPTY_ALERTS_CONFIG: AlertsConfig = Object.freeze({ rules: {}, buildingKinds: {}, allowedAppliances: [], breakerModels: {}, silences: [] });

const HHMM = /^([01]\d|2[0-4]):([0-5]\d)$/;
const minutes = (text: string) => {
  const m = HHMM.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
};

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Cross-checks the parts the schema cannot: rule ids and parameter names, times, tables, references. */
export function checkAlertsConfig(raw: unknown, devices: readonly Loose[], buildingIds: ReadonlySet<string>, buildingKinds: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const cfg = obj(raw);
  const deviceIds = new Set(devices.map((d) => d.id).filter((id): id is string => typeof id === "string"));
  checkOverrides(cfg.rules, "alerts.rules", problems);
  for (const [kind, entry] of Object.entries(obj(cfg.building_kinds))) {
    const at = `alerts.building_kinds.${kind}`;
    if (!buildingKinds.includes(kind)) problems.push({ path: at, message: `unknown building kind (one of ${buildingKinds.join(", ")})` });
    checkOverrides(obj(entry).rules, `${at}.rules`, problems);
    checkActions(obj(entry).actions, `${at}.actions`, problems);
    arr(obj(entry).occupied).forEach((p, i) => {
      const period = obj(p);
      for (const key of ["from", "to"] as const) {
        if (typeof period[key] === "string" && minutes(period[key]) === null) problems.push({ path: `${at}.occupied[${i}].${key}`, message: 'must be a local time "HH:MM"' });
      }
      arr(period.days).forEach((d, j) => {
        if (!WEEKDAY_NAMES.includes(d as WeekdayName)) problems.push({ path: `${at}.occupied[${i}].days[${j}]`, message: `must be one of ${WEEKDAY_NAMES.join(", ")}` });
      });
    });
  }
  arr(cfg.allowed_appliances).forEach((a, i) => {
    const { min_w, max_w } = obj(a);
    if (typeof min_w === "number" && typeof max_w === "number" && min_w >= max_w) problems.push({ path: `alerts.allowed_appliances[${i}]`, message: "min_w must be below max_w" });
  });
  for (const [name, model] of Object.entries(obj(cfg.breaker_models))) {
    for (const key of ["earliest", "latest"] as const) {
      const points = arr(obj(model)[key]).map((p) => arr(p));
      if (points.some((p, i) => i > 0 && !((p[0] as number) > (points[i - 1]![0] as number) && (p[1] as number) <= (points[i - 1]![1] as number)))) {
        problems.push({ path: `alerts.breaker_models.${name}.${key}`, message: "points must rise in the multiple of In and not rise in time" });
      }
    }
  }
  const models = new Set(Object.keys(obj(cfg.breaker_models)));
  devices.forEach((d, i) => {
    checkOverrides(d.alerts, `devices[${i}].alerts`, problems);
    if (typeof d.breaker_model === "string" && !models.has(d.breaker_model)) problems.push({ path: `devices[${i}].breaker_model`, message: `unknown breaker model "${d.breaker_model}" (alerts.breaker_models)` });
  });
  const silenceIds = new Set<string>();
  arr(cfg.silences).forEach((s, i) => {
    const silence = obj(s);
    const at = `alerts.silences[${i}]`;
    if (typeof silence.id === "string") {
      if (silenceIds.has(silence.id)) problems.push({ path: `${at}.id`, message: `duplicate silence id "${silence.id}"` });
      silenceIds.add(silence.id);
    }
    const starts = silence.starts_at === undefined ? -Infinity : Date.parse(String(silence.starts_at));
    const ends = Date.parse(String(silence.ends_at));
    if (silence.starts_at !== undefined && Number.isNaN(starts)) problems.push({ path: `${at}.starts_at`, message: "must be an ISO 8601 time with offset" });
    if (silence.ends_at !== undefined && Number.isNaN(ends)) problems.push({ path: `${at}.ends_at`, message: "must be an ISO 8601 time with offset" });
    else if (ends <= starts) problems.push({ path: `${at}.ends_at`, message: "must be after starts_at" });
    const scope = obj(silence.scope);
    arr(scope.devices).forEach((id, j) => !deviceIds.has(id as string) && problems.push({ path: `${at}.scope.devices[${j}]`, message: `unknown device "${String(id)}"` }));
    arr(scope.buildings).forEach((id, j) => !buildingIds.has(id as string) && problems.push({ path: `${at}.scope.buildings[${j}]`, message: `unknown building "${String(id)}"` }));
    arr(scope.rules).forEach((id, j) => !RULE_IDS.includes(id as RuleId) && problems.push({ path: `${at}.scope.rules[${j}]`, message: `unknown rule "${String(id)}"` }));
  });
  return problems;
}

/** Which rules may switch, and a readable `restore_after`. */
function checkActions(raw: unknown, at: string, problems: Problem[]): void {
  for (const [rule, action] of Object.entries(obj(raw))) {
    const here = `${at}.${rule}`;
    if ((FIRE_RELATED_RULES as readonly string[]).includes(rule)) {
      problems.push({ path: here, message: "a fire-related alarm never switches anything: it calls people (GB 50116 §9.1.6); remove this action" });
    } else if (!RULE_IDS.includes(rule as RuleId)) {
      problems.push({ path: here, message: `unknown rule (one of ${RULE_IDS.join(", ")})` });
    } else if (!(SWITCHING_RULES as readonly string[]).includes(rule)) {
      problems.push({ path: here, message: `only ${SWITCHING_RULES.join(" and ")} may switch a room's circuit off (CONTRACT §10)` });
    }
    const restore = obj(action).restore_after;
    if (typeof restore !== "string") continue;
    const ms = parseDurationMs(restore, { unitRequired: true });
    if (!(ms > 0)) problems.push({ path: `${here}.restore_after`, message: `must be a duration such as 5m or 30s (got "${restore}")` });
    else if (ms > LONGEST_RESTORE_AFTER_MS) problems.push({ path: `${here}.restore_after`, message: "must be at most 1d: leave it out to keep the room off until an operator switches it on" });
  }
}

/** Rule ids, parameter names and values against each rule's parameter schema (./rule-params.ts). */
function checkOverrides(raw: unknown, at: string, problems: Problem[]): void {
  const overrides = Object.fromEntries(Object.entries(obj(raw)).map(([rule, params]) => [rule, obj(params)]));
  problems.push(...checkRuleOverrides(overrides, at));
}

/** The validated section, with times parsed; call only after checkAlertsConfig found no problem. */
export function freezeAlertsConfig(raw: unknown): AlertsConfig {
  if (raw === undefined) return EMPTY_ALERTS_CONFIG;
  const cfg = obj(raw);
  const buildingKinds: AlertsConfig["buildingKinds"] = {};
  for (const [kind, entry] of Object.entries(obj(cfg.building_kinds))) {
    const e = obj(entry);
    const occupied = e.occupied === undefined ? undefined : arr(e.occupied).map((p) => {
      const period = obj(p);
      return { days: arr(period.days).map((d) => WEEKDAY_NAMES.indexOf(d as WeekdayName)), fromMin: minutes(String(period.from))!, toMin: minutes(String(period.to))! };
    });
    const actions = e.actions === undefined ? undefined : freezeActions(obj(e.actions));
    buildingKinds[kind] = { rules: obj(e.rules) as RuleOverrides, ...(occupied ? { occupied } : {}), ...(actions ? { actions } : {}) };
  }
  return Object.freeze({
    rules: obj(cfg.rules) as RuleOverrides,
    buildingKinds,
    allowedAppliances: arr(cfg.allowed_appliances) as AlertsConfig["allowedAppliances"],
    breakerModels: obj(cfg.breaker_models) as AlertsConfig["breakerModels"],
    silences: arr(cfg.silences) as CampusSilence[],
  });
}

/** The actions that switch (`switch_off: true`), with their durations in ms. */
function freezeActions(raw: Loose): Readonly<Record<string, PowerAction>> {
  const actions: Record<string, PowerAction> = {};
  for (const [rule, value] of Object.entries(raw)) {
    const action = obj(value);
    if (action.switch_off !== true) continue;
    actions[rule] = Object.freeze({
      restoreAfterMs: typeof action.restore_after === "string" ? parseDurationMs(action.restore_after, { unitRequired: true }) : null,
      maxRestoresPerDay: typeof action.max_restores_per_day === "number" ? action.max_restores_per_day : DEFAULT_MAX_RESTORES_PER_DAY,
    });
  }
  return Object.freeze(actions);
}
