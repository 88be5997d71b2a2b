// Dormitory room rules (domain.md §4.1–4.2), on the room's breaker (a breaker with a room in a
// dormitory building):
// `power-limit` — row 7: P above the room limit (default 1000 W; schools use 500–1500 W) for 10 s
//   (Tasmota MaxPowerHold), clears below 90 % of the limit for 60 s. P3 (warning).
// `malignant-load` — row 8 (恶性负载): a step ΔP ≥ 300 W whose incremental power factor
//   PF_Δ = ΔP / √(ΔP² + ΔQ²) ≥ 0.95 (a resistive heater, Hart 1992 NILM) held 10 s; clears when P is
//   back within 50 W of the pre-step baseline for 60 s. Steps inside a permitted appliance's power band
//   (`alerts.allowed_appliances`, e.g. a water dispenser) are skipped. P3, P2 when repeated ≥ 3 a day.
import type { Reading } from "../../domain/reading.js";
import { PHASES } from "../../domain/reading.js";
import { defineRule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, reportGapMs, stepStaged, type StagedState } from "./staged.js";
import { PowerLimitParams, MalignantLoadParams } from "../../domain/rule-params.js";

const isRoomBreaker = (device: { kind: string; room: string | null; phases: number }, building: { kind: string }) =>
  building.kind === "dormitory" && device.kind === "breaker" && device.room !== null && device.phases === 1;

/** Active power: `power_w`, else the sum of the phases, else V · I · PF (PF 1 when unknown). */
export function activePower(reading: Reading): number | undefined {
  if (reading.values.power_w !== undefined) return reading.values.power_w;
  let sum: number | undefined;
  for (const phase of PHASES) {
    const p = reading.phases?.[phase]?.power_w;
    if (p !== undefined) sum = (sum ?? 0) + p;
  }
  if (sum !== undefined) return sum;
  const { voltage_v: v, current_a: i, power_factor: pf } = reading.values;
  return v !== undefined && i !== undefined ? v * i * Math.abs(pf ?? 1) : undefined;
}

/** Reactive power from the power factor, else from S = V · I; undefined when neither is known. */
export function reactivePower(reading: Reading, p: number): number | undefined {
  const { voltage_v: v, current_a: i, power_factor: pf } = reading.values;
  if (pf !== undefined && pf !== 0) return Math.abs(p) * Math.tan(Math.acos(Math.min(1, Math.abs(pf))));
  if (v !== undefined && i !== undefined) return Math.sqrt(Math.max(0, (v * i) ** 2 - p ** 2));
  return undefined;
}

export const powerLimitRule = defineRule({
  id: "power-limit",
  params: PowerLimitParams,
  appliesTo: isRoomBreaker,
  initial: () => initialStaged(1),
  onReading(state, reading, ctx): Step<StagedState> {
    const power = activePower(reading);
    if (power === undefined) return { state };
    const p = ctx.params;
    const spec = {
      stages: [{ severity: p.severity, threshold: p.limit_w, holdMs: p.hold_s * 1000 }],
      direction: "above" as const,
      clear: p.clear_ratio * p.limit_w,
      clearHoldMs: p.clear_hold_s * 1000,
      maxGapMs: reportGapMs(ctx.device, p.max_gap_intervals),
    };
    return stepStaged(state, spec, power, reading.ts, (_s, heldMs) => ({
      message: `${where(ctx.device, ctx.building)}: room draws ${format(power)} W through ${which(ctx.device)}, above its ${format(p.limit_w)} W power limit for ${duration(heldMs)}`,
    }));
  },
});

export interface MalignantState {
  /** The pre-step steady load. */
  baseP: number | null;
  baseQ: number;
  /** A resistive step seen at this event time, waiting for its hold; null when none. */
  stepAt: number | null;
  stepW: number;
  stepPf: number;
  clearSince: number | null;
  active: boolean;
  /** Event times of recent openings (for "repeated ≥ 3 a day"). */
  openings: number[];
}

const DAY_MS = 86_400_000;

export const malignantLoadRule = defineRule({
  id: "malignant-load",
  params: MalignantLoadParams,
  appliesTo: isRoomBreaker,
  initial: (): MalignantState => ({ baseP: null, baseQ: 0, stepAt: null, stepW: 0, stepPf: 0, clearSince: null, active: false, openings: [] }),
  onReading(state, reading, ctx): Step<MalignantState> {
    const power = activePower(reading);
    if (power === undefined) return { state };
    const q = reactivePower(reading, power);
    const p = ctx.params;
    const ts = reading.ts;
    const rebase = (s: MalignantState): MalignantState => ({ ...s, baseP: power, baseQ: q ?? 0, stepAt: null, clearSince: null });
    if (state.baseP === null) return { state: rebase(state) };
    if (state.active) {
      if (power <= state.baseP + p.clear_margin_w) {
        const clearSince = state.clearSince ?? ts;
        if (ts - clearSince >= p.clear_hold_s * 1000) return { state: rebase({ ...state, active: false }), verdict: { clear: { at: ts } } };
        return { state: { ...state, clearSince } };
      }
      return { state: state.clearSince === null ? state : { ...state, clearSince: null } };
    }
    const stepMin = p.step_w;
    const deltaP = power - state.baseP;
    if (state.stepAt !== null) {
      if (deltaP < stepMin * 0.5) return { state: rebase(state) }; // gone before its hold: not a steady load
      if (ts - state.stepAt < p.hold_s * 1000) return { state };
      const openings = [...state.openings.filter((t) => t > ts - DAY_MS), ts];
      const repeated = openings.length >= p.repeats_per_day;
      const severity = repeated ? p.repeat_severity : p.severity;
      const message =
        `${where(ctx.device, ctx.building)}: a resistive load of ${format(state.stepW)} W (incremental power factor ${state.stepPf.toFixed(2)}) ` +
        `switched on behind ${which(ctx.device)} — a banned heating appliance?${repeated ? ` (${openings.length} times in 24 h)` : ""}`;
      return {
        state: { ...state, active: true, openings, clearSince: null },
        verdict: { breach: { severity, value: Math.round(state.stepW), threshold: stepMin, at: ts, message } },
      };
    }
    if (deltaP >= stepMin && q !== undefined) {
      const deltaQ = q - state.baseQ;
      const pfDelta = deltaP / Math.hypot(deltaP, deltaQ);
      const allowed = ctx.campus.alerts.allowedAppliances.some((a) => deltaP >= a.min_w && deltaP <= a.max_w);
      if (pfDelta >= p.incremental_pf && !allowed) return { state: { ...state, stepAt: ts, stepW: deltaP, stepPf: pfDelta } };
    }
    return { state: rebase(state) };
  },
});
