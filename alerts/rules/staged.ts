// The shape most rules of domain.md §8 share, pure: one measured value against one or more stages
// (warning → major → critical), each with its own threshold and on-delay ("for"), and one clear
// condition with its own threshold and minimum time (hysteresis + off-delay, OPC UA Part 9 B.1.5).
// All durations are event time. Two samples further apart than `maxGapMs` do not prove the value held
// in between: every delay restarts (the same 3 × report interval that makes a device offline).
import type { Severity } from "../../domain/alert.js";
import type { Breach, Step, Verdict } from "../types.js";

export interface Stage {
  severity: Severity;
  threshold: number;
  holdMs: number;
  /** Consecutive samples beyond the threshold also required (feeder residual current: 2, domain.md row 11). */
  samples?: number;
  latched?: boolean;
}

export interface StagedSpec {
  /** Least severe first. */
  stages: Stage[];
  /** "above": breach at value ≥ threshold, clear below `clear`; "below": the mirror image. */
  direction: "above" | "below";
  clear: number;
  clearHoldMs: number;
  maxGapMs: number;
}

export interface StagedState {
  /** Per stage: event time since which the value has been beyond its threshold, or null. */
  since: (number | null)[];
  /** Per stage: consecutive samples beyond its threshold. */
  count: number[];
  /** Event time since which the value has been beyond the clear threshold while active, or null. */
  clearSince: number | null;
  lastTs: number | null;
  active: boolean;
}

export const initialStaged = (stages: number): StagedState => ({ since: Array(stages).fill(null), count: Array(stages).fill(0), clearSince: null, lastTs: null, active: false });

/**
 * One sample. `describe(stage, heldMs)` writes the message of a breach at that stage (index into
 * `spec.stages`). The lifecycle keeps the worst severity reached, so falling back to a lower stage
 * never lowers the alert.
 */
export function stepStaged(
  state: StagedState,
  spec: StagedSpec,
  value: number,
  ts: number,
  describe: (stage: number, heldMs: number) => Pick<Breach, "message"> & Partial<Breach>,
): Step<StagedState> {
  const sign = spec.direction === "above" ? 1 : -1;
  const gapped = state.lastTs !== null && ts - state.lastTs > spec.maxGapMs;
  const since = spec.stages.map((stage, i) => (sign * value >= sign * stage.threshold ? ((gapped ? null : state.since[i]) ?? ts) : null));
  const count = spec.stages.map((stage, i) => (sign * value >= sign * stage.threshold ? (gapped ? 0 : (state.count[i] ?? 0)) + 1 : 0));
  let reached = -1;
  spec.stages.forEach((stage, i) => {
    const start = since[i];
    if (start !== null && start !== undefined && ts - start >= stage.holdMs && count[i]! >= (stage.samples ?? 1)) reached = i;
  });
  if (reached >= 0) {
    const stage = spec.stages[reached]!;
    const text = describe(reached, ts - since[reached]!);
    const breach: Breach = { severity: stage.severity, value, threshold: stage.threshold, at: ts, ...text, ...(stage.latched ? { latched: true } : {}) };
    return { state: { since, count, clearSince: null, lastTs: ts, active: true }, verdict: { breach } };
  }
  if (!state.active) return { state: { since, count, clearSince: null, lastTs: ts, active: false } };
  if (sign * value < sign * spec.clear) {
    const clearSince = (gapped ? null : state.clearSince) ?? ts;
    if (ts - clearSince >= spec.clearHoldMs) {
      const verdict: Verdict = { clear: { at: ts } };
      return { state: { since, count, clearSince: null, lastTs: ts, active: false }, verdict };
    }
    return { state: { since, count, clearSince, lastTs: ts, active: true } };
  }
  // Hysteresis band: neither opens nor clears, and breaks the clear delay.
  return { state: { since, count, clearSince: null, lastTs: ts, active: true } };
}

/** The `maxGapMs` of `intervals` × the device's campus-file report interval, ms. */
export const reportGapMs = (device: { report_interval_s: number }, intervals = 3): number => intervals * device.report_interval_s * 1000;
