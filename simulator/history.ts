// A demo with a past (CONTRACT §11): the readings every device of one site would have sent over the last
// days, stamped with their own past times, so energy views and reports show days of data at once. Pure:
// the same site, seed and span give the same readings.
// - The same model as the live simulator (model.ts, physics.ts, profiles.ts), with the same seed, so each
//   device keeps its character (its load, its multiplier, its counter) from the past into the present.
// - Days are judged by the site's school calendar (domain/calendar.ts isSchoolDay): a day that is not a
//   school day (weekend, holiday, vacation) draws as the profiles' weekend does; a make-up workday (调休)
//   as a Monday. Without a calendar, Monday–Friday are school days.
// - Counters (`energy_kwh`) rise monotonically and end exactly where the live simulator starts: the live
//   model begins at each device's seeded counter, so the past is that counter minus what was used since.
//   A device whose seeded counter is smaller than what the span used had its meter reset (replaced) in the
//   span: before that point it shows its previous cycle (a decrease is a new cycle, CONTRACT §3).
// - No faults, no demo overload, no per-phase points: the past is an ordinary one, totals only (the rollups,
//   energy and reports read totals: ingest/retention.ts `phase = ''`).
import type { Campus, Device } from "../domain/campus.js";
import { isSchoolDay } from "../domain/calendar.js";
import { parseDurationMs } from "../domain/duration.js";
import type { Reading } from "../domain/reading.js";
import { NO_EFFECTS } from "./faults.js";
import { type LocalTime, localTime } from "./local-time.js";
import { type CampusModel, createCampusModel } from "./model.js";
import { nativeReading } from "./payloads.js";
import { addChild, stepElectrical, stepGrid, stepOwnLoad } from "./physics.js";

export const DAY_MS = 86_400_000;
/**
 * One reading per device per 5 minutes: a maximum-demand period is 15 minutes (the reports' `peak_kw`,
 * CONTRACT §11), so each holds three samples; and the demo district's 30 days (80 devices) stay at
 * ~0.7 million points, which InfluxDB takes well inside the 90 s the demo promises (docs/simulator.md).
 */
export const HISTORY_STEP_MS = 5 * 60_000;
/** `up --demo` without `--history`. */
export const DEFAULT_HISTORY = "14d";

export interface HistoryOptions {
  /** The live simulator's seed: the same devices, loads and counters. */
  seed: number;
  /** The span [fromMs, toMs), epoch ms; toMs is when the live simulator starts. */
  fromMs: number;
  toMs: number;
  /** Between readings, ms (default HISTORY_STEP_MS). */
  stepMs?: number;
}

/** The readings of every device of the site at one past instant. */
export interface HistoryStep {
  ts: number;
  readings: { device: Device; reading: Reading }[];
}

/**
 * `--history` → span in ms: `0` (none), or a whole number of days or hours (`14d`, `30d`, `36h`), at most
 * `maxMs` (the raw retention: InfluxDB drops, and refuses to store, points older than that).
 */
export function parseHistorySpan(text: string, maxMs: number): { ok: true; ms: number } | { ok: false; problem: string } {
  if (text.trim() === "0") return { ok: true, ms: 0 };
  const ms = parseDurationMs(text, { unitRequired: true });
  const shape = "--history takes a span of days or hours such as 14d, 30d or 36h, or 0 for none";
  if (!/^\s*\d+\s*[dh]\s*$/.test(text) || !(ms > 0)) return { ok: false, problem: `${shape} (got "${text}")` };
  if (ms > maxMs) return { ok: false, problem: `--history ${text} goes back beyond the raw retention (RAW_RETENTION_DAYS, ${maxMs / DAY_MS} days): InfluxDB would drop it` };
  return { ok: true, ms };
}

/** The grid instants of the span: multiples of the step (so a rerun writes the same timestamps), in [from, to). */
export function historyInstants(fromMs: number, toMs: number, stepMs = HISTORY_STEP_MS): number[] {
  const instants: number[] = [];
  for (let ts = Math.ceil(fromMs / stepMs) * stepMs; ts < toMs; ts += stepMs) instants.push(ts);
  return instants;
}

/**
 * The local time the profiles see: the real one on a school day from Monday to Friday; a Monday on a
 * make-up workday; a Sunday on any day without school (profiles.ts reads weekday 0 and 6 as weekend).
 */
export function asSchoolDay(site: Campus, local: LocalTime): LocalTime {
  const school = isSchoolDay(site.calendar, local.date);
  const weekend = local.weekday === 0 || local.weekday === 6;
  if (school === !weekend) return local;
  return { ...local, weekday: school ? 1 : 0 };
}

/**
 * Advances the model by one step to `toMs` as model.ts computeStep does, minus faults, overload and
 * midnight bookkeeping (none of which the past has), with the day judged by the calendar.
 */
function stepPast(model: CampusModel, site: Campus, toMs: number): void {
  const dtS = (toMs - model.nowMs) / 1000;
  const local = asSchoolDay(site, localTime(toMs, model.timezone));
  stepGrid(model, dtS, local);
  for (const state of model.order) {
    stepOwnLoad(state, toMs, dtS, local);
    for (const child of state.children) addChild(state, child);
    stepElectrical(state, model, dtS, local, NO_EFFECTS);
  }
  model.nowMs = toMs;
  model.local = local;
}

/** The model after each step over the instants, stepping as it is iterated (a fresh model per call). */
function* pastModel(site: Campus, options: HistoryOptions, instants: readonly number[]): Generator<CampusModel> {
  const stepMs = options.stepMs ?? HISTORY_STEP_MS;
  const model = createCampusModel(site, { seed: options.seed, startMs: (instants[0] ?? options.fromMs) - stepMs, stepMs });
  for (const ts of instants) {
    stepPast(model, site, ts);
    yield model;
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Steps of the first pass between two `null`s (a simulated day at 5-minute steps). */
const STEPS_PER_PAUSE = 288;

/**
 * The site's past, one step at a time (lazily: 30 days of a district need not sit in memory). The model
 * runs twice with the same seed: once to learn what each counter used over the span, then to emit. The
 * first pass yields `null` after every simulated day, so a caller on an event loop can let others run
 * (a month of a school takes seconds of CPU; the live view must not wait for it).
 */
export function* historyOfSite(site: Campus, options: HistoryOptions): Generator<HistoryStep | null> {
  const instants = historyInstants(options.fromMs, options.toMs, options.stepMs);
  const firstKwh = new Map<string, number>();
  const usedKwh = new Map<string, number>();
  let stepsDone = 0;
  for (const model of pastModel(site, options, instants)) {
    if (++stepsDone % STEPS_PER_PAUSE === 0) yield null;
    for (const state of model.order) {
      if (!firstKwh.has(state.device.id)) firstKwh.set(state.device.id, state.energyKwh);
      usedKwh.set(state.device.id, state.energyKwh - firstKwh.get(state.device.id)!);
    }
  }
  // A fresh model holds each device's seeded counter: where the live simulator starts it.
  const live = createCampusModel(site, { seed: options.seed, startMs: options.toMs });
  for (const model of pastModel(site, options, instants)) {
    const readings: HistoryStep["readings"] = site.devices.map((device) => {
      const state = model.byId.get(device.id)!;
      const { ts: _iso, phases: _phases, ...values } = nativeReading(model, device.id);
      if (values.energy_kwh !== undefined) {
        // The counter then: the live start minus what was used since; below zero, the cycle before a reset.
        const usedSince = usedKwh.get(device.id)! - (state.energyKwh - firstKwh.get(device.id)!);
        const counter = live.byId.get(device.id)!.energyKwh - usedSince;
        values.energy_kwh = round3(counter >= 0 ? counter : state.energyKwh);
      }
      return { device, reading: { device: device.id, ts: model.nowMs, values } };
    });
    yield { ts: model.nowMs, readings };
  }
}
