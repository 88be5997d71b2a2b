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
import { PHASES, type Reading } from "../../domain/reading.js";
import { defineRule, type Rule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, num, sev, stepStaged, type StagedSpec, type StagedState } from "./staged.js";

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

export const OVERVOLTAGE_DEFAULTS = Object.freeze({
  warning_ratio: 1.07,
  warning_hold_s: 300,
  warning_severity: "info",
  major_ratio: 1.15,
  major_hold_s: 60,
  critical_ratio: 1.2,
  critical_hold_s: 5,
  clear_ratio: 1.059,
  clear_hold_s: 300,
});

export const UNDERVOLTAGE_DEFAULTS = Object.freeze({
  warning_ratio: 0.9,
  warning_hold_s: 300,
  major_ratio: 0.85,
  major_hold_s: 60,
  clear_ratio: 0.918,
  clear_hold_s: 300,
  ignore_below_ratio: 0.5,
});

export function overvoltageRule(overrides: Partial<typeof OVERVOLTAGE_DEFAULTS> = {}): Rule<unknown> {
  return defineRule<StagedState>({
    id: "overvoltage",
    defaults: { ...OVERVOLTAGE_DEFAULTS, ...overrides },
    appliesTo: () => true,
    initial: () => initialStaged(3),
    onReading(state, reading, ctx): Step<StagedState> {
      const list = voltages(reading);
      if (list.length === 0) return { state };
      const worst = Math.max(...list);
      const u = ctx.campus.site.nominal_voltage_v;
      const p = ctx.params;
      const spec: StagedSpec = {
        stages: [
          { severity: sev(p.warning_severity, "info"), threshold: num(p.warning_ratio, 1.07) * u, holdMs: num(p.warning_hold_s, 300) * 1000 },
          { severity: "major", threshold: num(p.major_ratio, 1.15) * u, holdMs: num(p.major_hold_s, 60) * 1000 },
          { severity: "critical", threshold: num(p.critical_ratio, 1.2) * u, holdMs: num(p.critical_hold_s, 5) * 1000 },
        ],
        direction: "above",
        clear: num(p.clear_ratio, 1.059) * u,
        clearHoldMs: num(p.clear_hold_s, 300) * 1000,
        maxGapMs: 3 * ctx.device.report_interval_s * 1000,
      };
      return stepStaged(state, spec, worst, reading.ts, (stage, heldMs) => ({
        message: `${where(ctx.device, ctx.building)}: ${format(worst)} V on ${which(ctx.device)}, above ${format(spec.stages[stage]!.threshold)} V (nominal ${format(u)} V) for ${duration(heldMs)}`,
      }));
    },
  });
}

export function undervoltageRule(overrides: Partial<typeof UNDERVOLTAGE_DEFAULTS> = {}): Rule<unknown> {
  return defineRule<StagedState>({
    id: "undervoltage",
    defaults: { ...UNDERVOLTAGE_DEFAULTS, ...overrides },
    appliesTo: () => true,
    initial: () => initialStaged(2),
    onReading(state, reading, ctx): Step<StagedState> {
      const u = ctx.campus.site.nominal_voltage_v;
      const p = ctx.params;
      const list = voltages(reading).filter((v) => v >= num(p.ignore_below_ratio, 0.5) * u);
      if (list.length === 0) return { state };
      const worst = Math.min(...list);
      const spec: StagedSpec = {
        stages: [
          { severity: "warning", threshold: num(p.warning_ratio, 0.9) * u, holdMs: num(p.warning_hold_s, 300) * 1000 },
          { severity: "major", threshold: num(p.major_ratio, 0.85) * u, holdMs: num(p.major_hold_s, 60) * 1000 },
        ],
        direction: "below",
        clear: num(p.clear_ratio, 0.918) * u,
        clearHoldMs: num(p.clear_hold_s, 300) * 1000,
        maxGapMs: 3 * ctx.device.report_interval_s * 1000,
      };
      return stepStaged(state, spec, worst, reading.ts, (stage, heldMs) => ({
        message: `${where(ctx.device, ctx.building)}: ${format(worst)} V on ${which(ctx.device)}, below ${format(spec.stages[stage]!.threshold)} V (nominal ${format(u)} V) for ${duration(heldMs)}`,
      }));
    },
  });
}

export const PHASE_LOSS_DEFAULTS = Object.freeze({ lost_ratio: 0.5, healthy_v_ratio: 0.818, hold_s: 5, clear_ratio: 0.9, clear_hold_s: 60, severity: "major" });

export function phaseLossRule(overrides: Partial<typeof PHASE_LOSS_DEFAULTS> = {}): Rule<unknown> {
  return defineRule<StagedState>({
    id: "phase-loss",
    defaults: { ...PHASE_LOSS_DEFAULTS, ...overrides },
    appliesTo: (device) => device.phases === 3,
    initial: () => initialStaged(1),
    onReading(state, reading, ctx): Step<StagedState> {
      const phases = PHASES.map((name) => [name, reading.phases?.[name]?.voltage_v] as const).filter((e): e is readonly [typeof e[0], number] => e[1] !== undefined);
      if (phases.length < 3) return { state };
      const u = ctx.campus.site.nominal_voltage_v;
      const p = ctx.params;
      const lost = phases.filter(([, v]) => v < num(p.lost_ratio, 0.5) * u);
      const othersHealthy = phases.every(([, v]) => v < num(p.lost_ratio, 0.5) * u || v > num(p.healthy_v_ratio, 0.818) * u);
      const allNormal = phases.every(([, v]) => v > num(p.clear_ratio, 0.9) * u);
      // 2 = a phase lost while the others are normal; 1 = neither lost nor all normal; 0 = all normal.
      const level = lost.length > 0 && lost.length < 3 && othersHealthy ? 2 : allNormal ? 0 : 1;
      const spec: StagedSpec = {
        stages: [{ severity: sev(p.severity, "major"), threshold: 2, holdMs: num(p.hold_s, 5) * 1000 }],
        direction: "above",
        clear: 0.5,
        clearHoldMs: num(p.clear_hold_s, 60) * 1000,
        maxGapMs: 3 * ctx.device.report_interval_s * 1000,
      };
      const step = stepStaged(state, spec, level, reading.ts, (_s, heldMs) => ({
        message: `${where(ctx.device, ctx.building)}: phase ${lost.map(([n, v]) => `${n} at ${format(v)} V`).join(", ")} lost on ${which(ctx.device)} for ${duration(heldMs)} (motors at risk)`,
      }));
      if (step.verdict && "breach" in step.verdict) {
        const worst = Math.min(...lost.map(([, v]) => v));
        step.verdict.breach.value = worst;
        step.verdict.breach.threshold = num(p.lost_ratio, 0.5) * u;
      }
      return step;
    },
  });
}
