// The building blocks of a rule's parameter schema (TypeBox). Each rule declares its parameters once,
// with their defaults (reference/domain.md §8) as the schema's `default`s, as aedes declares its
// options' defaults in one object. The rule book fills the defaults and checks the campus file's
// overrides against the same schema, so a rule receives `Static<typeof ItsSchema>`, fully typed.
// The unit is in each parameter's name (`_s` seconds, `_w` watts, `_ma` milliamperes, `_c` °C,
// `_h` hours of the local day, `_ratio` a multiple of a rating or of the nominal voltage).
import { Type, type TProperties } from "@sinclair/typebox";
import { SEVERITIES, type Severity } from "../../domain/alert.js";

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
export const severity = (fallback: Severity) => Type.Union(SEVERITIES.map((name) => Type.Literal(name)), { default: fallback });

/** The report intervals after which two samples no longer prove a value held in between (domain.md row 22: 3 ×). */
export const maxGapIntervals = () => Type.Number({ exclusiveMinimum: 0, default: 3 });
