// Fire-related analogue rules (domain.md §2.3–2.4, §8 rows 9–12).
// `leakage` on a device with `rcd_ma` (IΔn):
//   final circuit: ≥ 0.5 × IΔn for 60 s ⇒ warning (row 9: an RCD must hold below 0.5 IΔn, IEC 61008/61009);
//                  ≥ 0.8 × IΔn for 10 s ⇒ major (row 10: trip imminent); clears < 0.33 × IΔn for 10 min.
//   feeder (rcd_ma ≥ 300, the GB 50116 §9.2 residual-current fire detector at the first board):
//                  ≥ 200 mA for 5 min ⇒ warning (pre-warn); ≥ 300 mA in 2 consecutive samples ⇒ critical,
//                  latched (row 11: GB 50116-2013 §9.2.3 300–500 mA; alarm ≤ 30 s, GB 50166); clears < 250 mA for 10 min + ack.
// `overtemperature`: ≥ 65 / 75 °C for 60 s ⇒ warning / major; ≥ 85 °C at once ⇒ critical, latched
//   (row 12: PVC 70 °C continuous; GB 14287.3 alarm ≤ 40 s); clears 5 K below the warning threshold for 5 min.
// Notify only — never switch a circuit off (GB 50116 §9.1.6).
import { defineRule, type Rule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, num, stepStaged, type StagedSpec, type StagedState } from "./staged.js";

export const LEAKAGE_DEFAULTS = Object.freeze({
  warning_ratio: 0.5,
  warning_hold_s: 60,
  major_ratio: 0.8,
  major_hold_s: 10,
  clear_ratio: 0.33,
  clear_hold_s: 600,
  feeder_rcd_ma: 300,
  feeder_alarm_ma: 300,
  feeder_alarm_samples: 2,
  feeder_prewarn_ma: 200,
  feeder_prewarn_hold_s: 300,
  feeder_clear_ma: 250,
  feeder_clear_hold_s: 600,
});

export function leakageRule(overrides: Partial<typeof LEAKAGE_DEFAULTS> = {}): Rule<unknown> {
  return defineRule<StagedState>({
    id: "leakage",
    defaults: { ...LEAKAGE_DEFAULTS, ...overrides },
    appliesTo: (device) => device.rcd_ma !== undefined,
    initial: () => initialStaged(2),
    onReading(state, reading, ctx): Step<StagedState> {
      const leakage = reading.values.leakage_ma;
      if (leakage === undefined) return { state };
      const p = ctx.params;
      const rcd = ctx.device.rcd_ma!;
      const feeder = rcd >= num(p.feeder_rcd_ma, 300);
      const maxGapMs = 3 * ctx.device.report_interval_s * 1000;
      const spec: StagedSpec = feeder
        ? {
            stages: [
              { severity: "warning", threshold: num(p.feeder_prewarn_ma, 200), holdMs: num(p.feeder_prewarn_hold_s, 300) * 1000 },
              { severity: "critical", threshold: num(p.feeder_alarm_ma, 300), holdMs: 0, samples: num(p.feeder_alarm_samples, 2), latched: true },
            ],
            direction: "above",
            clear: num(p.feeder_clear_ma, 250),
            clearHoldMs: num(p.feeder_clear_hold_s, 600) * 1000,
            maxGapMs,
          }
        : {
            stages: [
              { severity: "warning", threshold: num(p.warning_ratio, 0.5) * rcd, holdMs: num(p.warning_hold_s, 60) * 1000 },
              { severity: "major", threshold: num(p.major_ratio, 0.8) * rcd, holdMs: num(p.major_hold_s, 10) * 1000 },
            ],
            direction: "above",
            clear: num(p.clear_ratio, 0.33) * rcd,
            clearHoldMs: num(p.clear_hold_s, 600) * 1000,
            maxGapMs,
          };
      return stepStaged(state, spec, leakage, reading.ts, (stage, heldMs) => ({
        message:
          `${where(ctx.device, ctx.building)}: ${feeder && stage === 1 ? "residual-current fire alarm" : "leakage"} ${format(leakage)} mA on ${which(ctx.device)} ` +
          `(rated ${format(rcd)} mA), at or above ${format(spec.stages[stage]!.threshold)} mA for ${duration(heldMs)}` +
          (feeder && stage === 1 ? " — inspect now; latched until acknowledged" : ""),
      }));
    },
  });
}

export const OVERTEMPERATURE_DEFAULTS = Object.freeze({ warning_c: 65, major_c: 75, critical_c: 85, hold_s: 60, clear_delta_c: 5, clear_hold_s: 300 });

export function overtemperatureRule(overrides: Partial<typeof OVERTEMPERATURE_DEFAULTS> = {}): Rule<unknown> {
  return defineRule<StagedState>({
    id: "overtemperature",
    defaults: { ...OVERTEMPERATURE_DEFAULTS, ...overrides },
    appliesTo: () => true,
    initial: () => initialStaged(3),
    onReading(state, reading, ctx): Step<StagedState> {
      const temperature = reading.values.temperature_c;
      if (temperature === undefined) return { state };
      const p = ctx.params;
      const holdMs = num(p.hold_s, 60) * 1000;
      const warning = num(p.warning_c, 65);
      const spec: StagedSpec = {
        stages: [
          { severity: "warning", threshold: warning, holdMs },
          { severity: "major", threshold: num(p.major_c, 75), holdMs },
          { severity: "critical", threshold: num(p.critical_c, 85), holdMs: 0, latched: true },
        ],
        direction: "above",
        clear: warning - num(p.clear_delta_c, 5),
        clearHoldMs: num(p.clear_hold_s, 300) * 1000,
        maxGapMs: 3 * ctx.device.report_interval_s * 1000,
      };
      return stepStaged(state, spec, temperature, reading.ts, (stage, heldMs) => ({
        message:
          `${where(ctx.device, ctx.building)}: ${which(ctx.device)} at ${format(temperature)} °C, at or above ${format(spec.stages[stage]!.threshold)} °C` +
          (heldMs > 0 ? ` for ${duration(heldMs)}` : "") + (stage === 2 ? " — fire risk; latched until acknowledged" : ""),
      }));
    },
  });
}
