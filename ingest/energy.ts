// Energy from a device's cumulative counter (energy_kwh), as positive deltas. Pure: state in, state out.
// The rules (docs/ingest.md "Energy"; the complaints they answer: shared/reference/anchors.md §4.2):
// - delta = this reading's counter − the previous reading's (by timestamp, not by arrival);
// - a decrease starts a new counter cycle: that reading's delta is 0, never negative;
// - a drop followed, within GLITCH_WINDOW_MS, by a value back at or above the level before the drop
//   was a glitch (a register read as 0 for a moment): the delta is measured from the level before the
//   drop, so the whole register is never booked again (home-assistant/core#55901, SpanPanel/span#87);
//   a zero after a reboot therefore never resets history: deltas only ever add;
// - a gap is not consumption: nothing is written for the time without readings (no zeros, no
//   interpolation); the first reading after a gap carries what the meter counted meanwhile, unless
//   that implies an average power above MAX_PLAUSIBLE_KW, which is a counter jump (delta 0, new cycle);
// - out of order: a reading inserted between two known ones gets its delta from its predecessor, and
//   its successor is re-emitted with a corrected delta (same series + timestamp: InfluxDB overwrites the
//   field), so the sum over the series stays the counter's true increase;
// - the same reading again (redelivery, replay) yields the same delta.
// Each device keeps its last WINDOW readings; a reading older than all of them gets no delta.

export const WINDOW = 16;
export const GLITCH_WINDOW_MS = 60 * 60_000;
/** 500 kW: above any single campus feeder (a 630 A three-phase incomer at 400 V is ~440 kW). */
export const MAX_PLAUSIBLE_KW = 500;

export interface CounterReading {
  ts: number;
  kwh: number;
  /** The delta this reading was written with (null: none, first of its window). */
  delta: number | null;
}

export type EnergyState = Record<string, CounterReading[]>;

export interface DeltaOut {
  key: string;
  ts: number;
  delta: number;
}

export type Anomaly = "decrease" | "glitch" | "implausible";

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * Records one counter reading of series `key`; returns the deltas to write: this reading's (if it has a
 * predecessor) and corrections for later readings whose delta changed. Mutates `state` (owned by the caller).
 */
export function observeCounter(state: EnergyState, key: string, ts: number, kwh: number, anomalies: Anomaly[] = []): DeltaOut[] {
  const window = (state[key] ??= []);
  const existing = window.findIndex((r) => r.ts === ts);
  if (existing >= 0 && window[existing]!.kwh === kwh) {
    const delta = window[existing]!.delta;
    return delta === null ? [] : [{ key, ts, delta }];
  }
  if (existing >= 0) window.splice(existing, 1);
  if (window.length >= WINDOW && ts < window[0]!.ts) return [];
  let index = window.findIndex((r) => r.ts > ts);
  if (index < 0) index = window.length;
  window.splice(index, 0, { ts, kwh, delta: null });
  const out: DeltaOut[] = [];
  // Recompute from the inserted reading on: the glitch rule looks back, so later deltas may change.
  for (let i = Math.max(index, 1); i < window.length; i++) {
    const delta = deltaAt(window, i, i === index ? anomalies : []);
    if (i === index || delta !== window[i]!.delta) {
      window[i]!.delta = delta;
      out.push({ key, ts: window[i]!.ts, delta });
    }
  }
  while (window.length > WINDOW) window.shift();
  return out;
}

function deltaAt(window: CounterReading[], i: number, anomalies: Anomaly[]): number {
  const current = window[i]!;
  const previous = window[i - 1]!;
  if (current.kwh < previous.kwh) {
    anomalies.push("decrease");
    return 0;
  }
  // Back at or above the level before the latest drop within the glitch window: measure from that level.
  let reference = previous.kwh;
  for (let j = i - 1; j >= 1; j--) {
    const after = window[j]!;
    const before = window[j - 1]!;
    if (current.ts - after.ts > GLITCH_WINDOW_MS) break;
    if (after.kwh < before.kwh) {
      if (current.kwh >= before.kwh) {
        reference = Math.max(before.kwh, previous.kwh);
        anomalies.push("glitch");
      }
      break;
    }
  }
  const delta = round(current.kwh - reference);
  const hours = (current.ts - previous.ts) / 3_600_000;
  if (hours > 0 && delta / hours > MAX_PLAUSIBLE_KW && delta > 1) {
    anomalies.push("implausible");
    return 0;
  }
  return delta;
}
