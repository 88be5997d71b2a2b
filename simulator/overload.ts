// The demo's overload episode: one dorm-room breaker draws ~1.25 × its rating for ~100 s, first about
// 75 s after the simulator starts and then every 5 minutes, so a newcomer sees the `overload` rule
// (≥ 1.0 × rating_a for 60 s, clears below 0.9 × for 2 min — CONTRACT §5) open and resolve within minutes.
// The story: a banned resistive heater (PF ≈ 1) plugged in in a room (domain.md §4.1). 1.25 In is inside
// the band a breaker tolerates for up to an hour (IEC 60898-1: 1.13 In no trip, 1.45 In trip < 1 h,
// domain.md §2.1), so a real breaker would not trip either — exactly where the backend warns.
import type { Campus, Device } from "../domain/campus.js";

export interface OverloadPlan {
  deviceId: string;
  /** Event time from the simulator's start to the first episode. */
  firstStartMs: number;
  /** Event time between the starts of two episodes. */
  periodMs: number;
  rampMs: number;
  holdMs: number;
  /** Current during the hold, as a multiple of rating_a. */
  factor: number;
}

export const DEFAULT_OVERLOAD: Omit<OverloadPlan, "deviceId"> = {
  firstStartMs: 75_000,
  // 5 min: 120 s of episode, then ~180 s below 0.9 × — longer than the 2 min the alert needs to clear.
  periodMs: 300_000,
  rampMs: 10_000,
  holdMs: 100_000,
  factor: 1.25,
};

/** The first single-phase breaker of a dormitory with a rating (a room circuit), or undefined. */
export function pickOverloadDevice(campus: Campus): Device | undefined {
  return campus.devices.find(
    (d) =>
      d.kind === "breaker" &&
      d.phases === 1 &&
      d.rating_a !== undefined &&
      d.rating_a <= 20 &&
      campus.buildingById.get(d.building)?.kind === "dormitory",
  );
}

/**
 * The target current as a multiple of rating_a at `sinceStartMs` of event time, and how far into the
 * episode we are (0..1 ramp weight); null outside an episode. Ramps are linear from the circuit's own
 * load (weight 0) to the target (weight 1) so the step looks like an appliance being switched on.
 */
export function overloadAt(plan: OverloadPlan, sinceStartMs: number): { factor: number; weight: number } | null {
  if (sinceStartMs < plan.firstStartMs) return null;
  const into = (sinceStartMs - plan.firstStartMs) % plan.periodMs;
  const { rampMs, holdMs, factor } = plan;
  if (into < rampMs) return { factor, weight: into / rampMs };
  if (into < rampMs + holdMs) return { factor, weight: 1 };
  if (into < 2 * rampMs + holdMs) return { factor, weight: 1 - (into - rampMs - holdMs) / rampMs };
  return null;
}
