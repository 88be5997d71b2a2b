// `overload` — domain.md §8 row 5, CONTRACT §5: current ≥ 1.0 × In held 60 s opens (P2 → major);
// it clears only below 0.9 × In held 2 min. Why 1.0 In: the cable is at or above its ampacity Iz
// (IEC 60364-4-43: In ≤ Iz, I2 ≤ 1.45 Iz), while an MCB may carry up to 1.13 In indefinitely without
// tripping (IEC 60898-1 conventional non-tripping current) — so the breaker will not save the cable
// in this band and only the backend can tell. Between 0.9 and 1.0 In the alert stays as it is
// (hysteresis, so a load hovering at the rating does not flap — DESIGN.md "alert noise").
import type { Severity } from "../../domain/alert.js";
import { PHASES, type Reading } from "../../domain/reading.js";
import { defineRule, type Rule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";

export interface OverloadParams {
  /** Opens at current ≥ pickupRatio × rating_a. */
  pickupRatio: number;
  /** …held continuously this long, ms (event time). */
  holdMs: number;
  /** Clears only below clearRatio × rating_a … */
  clearRatio: number;
  /** …held continuously this long, ms. */
  clearHoldMs: number;
  severity: Severity;
  /**
   * Two samples further apart than this many report intervals do not prove the current held in
   * between (the same 3 × that makes a device offline, domain.md row 22): on- and off-delays restart.
   */
  maxGapIntervals: number;
}

export const OVERLOAD_DEFAULTS: Readonly<OverloadParams> = Object.freeze({
  pickupRatio: 1.0,
  holdMs: 60_000,
  clearRatio: 0.9,
  clearHoldMs: 120_000,
  severity: "major",
  maxGapIntervals: 3,
});

export interface OverloadState {
  /** Event time since which the current has been ≥ pickup without a break; null when not. */
  aboveSince: number | null;
  /** Event time since which the current has been < clear without a break, while active; null when not. */
  belowSince: number | null;
  /** Event time of the last sample with a current. */
  lastTs: number | null;
  active: boolean;
}

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

export function overloadRule(overrides: Partial<OverloadParams> = {}): Rule<unknown> {
  const p: OverloadParams = { ...OVERLOAD_DEFAULTS, ...overrides };
  return defineRule<OverloadState>({
    id: "overload",
    // Devices without a rating have nothing to be overloaded against (a meter on a feeder).
    appliesTo: (device) => device.rating_a !== undefined,
    initial: () => ({ aboveSince: null, belowSince: null, lastTs: null, active: false }),
    onReading(state, reading, ctx): Step<OverloadState> {
      const current = decidingCurrent(reading);
      if (current === undefined) return { state }; // e.g. an energy-only report: says nothing about load
      const rating = ctx.device.rating_a!;
      const pickup = p.pickupRatio * rating;
      const clear = p.clearRatio * rating;
      const ts = reading.ts;
      const gapped = state.lastTs !== null && ts - state.lastTs > p.maxGapIntervals * ctx.device.report_interval_s * 1000;
      let aboveSince = gapped ? null : state.aboveSince;
      let belowSince = gapped ? null : state.belowSince;

      if (current >= pickup) {
        belowSince = null;
        aboveSince ??= ts;
        const heldMs = ts - aboveSince;
        if (state.active || heldMs >= p.holdMs) {
          const next = { aboveSince, belowSince, lastTs: ts, active: true };
          const message = `${where(ctx.device, ctx.building)}: ${which(ctx.device)} carries ${format(current)} A, ` +
            `${Math.round((current / rating) * 100)} % of its ${format(rating)} A rating, ` +
            `at or above ${format(pickup)} A for ${duration(heldMs)}`;
          return { state: next, verdict: { breach: { severity: p.severity, value: current, threshold: pickup, at: ts, message } } };
        }
        return { state: { aboveSince, belowSince, lastTs: ts, active: false } };
      }
      aboveSince = null;
      if (current < clear) {
        if (!state.active) return { state: { aboveSince, belowSince: null, lastTs: ts, active: false } };
        belowSince ??= ts;
        if (ts - belowSince >= p.clearHoldMs) {
          return { state: { aboveSince, belowSince: null, lastTs: ts, active: false }, verdict: { clear: { at: ts } } };
        }
        return { state: { aboveSince, belowSince, lastTs: ts, active: true } };
      }
      // Hysteresis band [clear, pickup): neither opens nor clears, and breaks both delays.
      return { state: { aboveSince, belowSince: null, lastTs: ts, active: state.active } };
    },
  });
}
