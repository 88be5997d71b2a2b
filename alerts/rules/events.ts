// Rules on device events (CONTRACT §3 `events`), latched until an operator acknowledges
// (domain.md §8 "Latching"; GB 14287 / GB 31252 devices hold the alarm until manual reset).
// `device-trip` — rows 1 and 3: the breaker reports a trip. Short circuit ⇒ critical (P1; no remote
//   re-close until inspected); any other reason ⇒ major (P2), critical when it is the 3rd trip in 24 h.
//   The condition holds while the breaker stays open: it clears on a later reading that shows it
//   closed (`switch_on: true`, or current flowing when the device does not report the switch).
// `arc-fault` — row 2: the device reports an arc (its detector counted ≥ 14 arcing half-cycles in 1 s,
//   GB 50166 §4.8.6 — always device-side). Critical (P1) at once; the count in 24 h is its value.
import type { Severity } from "../../domain/alert.js";
import { defineRule, type Step } from "../types.js";
import { where, which } from "./describe.js";
import { DeviceTripParams, ArcFaultParams } from "../../domain/rule-params.js";

const DAY_MS = 86_400_000;

export interface TripState {
  /** Event time of the trip while the breaker is still open; null once closed again. */
  trippedAt: number | null;
  trips: number[];
}

export const deviceTripRule = defineRule({
  id: "device-trip",
  latched: true,
  params: DeviceTripParams,
  appliesTo: (device) => device.kind === "breaker" || device.kind === "socket",
  initial: (): TripState => ({ trippedAt: null, trips: [] }),
  onEvent(state, event, ctx): Step<TripState> {
    if (event.type !== "trip" || state.trips.includes(event.ts)) return { state }; // a redelivered event counts once
    const p = ctx.params;
    const trips = [...state.trips.filter((t) => t > event.ts - DAY_MS), event.ts];
    const severity: Severity =
      event.reason === "short_circuit" ? p.short_circuit_severity : trips.length >= p.repeats_per_day ? p.repeat_severity : p.severity;
    const advice = event.reason === "short_circuit" ? " — do not re-close remotely until inspected" : "";
    const message =
      `${where(ctx.device, ctx.building)}: ${which(ctx.device)} tripped` +
      `${event.reason ? ` (${event.reason.replace("_", " ")})` : ""}${trips.length > 1 ? `, ${trips.length} trips in 24 h` : ""}${advice}`;
    return { state: { trippedAt: event.ts, trips }, verdict: { breach: { severity, value: trips.length, threshold: 1, at: event.ts, message } } };
  },
  onReading(state, reading): Step<TripState> {
    if (state.trippedAt === null || reading.ts <= state.trippedAt) return { state };
    const { switch_on: on, current_a: current } = reading.values;
    const closed = on === true || (on === undefined && current !== undefined && Math.abs(current) > 0);
    return closed ? { state: { ...state, trippedAt: null }, verdict: { clear: { at: reading.ts } } } : { state };
  },
});

export const arcFaultRule = defineRule({
  id: "arc-fault",
  latched: true,
  params: ArcFaultParams,
  appliesTo: () => true,
  initial: (): { arcs: number[] } => ({ arcs: [] }),
  onEvent(state, event, ctx) {
    if (event.type !== "arc" || state.arcs.includes(event.ts)) return { state };
    const arcs = [...state.arcs.filter((t) => t > event.ts - DAY_MS), event.ts];
    const message = `${where(ctx.device, ctx.building)}: arc fault (打火) reported by ${which(ctx.device)}${arcs.length > 1 ? `, ${arcs.length} in 24 h` : ""} — inspect the circuit`;
    return { state: { arcs }, verdict: { breach: { severity: ctx.params.severity, value: arcs.length, threshold: 1, at: event.ts, message, momentary: true } } };
  },
});
