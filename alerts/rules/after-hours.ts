// `after-hours` — domain.md §8 row 24, §4.4 (the quiescent-threshold method; JGJ 310 energy
// management): a classroom or office building's feeder (a device of that building with no parent)
// drawing above its night baseline outside the building kind's weekly occupied schedule (on the site's
// school days only, CONTRACT §11: a holiday or a vacation is after hours all day) for 30 min
// ⇒ info (P4: a finding for the daily digest, not a page). Baseline: the 10th percentile of the power
// between 02:00 and 04:00 local time, averaged over the last 7 nights, + 20 %, at least 50 W (or a
// fixed `baseline_w`). Until one night has been seen there is no baseline and no alert. Clears below
// the threshold for 15 min, or at once when the schedule resumes.
import { isOccupiedAt, occupancyOf } from "../../domain/occupancy.js";
import { wallClock } from "../../domain/time-zone.js";
import { defineRule, type Step } from "../types.js";
import { activePower } from "./dormitory.js";
import { duration, format, where, which } from "./describe.js";
import { initialStaged, stepStaged, type StagedState } from "./staged.js";
import { AfterHoursParams } from "../../domain/rule-params.js";

export interface AfterHoursState {
  staged: StagedState;
  /** Local date of the night being sampled, and its samples (W). */
  night: string | null;
  samples: number[];
  /** P10 of each of the last nights (W), newest last. */
  nights: number[];
}

const MAX_SAMPLES = 2_000;
const NIGHTS_KEPT = 7;

const p10 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.1)] ?? 0;

export const afterHoursRule = defineRule({
  id: "after-hours",
  params: AfterHoursParams,
  appliesTo: (device, building, campus) =>
    occupancyOf(campus, building.kind) !== null &&
    (device.parent === null || campus.deviceById.get(device.parent)?.building !== device.building),
  initial: (): AfterHoursState => ({ staged: initialStaged(1), night: null, samples: [], nights: [] }),
  onReading(state, reading, ctx): Step<AfterHoursState> {
    const power = activePower(reading);
    if (power === undefined) return { state };
    const p = ctx.params;
    const clock = wallClock(reading.ts, ctx.campus.site.timezone);
    const date = `${clock.year}-${clock.month}-${clock.day}`;
    let { night, samples, nights } = state;
    if (clock.hour >= p.night_from_h && clock.hour < p.night_to_h) {
      if (night !== date) {
        if (samples.length > 0) nights = [...nights, p10(samples)].slice(-NIGHTS_KEPT);
        night = date;
        samples = [];
      }
      if (samples.length < MAX_SAMPLES) samples = [...samples, power];
    } else if (samples.length > 0) {
      nights = [...nights, p10(samples)].slice(-NIGHTS_KEPT);
      samples = [];
      night = null;
    }
    const learned = nights.length > 0 ? nights.reduce((a, b) => a + b, 0) / nights.length : null;
    const baseline = p.baseline_w > 0 ? p.baseline_w : learned;
    const base = { ...state, night, samples, nights };
    // Its own site's hours and school calendar (ctx.campus is the device's site): on a holiday, all day after hours.
    const occupancy = occupancyOf(ctx.campus, ctx.building.kind);
    const occupied = occupancy !== null && isOccupiedAt(occupancy, clock);
    if (baseline === null || occupied) {
      // The schedule resumed (or nothing to judge by): the finding is over at once.
      const wasActive = state.staged.active;
      const staged = { ...initialStaged(1), lastTs: reading.ts };
      return wasActive ? { state: { ...base, staged }, verdict: { clear: { at: reading.ts } } } : { state: { ...base, staged } };
    }
    const threshold = Math.max(p.min_w, baseline * (1 + p.baseline_margin));
    const spec = {
      stages: [{ severity: p.severity, threshold, holdMs: p.hold_s * 1000 }],
      direction: "above" as const,
      clear: threshold,
      clearHoldMs: p.clear_hold_s * 1000,
      maxGapMs: 3 * ctx.reportIntervalMs,
    };
    const step = stepStaged(state.staged, spec, power, reading.ts, (_s, heldMs) => ({
      message:
        `${where(ctx.device, ctx.building)}: ${format(power)} W through ${which(ctx.device)} outside the occupied schedule for ${duration(heldMs)}, ` +
        `above the night baseline ${format(baseline)} W + ${Math.round(p.baseline_margin * 100)} %`,
    }));
    return { state: { ...base, staged: step.state }, ...(step.verdict ? { verdict: step.verdict } : {}) };
  },
});
