// The pure rule engine: evaluate(book, state, input, now) → {state, effects}. No clock, randomness or
// I/O: `now` is the wall clock handed in by the adapter, durations come from the readings' `ts`.
// Unchanged parts of the state are shared, so "nothing happened" returns the very same state object.
import type { AckRequest, Alert } from "../domain/alert.js";
import type { Device } from "../domain/campus.js";
import { acknowledge, applyVerdict, settleFlapping, type Applied } from "./lifecycle.js";
import { overlay } from "./overlay.js";
import type { RuleBook } from "./rule-book.js";
import { applySilenceRequest } from "./silences.js";
import { siteOf } from "./sites.js";
import type { DeviceSlot, Effect, EngineInput, EngineState, EvaluateResult, Instance, Rule, RuleContext, Step } from "./types.js";
import { withSlot } from "./draft.js";
import { inStep } from "./owned-map.js";
import { reportInterval } from "./report-interval.js";

export const initialState = (): EngineState => ({ version: 1, devices: {} });

export function evaluate(book: RuleBook, state: EngineState, input: EngineInput, now: number): EvaluateResult {
  // One step copies the device map at most once (draft.ts): a watchdog tick or the overlay may change
  // every device of a district (20,000 at once when a broker restarts), which copy by copy was O(n²).
  return inStep(() => {
    const result = evaluateInput(book, state, input, now);
    const remark = input.kind === "start" || input.kind === "silence" ? "all" : input.kind === "tick" ? "when-silences-change" : "touched";
    return overlay(book, result, remark, now, input.kind === "tick" ? (input.slice ?? { from: 0, to: book.tickOrder.length }) : undefined);
  });
}

/** Evaluates inputs in order as one step: the same result as calling `evaluate` for each in turn. */
export function evaluateBatch(book: RuleBook, state: EngineState, inputs: readonly EngineInput[], now: number): EvaluateResult {
  return inStep(() => {
    let current = state;
    const effects: Effect[] = [];
    for (const input of inputs) {
      const result = evaluate(book, current, input, now);
      current = result.state;
      for (const effect of result.effects) effects.push(effect);
    }
    return { state: current, effects };
  });
}

function evaluateInput(book: RuleBook, state: EngineState, input: EngineInput, now: number): EvaluateResult {
  switch (input.kind) {
    case "start":
      return start(book, state, now);
    case "tick":
      return tick(book, state, now, input.slice);
    case "reading": {
      const { reading, live } = input;
      return onDevice(book, state, reading.device, now, (slot) => {
        // Late or replayed readings (ts not after the newest seen) never reach duration logic:
        // they would bend on-delays and hysteresis timers backwards, and a duplicate must not double-open.
        const inOrder = slot.track.lastReadingTs === null || reading.ts > slot.track.lastReadingTs;
        const track = {
          ...slot.track,
          ...(inOrder && slot.track.lastReadingTs !== null ? observeGap(slot.track, reading.ts - slot.track.lastReadingTs) : {}),
          lastReadingTs: inOrder ? reading.ts : slot.track.lastReadingTs,
          lastSeenAt: live ? now : slot.track.lastSeenAt,
        };
        return {
          track,
          hooks: (rule) => [
            inOrder && rule.onReading ? (s, ctx) => rule.onReading!(s, reading, ctx) : null,
            live && rule.onAlive ? (s, ctx) => rule.onAlive!(s, reading.ts, ctx) : null,
          ],
        };
      });
    }
    case "status": {
      const { status, live } = input;
      return onDevice(book, state, status.device, now, (slot) => {
        const inOrder = slot.track.lastStatusTs === null || status.ts > slot.track.lastStatusTs;
        if (!inOrder) return null;
        const track = {
          ...slot.track,
          lastStatusTs: status.ts,
          // An "offline" is the broker speaking for the device (its last will), not the device alive.
          lastSeenAt: live && status.online ? now : slot.track.lastSeenAt,
        };
        return { track, hooks: (rule) => [rule.onStatus ? (s, ctx) => rule.onStatus!(s, status, ctx) : null] };
      });
    }
    case "event": {
      const { event } = input;
      return onDevice(book, state, event.device, now, (slot) => ({
        track: { ...slot.track, lastSeenAt: now },
        hooks: (rule) => [
          rule.onEvent ? (s, ctx) => rule.onEvent!(s, event, ctx) : null,
          rule.onAlive ? (s, ctx) => rule.onAlive!(s, event.ts, ctx) : null,
        ],
      }));
    }
    case "ack":
      return ack(state, input.request, now);
    case "silence": {
      const request = input.request;
      const outcome = applySilenceRequest(book.campus, book.fileSilences, state.silences ?? [], state.silenceSeq ?? 0, request, now);
      const next: EngineState = { ...state, silences: outcome.silences, silenceSeq: outcome.seq };
      const requestId = typeof request.request_id === "string" ? request.request_id : "unknown";
      return { state: next, effects: [{ type: "silence-result", requestId, result: outcome.result }] };
    }
  }
}

/** Every open alert, for republication at start and for views. */
export function openAlerts(state: EngineState): Alert[] {
  const alerts: Alert[] = [];
  for (const slot of Object.values(state.devices)) {
    for (const instance of Object.values(slot.rules)) if (instance.alert) alerts.push(instance.alert);
  }
  return alerts;
}

type Hook = ((state: unknown, ctx: RuleContext) => Step<unknown>) | null;
type Plan = { track: DeviceSlot["track"]; hooks: (rule: Rule) => Hook[] } | null;

function onDevice(book: RuleBook, state: EngineState, deviceId: string, now: number, plan: (slot: DeviceSlot) => Plan): EvaluateResult {
  const device = book.campus.deviceById.get(deviceId);
  if (!device) return { state, effects: [] }; // not in the campus file: nothing to judge it by
  const slot = state.devices[device.id] ?? emptySlot();
  const planned = plan(slot);
  if (!planned) return { state, effects: [] };
  const effects: Effect[] = [];
  const rules = runRules(book, device, { ...slot, track: planned.track }, now, planned.hooks, effects);
  return { state: withSlot(state, device.id, { track: planned.track, rules }), effects };
}

function runRules(
  book: RuleBook,
  device: Device,
  slot: DeviceSlot,
  now: number,
  hooks: (rule: Rule) => Hook[],
  effects: Effect[],
): Record<string, Instance> {
  const building = book.campus.buildingById.get(device.building)!;
  // CONTRACT §9: a device is judged by its own school's zone, nominal voltage and `alerts:` section.
  const campus = siteOf(book.campus, device.id);
  let rules = slot.rules;
  for (const { rule, params } of book.rulesFor.get(device.id) ?? []) {
    const ruleHooks = hooks(rule);
    const existing = rules[rule.id];
    // Nothing to run and nothing to settle (a watchdog tick passes most rules of 20,000 devices by).
    if (existing && !existing.flapping && ruleHooks.every((hook) => hook === null)) continue;
    const ctx: RuleContext = { device, building, campus, params, now, lastSeenAt: slot.track.lastSeenAt, reportIntervalMs: reportInterval(device, slot.track) };
    const before = rules[rule.id] ?? { rule: rule.initial(device), active: false, latched: false, openings: 0 };
    let instance = before;
    for (const hook of ruleHooks) {
      if (!hook) continue;
      const step = hook(instance.rule, ctx);
      instance = step.state === instance.rule ? instance : { ...instance, rule: step.state };
      if (step.verdict) {
        const applied: Applied = applyVerdict(rule, device, building, instance, step.verdict);
        instance = applied.instance;
        if (applied.effect) effects.push(applied.effect);
      }
    }
    // A flapping alert resolves once its condition is over and it calmed down (< 2 activations an hour).
    if (instance.flapping && slot.track.lastReadingTs !== null) {
      const settled = settleFlapping(instance, slot.track.lastReadingTs);
      instance = settled.instance;
      if (settled.effect) effects.push(settled.effect);
    }
    if (instance !== before || !(rule.id in rules)) rules = { ...rules, [rule.id]: instance };
  }
  return rules;
}

/** Service start: every watchdog counts from now (the service was not listening while it was down). */
function start(book: RuleBook, state: EngineState, now: number): EvaluateResult {
  const devices = { ...state.devices };
  for (const device of book.campus.devices) {
    const slot = devices[device.id] ?? emptySlot();
    devices[device.id] = { ...slot, track: { ...slot.track, lastSeenAt: now } };
  }
  return { state: { ...state, devices }, effects: [] };
}

function tick(book: RuleBook, state: EngineState, now: number, slice = { from: 0, to: book.tickOrder.length }): EvaluateResult {
  const effects: Effect[] = [];
  let next = state;
  for (let i = slice.from; i < Math.min(slice.to, book.tickOrder.length); i++) {
    const device = book.tickOrder[i]!;
    const slot = state.devices[device.id];
    if (!slot || slot.track.lastSeenAt === null) continue; // before start: no watchdog clock yet
    const rules = runRules(book, device, slot, now, (rule) => [rule.onTick ? (s, ctx) => rule.onTick!(s, ctx) : null], effects);
    if (rules !== slot.rules) next = withSlot(next, device.id, { ...slot, rules });
  }
  return { state: next, effects };
}

function ack(state: EngineState, request: AckRequest, now: number): EvaluateResult {
  const { alert_id: alertId, by, request_id: requestId } = request;
  // The note is free text from the API (≤ 1000 characters there); only a string is kept.
  const note = typeof request.note === "string" && request.note !== "" ? request.note : undefined;
  for (const [deviceId, slot] of Object.entries(state.devices)) {
    for (const [ruleId, instance] of Object.entries(slot.rules)) {
      if (instance.alert?.id !== alertId) continue;
      const applied = acknowledge(instance, by, now, note);
      const alert = applied.effect?.type === "alert" ? applied.effect.alert : instance.alert;
      const effects: Effect[] = applied.effect ? [applied.effect] : [];
      effects.push({ type: "ack-result", requestId, reply: { ok: true, alert } });
      const rules = { ...slot.rules, [ruleId]: applied.instance };
      return { state: withSlot(state, deviceId, { ...slot, rules }), effects };
    }
  }
  const reply = { ok: false as const, code: "NOT_FOUND" as const, message: `no open alert with id "${alertId}"` };
  return { state, effects: [{ type: "ack-result", requestId, reply }] };
}

/**
 * The observed report interval: an exponential moving average (α = 0.2) of event-time gaps between
 * in-order readings. A gap over 10 × the estimate is an outage, not the cadence, and is left out.
 */
function observeGap(track: DeviceSlot["track"], gapMs: number): Pick<DeviceSlot["track"], "intervalMs" | "gaps"> {
  if (gapMs <= 0) return {};
  const estimate = track.intervalMs;
  if (estimate !== undefined && gapMs > 10 * estimate) return {};
  return { intervalMs: estimate === undefined ? gapMs : 0.8 * estimate + 0.2 * gapMs, gaps: (track.gaps ?? 0) + 1 };
}

const emptySlot = (): DeviceSlot => ({ track: { lastReadingTs: null, lastStatusTs: null, lastSeenAt: null }, rules: {} });

