// `predicted-trip` — domain.md §8 row 6, §3.2 Approach A (the IEC 60255-149 / GE Multilin thermal
// element): per sample, m = I / In;
//   m > pickup: D += Δt / t_trip(m)          (damage accumulates along the breaker's curve)
//   else:       D  = max(0, D − Δt / t_cool)  (cooling)
//   TTT = (1 − D) · t_trip(m)                 (seconds to trip if the present load persists)
// on the earliest curve for warnings and on the latest for the range (per-model table when the device
// names one in `breaker_model`, else the IEC 60898-1 envelope of its curve letter, curves.ts).
// D ≥ 0.5 or TTT ≤ 10 min ⇒ major (P2); D ≥ 0.8 or TTT ≤ 2 min ⇒ critical (P1): the same alert
// escalates as the time shortens. Clears when D < 0.3 and I < 1.05 In. value = TTT (s), threshold =
// the stage's TTT limit; `ttt_s` / `ttt_max_s` carry the range.
import type { Severity } from "../../domain/alert.js";
import type { Campus, Device } from "../../domain/campus.js";
import { defineRule, type Step } from "../types.js";
import { iecEnvelope, modelCurves } from "./curves.js";
import { duration, format, where, which } from "./describe.js";
import { decidingCurrent } from "./overload.js";
import { PredictedTripParams } from "../../domain/rule-params.js";

export interface PredictedTripState {
  /** Damage on the earliest and on the latest curve, 0…1. */
  damage: number;
  damageLatest: number;
  lastTs: number | null;
  active: boolean;
}

export function curvesFor(campus: Campus, device: Device) {
  const model = device.breaker_model ? campus.alerts.breakerModels[device.breaker_model] : undefined;
  return model ? { ...modelCurves(model), source: `curve table ${device.breaker_model}` } : { ...iecEnvelope(device.curve ?? "C"), source: `IEC 60898-1 envelope, curve ${device.curve ?? "C"}` };
}

/** One step of the accumulator (exported for the IEC table test). */
export function accumulate(damage: number, m: number, dtS: number, tripS: number, pickup: number, coolS: number): number {
  if (m > pickup) return Math.min(1, damage + dtS / tripS);
  return Math.max(0, damage - dtS / coolS);
}

export const predictedTripRule = defineRule({
  id: "predicted-trip",
  params: PredictedTripParams,
  appliesTo: (device) => device.kind === "breaker" && device.rating_a !== undefined,
  initial: (): PredictedTripState => ({ damage: 0, damageLatest: 0, lastTs: null, active: false }),
  onReading(state, reading, ctx): Step<PredictedTripState> {
    const current = decidingCurrent(reading);
    if (current === undefined) return { state };
    const p = ctx.params;
    const rating = ctx.device.rating_a!;
    const m = current / rating;
    const curves = curvesFor(ctx.campus, ctx.device);
    const maxStepS = p.max_step_s || 3 * ctx.device.report_interval_s;
    const dtS = state.lastTs === null ? 0 : Math.min(Math.max(0, (reading.ts - state.lastTs) / 1000), maxStepS);
    const pickup = p.pickup_ratio;
    const coolS = p.cool_s;
    const tMin = curves.earliest.tripS(m);
    const tMax = curves.latest.tripS(m);
    const damage = accumulate(state.damage, m, dtS, tMin, pickup, coolS);
    const damageLatest = accumulate(state.damageLatest, m, dtS, tMax, pickup, coolS);
    const next = { damage, damageLatest, lastTs: reading.ts, active: state.active };
    if (m > pickup && Number.isFinite(tMin)) {
      const ttt = Math.max(0, (1 - damage) * tMin);
      const tttMax = Number.isFinite(tMax) ? Math.max(ttt, (1 - damageLatest) * tMax) : ttt;
      const critical = damage >= p.critical_damage || ttt <= p.critical_ttt_s;
      const major = critical || damage >= p.major_damage || ttt <= p.major_ttt_s;
      if (major) {
        const severity: Severity = critical ? "critical" : "major";
        const limit = critical ? p.critical_ttt_s : p.major_ttt_s;
        const range = Number.isFinite(tMax) ? `${duration(ttt * 1000)}–${duration(tttMax * 1000)}` : `${duration(ttt * 1000)}`;
        const message =
          `${where(ctx.device, ctx.building)}: ${which(ctx.device)} carries ${format(current)} A (${m.toFixed(2)} × In); ` +
          `estimated time to trip ${duration(ttt * 1000)} (range ${range}, ${curves.source}; thermal damage ${Math.round(damage * 100)} %)`;
        const details = { ttt_s: Math.round(ttt), ...(Number.isFinite(tttMax) ? { ttt_max_s: Math.round(tttMax) } : {}) };
        return { state: { ...next, active: true }, verdict: { breach: { severity, value: Math.round(ttt), threshold: limit, at: reading.ts, message, details } } };
      }
    }
    if (state.active && damage < p.clear_damage && m < p.clear_ratio) {
      return { state: { ...next, active: false }, verdict: { clear: { at: reading.ts } } };
    }
    return { state: next };
  },
});
