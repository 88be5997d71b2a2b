// Supply voltage rules against the site's nominal phase voltage U (campus `site.nominal_voltage_v`,
// default 220 V), on the worst phase (CONTRACT §5) or `voltage_v` when only totals are sent.
// `overvoltage` — rows 14–15: > U +7 % (GB/T 12325: 235.4 V at 220 V) for 5 min ⇒ P4 (info);
//   > U +15 % (253 V; IEC 60038 +10 % of 230 V) for 60 s ⇒ major; > U +20 % (264 V, broken neutral,
//   IEC 62606 §9.22) for 5 s ⇒ critical. Clears below 233 V (U +5.9 %) for 5 min.
// `undervoltage` — row 16: < U −10 % (198 V, GB/T 12325) for 5 min ⇒ warning; < U −15 % (187 V) for
//   60 s ⇒ major; clears above 202 V for 5 min. Phases below 50 % of U are left to phase-loss (a lost
//   phase or no supply is not an undervoltage).
// `phase-loss` — row 17 (缺相), 3-phase devices: a phase < 50 % of U while the others are > 180 V, 5 s
//   ⇒ major (P1 where it feeds motors or lab equipment: override `severity` per building kind);
//   clears when all phases are > 198 V for 60 s.
import type { Static, TObject } from "@sinclair/typebox";
import type { Severity } from "../../domain/alert.js";
import { PHASES, type Reading } from "../../domain/reading.js";
import { defineRule, type Rule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, reportGapMs, stepStaged, type StagedSpec, type StagedState } from "./staged.js";
import { OvervoltageParams, UndervoltageParams, PhaseLossParams } from "../../domain/rule-params.js";

/** Phase voltages when the device sends phases, else the total `voltage_v`. */
export function voltages(reading: Reading): number[] {
  const list: number[] = [];
  for (const phase of PHASES) {
    const v = reading.phases?.[phase]?.voltage_v;
    if (v !== undefined) list.push(v);
  }
  if (list.length === 0 && reading.values.voltage_v !== undefined) list.push(reading.values.voltage_v);
  return list;
}

// Thresholds are multiples of the nominal voltage U (`_ratio`), held for `_hold_s` seconds.

/** A voltage band rule's stages and clear condition, as multiples of U. */
interface Band {
  stages: { severity: Severity; ratio: number; hold_s: number }[];
  clear_ratio: number;
  clear_hold_s: number;
  /** Phases below this × U are not judged (0 = all). */
  ignore_below_ratio: number;
}

/**
 * Over- and undervoltage: the worst phase (highest above, lowest below) against stages set as
 * multiples of the site's nominal voltage U.
 */
function voltageBandRule<P extends TObject>(id: string, params: P, direction: "above" | "below", stages: number, band: (p: Static<P>) => Band): Rule {
  return defineRule({
    id,
    params,
    appliesTo: () => true,
    initial: () => initialStaged(stages),
    onReading(state, reading, ctx): Step<StagedState> {
      const u = ctx.campus.site.nominal_voltage_v;
      const b = band(ctx.params);
      const list = voltages(reading).filter((v) => v >= b.ignore_below_ratio * u);
      if (list.length === 0) return { state };
      const worst = direction === "above" ? Math.max(...list) : Math.min(...list);
      const spec: StagedSpec = {
        stages: b.stages.map((stage) => ({ severity: stage.severity, threshold: stage.ratio * u, holdMs: stage.hold_s * 1000 })),
        direction,
        clear: b.clear_ratio * u,
        clearHoldMs: b.clear_hold_s * 1000,
        maxGapMs: reportGapMs(ctx.device),
      };
      return stepStaged(state, spec, worst, reading.ts, (stage, heldMs) => ({
        message: `${where(ctx.device, ctx.building)}: ${format(worst)} V on ${which(ctx.device)}, ${direction} ${format(spec.stages[stage]!.threshold)} V (nominal ${format(u)} V) for ${duration(heldMs)}`,
      }));
    },
  });
}

export const overvoltageRule = voltageBandRule("overvoltage", OvervoltageParams, "above", 3, (p) => ({
  stages: [
    { severity: p.warning_severity, ratio: p.warning_ratio, hold_s: p.warning_hold_s },
    { severity: "major", ratio: p.major_ratio, hold_s: p.major_hold_s },
    { severity: "critical", ratio: p.critical_ratio, hold_s: p.critical_hold_s },
  ],
  clear_ratio: p.clear_ratio,
  clear_hold_s: p.clear_hold_s,
  ignore_below_ratio: 0,
}));

export const undervoltageRule = voltageBandRule("undervoltage", UndervoltageParams, "below", 2, (p) => ({
  stages: [
    { severity: "warning", ratio: p.warning_ratio, hold_s: p.warning_hold_s },
    { severity: "major", ratio: p.major_ratio, hold_s: p.major_hold_s },
  ],
  clear_ratio: p.clear_ratio,
  clear_hold_s: p.clear_hold_s,
  ignore_below_ratio: p.ignore_below_ratio,
}));

export const phaseLossRule = defineRule({
  id: "phase-loss",
  params: PhaseLossParams,
  appliesTo: (device) => device.phases === 3,
  initial: () => initialStaged(1),
  onReading(state, reading, ctx): Step<StagedState> {
    const phases = PHASES.map((name) => [name, reading.phases?.[name]?.voltage_v] as const).filter((e): e is readonly [typeof e[0], number] => e[1] !== undefined);
    if (phases.length < 3) return { state };
    const u = ctx.campus.site.nominal_voltage_v;
    const p = ctx.params;
    const lostBelow = p.lost_ratio * u;
    const lost = phases.filter(([, v]) => v < lostBelow);
    const othersHealthy = phases.every(([, v]) => v < lostBelow || v > p.healthy_v_ratio * u);
    const allNormal = phases.every(([, v]) => v > p.clear_ratio * u);
    // 2 = a phase lost while the others are normal; 1 = neither lost nor all normal; 0 = all normal.
    const level = lost.length > 0 && lost.length < 3 && othersHealthy ? 2 : allNormal ? 0 : 1;
    const spec: StagedSpec = {
      stages: [{ severity: p.severity, threshold: 2, holdMs: p.hold_s * 1000 }],
      direction: "above",
      clear: 0.5,
      clearHoldMs: p.clear_hold_s * 1000,
      maxGapMs: reportGapMs(ctx.device),
    };
    const step = stepStaged(state, spec, level, reading.ts, (_s, heldMs) => ({
      message: `${where(ctx.device, ctx.building)}: phase ${lost.map(([n, v]) => `${n} at ${format(v)} V`).join(", ")} lost on ${which(ctx.device)} for ${duration(heldMs)} (motors at risk)`,
    }));
    if (step.verdict && "breach" in step.verdict) {
      step.verdict.breach.value = Math.min(...lost.map(([, v]) => v));
      step.verdict.breach.threshold = lostBelow;
    }
    return step;
  },
});
