// `overload` — domain.md §8 row 5, CONTRACT §5: current ≥ 1.0 × In held 60 s opens (P2 → major);
// it clears only below 0.9 × In held 2 min. Why 1.0 In: the cable is at or above its ampacity Iz
// (IEC 60364-4-43: In ≤ Iz, I2 ≤ 1.45 Iz), while an MCB may carry up to 1.13 In indefinitely without
// tripping (IEC 60898-1 conventional non-tripping current) — so the breaker will not save the cable
// in this band and only the backend can tell. Between 0.9 and 1.0 In the alert stays as it is
// (hysteresis, so a load hovering at the rating does not flap — DESIGN.md "alert noise").
// `heavy-load` — domain.md §8 row 4: ≥ 0.8 × In for 15 min, clears < 0.75 × In for 5 min, P3
// (NEC 210.19/210.20: a continuous load should stay ≤ 80 % of the breaker) — the same shape.
import { PHASES, type Reading } from "../../domain/reading.js";
import type { Severity } from "../../domain/alert.js";
import { defineRule, type Rule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, reportGapMs, stepStaged, type StagedState } from "./staged.js";
import { OverloadParams, HeavyLoadParams } from "../../domain/rule-params.js";

/**
 * The current that decides: on a device sending phases, the worst phase (CONTRACT §5); else the
 * total `current_a`. Magnitude, since a bidirectional meter signs the current of exported power.
 */
export function decidingCurrent(reading: Reading): number | undefined {
  let worst: number | undefined;
  for (const phase of PHASES) {
    const current = reading.phases?.[phase]?.current_a;
    if (current !== undefined && (worst === undefined || Math.abs(current) > worst)) worst = Math.abs(current);
  }
  if (worst !== undefined) return worst;
  const total = reading.values.current_a;
  return total === undefined ? undefined : Math.abs(total);
}

function currentRule(id: "overload" | "heavy-load", params: typeof OverloadParams): Rule {
  return defineRule({
    id,
    params,
    // Devices without a rating have nothing to be overloaded against (a meter on a feeder).
    appliesTo: (device) => device.rating_a !== undefined,
    initial: () => initialStaged(1),
    onReading(state, reading, ctx): Step<StagedState> {
      const current = decidingCurrent(reading);
      if (current === undefined) return { state }; // e.g. an energy-only report: says nothing about load
      const p = ctx.params;
      const rating = ctx.device.rating_a!;
      const pickup = p.pickup_ratio * rating;
      const spec = {
        stages: [{ severity: p.severity, threshold: pickup, holdMs: p.hold_s * 1000 }],
        direction: "above" as const,
        clear: p.clear_ratio * rating,
        clearHoldMs: p.clear_hold_s * 1000,
        maxGapMs: reportGapMs(ctx.device, p.max_gap_intervals),
      };
      return stepStaged(state, spec, current, reading.ts, (_stage, heldMs) => ({
        message:
          `${where(ctx.device, ctx.building)}: ${which(ctx.device)} carries ${format(current)} A, ` +
          `${Math.round((current / rating) * 100)} % of its ${format(rating)} A rating, ` +
          `at or above ${format(pickup)} A for ${duration(heldMs)}`,
      }));
    },
  });
}

export const overloadRule = currentRule("overload", OverloadParams);
export const heavyLoadRule = currentRule("heavy-load", HeavyLoadParams);
