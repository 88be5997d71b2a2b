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
import { defineRule, type Step } from "../types.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, reportGapMs, stepStaged, type StagedSpec, type StagedState } from "./staged.js";
import { LeakageParams, OvertemperatureParams } from "../../domain/rule-params.js";

export const leakageRule = defineRule({
  id: "leakage",
  params: LeakageParams,
  appliesTo: (device) => device.rcd_ma !== undefined,
  initial: () => initialStaged(2),
  onReading(state, reading, ctx): Step<StagedState> {
    const leakage = reading.values.leakage_ma;
    if (leakage === undefined) return { state };
    const p = ctx.params;
    const rcd = ctx.device.rcd_ma!;
    const feeder = rcd >= p.feeder_rcd_ma;
    const maxGapMs = reportGapMs(ctx.device);
    const spec: StagedSpec = feeder
      ? {
          stages: [
            { severity: "warning", threshold: p.feeder_prewarn_ma, holdMs: p.feeder_prewarn_hold_s * 1000 },
            { severity: "critical", threshold: p.feeder_alarm_ma, holdMs: 0, samples: p.feeder_alarm_samples, latched: true },
          ],
          direction: "above",
          clear: p.feeder_clear_ma,
          clearHoldMs: p.feeder_clear_hold_s * 1000,
          maxGapMs,
        }
      : {
          stages: [
            { severity: "warning", threshold: p.warning_ratio * rcd, holdMs: p.warning_hold_s * 1000 },
            { severity: "major", threshold: p.major_ratio * rcd, holdMs: p.major_hold_s * 1000 },
          ],
          direction: "above",
          clear: p.clear_ratio * rcd,
          clearHoldMs: p.clear_hold_s * 1000,
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

export const overtemperatureRule = defineRule({
  id: "overtemperature",
  params: OvertemperatureParams,
  appliesTo: () => true,
  initial: () => initialStaged(3),
  onReading(state, reading, ctx): Step<StagedState> {
    const temperature = reading.values.temperature_c;
    if (temperature === undefined) return { state };
    const p = ctx.params;
    const holdMs = p.hold_s * 1000;
    const spec: StagedSpec = {
      stages: [
        { severity: "warning", threshold: p.warning_c, holdMs },
        { severity: "major", threshold: p.major_c, holdMs },
        { severity: "critical", threshold: p.critical_c, holdMs: 0, latched: true },
      ],
      direction: "above",
      clear: p.warning_c - p.clear_delta_c,
      clearHoldMs: p.clear_hold_s * 1000,
      maxGapMs: reportGapMs(ctx.device),
    };
    return stepStaged(state, spec, temperature, reading.ts, (stage, heldMs) => ({
      message:
        `${where(ctx.device, ctx.building)}: ${which(ctx.device)} at ${format(temperature)} °C, at or above ${format(spec.stages[stage]!.threshold)} °C` +
        (heldMs > 0 ? ` for ${duration(heldMs)}` : "") + (stage === 2 ? " — fire risk; latched until acknowledged" : ""),
    }));
  },
});
