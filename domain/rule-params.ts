// The parameters of every alert rule, part of the campus file's schema: each rule's TypeBox schema with
// its defaults (reference/domain.md §8) written once, as the schema's `default`s, as aedes declares its
// options' defaults in one object. The campus file's overrides (`alerts.rules`, per building kind, per
// device) are checked against these schemas when the file is read, every problem listed with the place,
// the rule and the parameter; the alerts service fills the defaults and hands each rule
// `Static<typeof ItsParams>`, fully typed (alerts/rule-book.ts).
// The unit is in each parameter's name (`_s` seconds, `_w` watts, `_ma` milliamperes, `_c` °C,
// `_h` hours of the local day, `_ratio` a multiple of a rating or of the nominal voltage).
import { KindGuard, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { RULE_IDS, type RuleId, SEVERITIES, type Severity } from "./alert.js";
import type { Problem } from "./errors.js";
import { literalUnion } from "./schema.js";

/** A rule's parameters: exactly these names (an unknown name in the campus file is a problem). */
export const ruleParams = <P extends TProperties>(properties: P) => Type.Object(properties, { additionalProperties: false });

/** A threshold, a multiple of a rating or of U, or a period (> 0: a zero threshold would always hold). */
export const positive = (fallback: number) => Type.Number({ exclusiveMinimum: 0, default: fallback });

/** A fraction in [0, 1]: thermal damage, a power factor. */
export const fraction = (fallback: number) => Type.Number({ minimum: 0, maximum: 1, default: fallback });

/** A duration, a power, a current or a temperature in the unit its name carries (≥ 0; 0 = at once / none). */
export const amount = (fallback: number) => Type.Number({ minimum: 0, default: fallback });

/** A count of samples, events or report intervals (a whole number ≥ 1). */
export const count = (fallback: number) => Type.Integer({ minimum: 1, default: fallback });

/** An hour of the local day, 0–24. */
export const hourOfDay = (fallback: number) => Type.Integer({ minimum: 0, maximum: 24, default: fallback });

/** One of CONTRACT §5's severities. */
export const severity = (fallback: Severity) => literalUnion(SEVERITIES, { default: fallback });

/** The report intervals after which two samples no longer prove a value held in between (domain.md row 22: 3 ×). */
export const maxGapIntervals = () => Type.Number({ exclusiveMinimum: 0, default: 3 });

// after-hours (alerts/rules/after-hours.ts)
export const AfterHoursParams = ruleParams({
  /** The threshold is the learned baseline × (1 + baseline_margin) … */
  baseline_margin: amount(0.2),
  /** … and at least min_w, W. */
  min_w: amount(50),
  /** A fixed night baseline, W; 0 = learn it. */
  baseline_w: amount(0),
  hold_s: amount(30 * 60),
  clear_hold_s: amount(15 * 60),
  severity: severity("info"),
  /** The night the baseline is sampled in: [night_from_h, night_to_h) local time. */
  night_from_h: hourOfDay(2),
  night_to_h: hourOfDay(4),
});

// dormitory (alerts/rules/dormitory.ts)
export const PowerLimitParams = ruleParams({
  /** The room's power limit, W (schools use 500–1500 W). */
  limit_w: positive(1000),
  hold_s: amount(10),
  /** Clears below clear_ratio × limit_w … */
  clear_ratio: positive(0.9),
  clear_hold_s: amount(60),
  severity: severity("warning"),
  max_gap_intervals: maxGapIntervals(),
});
export const MalignantLoadParams = ruleParams({
  /** The smallest step of active power that can be a heater, W. */
  step_w: positive(300),
  /** The step's incremental power factor at or above which it is resistive (Hart 1992). */
  incremental_pf: fraction(0.95),
  hold_s: amount(10),
  /** Clears when P is back within this many W of the pre-step baseline … */
  clear_margin_w: amount(50),
  clear_hold_s: amount(60),
  severity: severity("warning"),
  /** The opening that makes `repeats_per_day` in 24 h is `repeat_severity`. */
  repeat_severity: severity("major"),
  repeats_per_day: count(3),
});

// events (alerts/rules/events.ts)
export const DeviceTripParams = ruleParams({
  severity: severity("major"),
  short_circuit_severity: severity("critical"),
  /** The trip that makes `repeats_per_day` trips in 24 h is `repeat_severity`. */
  repeat_severity: severity("critical"),
  repeats_per_day: count(3),
});
export const ArcFaultParams = ruleParams({ severity: severity("critical") });

// fire (alerts/rules/fire.ts)
export const LeakageParams = ruleParams({
  // Final circuits, as multiples of the device's IΔn (rcd_ma).
  warning_ratio: positive(0.5),
  warning_hold_s: amount(60),
  major_ratio: positive(0.8),
  major_hold_s: amount(10),
  clear_ratio: positive(0.33),
  clear_hold_s: amount(600),
  /** A device with rcd_ma at or above this is the feeder's residual-current fire detector (GB 50116 §9.2). */
  feeder_rcd_ma: positive(300),
  feeder_alarm_ma: positive(300),
  feeder_alarm_samples: count(2),
  feeder_prewarn_ma: positive(200),
  feeder_prewarn_hold_s: amount(300),
  feeder_clear_ma: positive(250),
  feeder_clear_hold_s: amount(600),
});
export const OvertemperatureParams = ruleParams({
  warning_c: positive(65),
  major_c: positive(75),
  critical_c: positive(85),
  hold_s: amount(60),
  /** Clears this many K below warning_c. */
  clear_delta_c: amount(5),
  clear_hold_s: amount(300),
});

// offline (alerts/rules/offline.ts)
export const OfflineParams = ruleParams({
  /** No data for this many report intervals ⇒ offline. */
  silent_intervals: positive(3),
  severity: severity("warning"),
  detector_severity: severity("major"),
});

// overload (alerts/rules/overload.ts)
/** Both rules have the same parameters; only their defaults differ. */
const currentParams = (defaults: { pickup_ratio: number; hold_s: number; clear_ratio: number; clear_hold_s: number; severity: Severity }) =>
  ruleParams({
    /** Opens at current ≥ pickup_ratio × rating_a … */
    pickup_ratio: positive(defaults.pickup_ratio),
    /** …held continuously this long, s (event time). */
    hold_s: amount(defaults.hold_s),
    /** Clears only below clear_ratio × rating_a … */
    clear_ratio: positive(defaults.clear_ratio),
    /** …held continuously this long, s. */
    clear_hold_s: amount(defaults.clear_hold_s),
    severity: severity(defaults.severity),
    /** Samples further apart than this many report intervals restart the delays (domain.md row 22: 3 ×). */
    max_gap_intervals: maxGapIntervals(),
  });

export const OverloadParams = currentParams({ pickup_ratio: 1.0, hold_s: 60, clear_ratio: 0.9, clear_hold_s: 120, severity: "major" });
export const HeavyLoadParams = currentParams({ pickup_ratio: 0.8, hold_s: 15 * 60, clear_ratio: 0.75, clear_hold_s: 5 * 60, severity: "warning" });

// predicted-trip (alerts/rules/predicted-trip.ts)
export const PredictedTripParams = ruleParams({
  /** m above which damage accumulates (domain.md §3.2: ≈ 1.05–1.13). */
  pickup_ratio: positive(1.05),
  /** Time for D to cool from 1 to 0 below pickup, s ("a few × τ"). */
  cool_s: positive(600),
  /** Time to trip at or below which the alert is major / critical, s. */
  major_ttt_s: amount(600),
  critical_ttt_s: amount(120),
  /** Thermal damage D (0…1) at or above which the alert is major / critical. */
  major_damage: fraction(0.5),
  critical_damage: fraction(0.8),
  /** Clears when D < clear_damage and I < clear_ratio × In. */
  clear_damage: fraction(0.3),
  clear_ratio: positive(1.05),
  /** Longest Δt one sample may stand for, s; 0 = 3 report intervals (a gap proves nothing about the load). */
  max_step_s: amount(0),
});

// voltage (alerts/rules/voltage.ts)
export const OvervoltageParams = ruleParams({
  warning_ratio: positive(1.07),
  warning_hold_s: amount(300),
  warning_severity: severity("info"),
  major_ratio: positive(1.15),
  major_hold_s: amount(60),
  critical_ratio: positive(1.2),
  critical_hold_s: amount(5),
  clear_ratio: positive(1.059),
  clear_hold_s: amount(300),
});
export const UndervoltageParams = ruleParams({
  warning_ratio: positive(0.9),
  warning_hold_s: amount(300),
  major_ratio: positive(0.85),
  major_hold_s: amount(60),
  clear_ratio: positive(0.918),
  clear_hold_s: amount(300),
  /** Phases below this × U are left to phase-loss. */
  ignore_below_ratio: amount(0.5),
});
export const PhaseLossParams = ruleParams({
  /** A phase below this × U is lost … */
  lost_ratio: positive(0.5),
  /** … while the others are above this × U (180 V at 220 V). */
  healthy_v_ratio: positive(0.818),
  hold_s: amount(5),
  /** Clears when every phase is above this × U (198 V) … */
  clear_ratio: positive(0.9),
  clear_hold_s: amount(60),
  severity: severity("major"),
});

/** Every rule's parameter schema, by the rule id CONTRACT §5 fixes. */
export const RULE_PARAMS: Readonly<Record<RuleId, TObject>> = {
  overload: OverloadParams,
  "heavy-load": HeavyLoadParams,
  "predicted-trip": PredictedTripParams,
  "power-limit": PowerLimitParams,
  "malignant-load": MalignantLoadParams,
  leakage: LeakageParams,
  overtemperature: OvertemperatureParams,
  overvoltage: OvervoltageParams,
  undervoltage: UndervoltageParams,
  "phase-loss": PhaseLossParams,
  offline: OfflineParams,
  "device-trip": DeviceTripParams,
  "arc-fault": ArcFaultParams,
  "after-hours": AfterHoursParams,
};

/**
 * The problems of one place of the campus file that overrides rules (`{ <rule id>: { <param>: value,
 * disabled?: bool } }` at `at`): a rule CONTRACT §5 does not name, a parameter its rule does not have,
 * or a value its schema refuses, e.g. `alerts.rules.overload.pickup_ratio: must be a number > 0 (got "high")`.
 */
export function checkRuleOverrides(overrides: Record<string, unknown>, at: string): Problem[] {
  const problems: Problem[] = [];
  for (const [ruleId, params] of Object.entries(overrides)) {
    if (!RULE_IDS.includes(ruleId as RuleId)) {
      problems.push({ path: `${at}.${ruleId}`, message: `unknown rule (one of ${RULE_IDS.join(", ")})` });
      continue;
    }
    for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
      const problem = paramProblem(ruleId as RuleId, name, value);
      if (problem) problems.push({ path: `${at}.${ruleId}.${name}`, message: problem });
    }
  }
  return problems;
}

function paramProblem(ruleId: RuleId, name: string, value: unknown): string | null {
  if (name === "disabled") return typeof value === "boolean" ? null : `must be true or false (got ${JSON.stringify(value)})`;
  const properties = RULE_PARAMS[ruleId].properties;
  const schema = Object.hasOwn(properties, name) ? properties[name] : undefined;
  if (!schema) return `unknown parameter of ${ruleId} (one of disabled, ${Object.keys(properties).join(", ")})`;
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
