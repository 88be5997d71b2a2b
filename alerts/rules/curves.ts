// Breaker time–current curves for predicted-trip (domain.md §2.1, §3.2), pure.
// Without a per-model table the IEC 60898-1 envelope brackets the thermal trip (In ≤ 32 A):
//   earliest (pessimistic): through (1.13 In, 3600 s) and (2.55 In, 1 s)  — test a: 1.13 In must not trip within 1 h; test c: 2.55 In trips after > 1 s
//   latest:                 through (1.45 In, 3600 s) and (2.55 In, 60 s) — test b: 1.45 In trips within 1 h; test c: within 60 s
// straight lines in log–log space, t = 3600·(m/m0)^−k. Above the magnetic band (B 3–5 In, C 5–10 In,
// D 10–20 In: tests d, e) the trip is instantaneous (< 0.1 s): the earliest curve from the band's lower
// end, the latest from its upper end. Warnings use the earliest curve; the alert shows the range.
import type { BreakerModel } from "../../domain/campus-alerts.js";

export interface Curve {
  /** Seconds to trip from cold at a constant multiple `m` of In; Infinity when it never trips. */
  tripS(m: number): number;
}

const HOUR_S = 3600;
const INSTANT_S = 0.01;
const slope = (m0: number, t0: number, m1: number, t1: number) => Math.log(t0 / t1) / Math.log(m1 / m0);
/** IEC 60898-1 earliest: k = ln(3600/1)/ln(2.55/1.13) ≈ 10.06 (domain.md writes ≈ 10.1). */
export const EARLIEST_K = slope(1.13, HOUR_S, 2.55, 1);
/** IEC 60898-1 latest: k = ln(3600/60)/ln(2.55/1.45) ≈ 7.25. */
export const LATEST_K = slope(1.45, HOUR_S, 2.55, 60);

/** Magnetic (instantaneous) band per curve letter, multiples of In (IEC 60898-1 tests d and e). */
export const MAGNETIC_BAND: Record<"B" | "C" | "D", [number, number]> = { B: [3, 5], C: [5, 10], D: [10, 20] };

export function iecEnvelope(curve: "B" | "C" | "D" = "C"): { earliest: Curve; latest: Curve } {
  const [low, high] = MAGNETIC_BAND[curve];
  return {
    earliest: { tripS: (m) => (m >= low ? INSTANT_S : m <= 0 ? Infinity : HOUR_S * (m / 1.13) ** -EARLIEST_K) },
    latest: { tripS: (m) => (m >= high ? 0.1 : m <= 0 ? Infinity : HOUR_S * (m / 1.45) ** -LATEST_K) },
  };
}

/**
 * A manufacturer's table, [multiple of In, seconds] points read log–log (domain.md §3.2: "log–log
 * interpolation of the manufacturer's curve"); below the first point it never trips, beyond the last
 * it follows the last segment. A table without `latest` has no range.
 */
export function tableCurve(points: readonly (readonly [number, number])[]): Curve {
  return {
    tripS(m) {
      if (m < points[0]![0]) return Infinity;
      let i = 1;
      while (i < points.length - 1 && m > points[i]![0]) i += 1;
      const [m0, t0] = points[i - 1]!;
      const [m1, t1] = points[i]!;
      const k = Math.log(t1 / t0) / Math.log(m1 / m0);
      return Math.max(INSTANT_S, t0 * (m / m0) ** k);
    },
  };
}

export function modelCurves(model: BreakerModel): { earliest: Curve; latest: Curve } {
  const earliest = tableCurve(model.earliest);
  return { earliest, latest: model.latest ? tableCurve(model.latest) : earliest };
}
