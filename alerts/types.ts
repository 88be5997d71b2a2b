// The seam of the rule engine. A rule is data (id, parameter schema, latched flag) plus pure step functions
// over its own per-(device, rule) state; it says "breach" or "clear" and never builds an Alert.
// The engine (engine.ts) owns the alert lifecycle: one open alert per (device, rule), updates,
// severity escalation, firing → acknowledged → resolved, and latching.
import type { Static, TObject } from "@sinclair/typebox";
import type { AckRequest, Alert, Severity } from "../domain/alert.js";
import type { Building, Campus, Device } from "../domain/campus.js";
import type { Silence, SilenceRequest, SilenceResult } from "../domain/silence.js";
import type { DeviceEvent, Reading, StatusChange } from "../domain/reading.js";
import type { EngineState } from "./saved-state.js";

/** What the engine is fed. `live` is false for a retained copy the broker replays on subscribe. */
export type EngineInput =
  | { kind: "start" }
  /** The watchdog's tick; `slice`: only the devices [from, to) of the rule book's `tickOrder` (a district's tick in parts). */
  | { kind: "tick"; slice?: { from: number; to: number } }
  | { kind: "reading"; reading: Reading; live: boolean }
  | { kind: "status"; status: StatusChange; live: boolean }
  | { kind: "event"; event: DeviceEvent }
  | { kind: "ack"; request: AckRequest }
  | { kind: "silence"; request: SilenceRequest };

/** The condition holds: open the alert, or update / escalate the open one. */
export interface Breach {
  severity: Severity;
  value: number;
  threshold: number;
  /** Time of this change, epoch ms (event time, or wall time for watchdogs). */
  at: number;
  /** Human text: where, which device and its rating, value vs threshold. */
  message: string;
  /** Overrides the rule's `latched` for this breach (e.g. overtemperature latches only at critical). */
  latched?: boolean;
  /** The condition is an instant (a device event): it is over as soon as it is raised (latched alerts then resolve on acknowledgement). */
  momentary?: boolean;
  /** Extra alert fields this rule sets (e.g. predicted-trip's ttt_s / ttt_max_s). */
  details?: { ttt_s?: number; ttt_max_s?: number };
}

/** The condition is over (hysteresis and minimum time already satisfied by the rule). */
export interface Clear {
  at: number;
}

export type Verdict = { breach: Breach } | { clear: Clear };

export interface Step<S> {
  state: S;
  verdict?: Verdict;
}

/** Parameters as the engine holds them for any rule: the rule itself sees `Static` of its own schema. */
export type Params = Static<TObject>;

export interface RuleContext<P = Params> {
  device: Device;
  building: Building;
  /** The campus of the device's own site (CONTRACT §9): its time zone, nominal voltage and `alerts:` section. */
  campus: Campus;
  /** This rule's parameters for this device, resolved once (schema defaults ← campus file overrides). */
  params: P;
  /** Wall clock of this evaluation, epoch ms (only watchdogs should look at it). */
  now: number;
  /** Wall time of the device's last live message, or the service start; null before start. */
  lastSeenAt: number | null;
  /** The device's report interval, ms: observed once it sent a few readings, else its campus-file `report_interval_s`. */
  reportIntervalMs: number;
}

/**
 * A rule. Every hook is optional and pure; `S` must survive JSON (it is persisted). `P` is the schema of
 * its parameters (domain/rule-params.ts): the hooks receive `Static<P>`, defaults filled and overrides checked.
 * Adding a rule = writing one of these in rules/ and listing it in rules/index.ts.
 */
export interface Rule<S = unknown, P extends TObject = TObject> {
  /** Rule id (CONTRACT §5), also the last level of `campus/alerts/{device}/{rule}`. */
  id: string;
  /** Resolve only after an acknowledgement AND a cleared condition (domain.md §8 "Latching"). */
  latched?: boolean;
  /** Its parameters, each with its default (domain.md §8); the campus file may override them by name. */
  params: P;
  /** `campus`: the device's own site's (as in RuleContext). */
  appliesTo(device: Device, building: Building, campus: Campus): boolean;
  initial(device: Device): S;
  /** A reading newer than any before from this device (event-time order; late and duplicate readings never get here). */
  onReading?(state: S, reading: Reading, ctx: RuleContext<Static<P>>): Step<S>;
  /** A status newer than the last status of this device. */
  onStatus?(state: S, status: StatusChange, ctx: RuleContext<Static<P>>): Step<S>;
  onEvent?(state: S, event: DeviceEvent, ctx: RuleContext<Static<P>>): Step<S>;
  /** Any live, valid message from the device (a reading in or out of order, an online status, an event). */
  onAlive?(state: S, at: number, ctx: RuleContext<Static<P>>): Step<S>;
  /** The wall-clock timer (watchdogs). */
  onTick?(state: S, ctx: RuleContext<Static<P>>): Step<S>;
}

/**
 * Infers a rule's state and parameter types from its `initial` and `params`, and widens it for a
 * heterogeneous rule list (the engine treats rule state as opaque; the hooks are methods, so this
 * widening needs no cast).
 */
export const defineRule = <S, P extends TObject>(rule: Rule<S, P>): Rule => rule;

// The engine's state (plain JSON, persisted): its types come from the schema of the saved file.
export type { DeviceSlot, DeviceTrack, EngineState, Instance } from "./saved-state.js";

/** Names match the webhook events of CONTRACT §5 (plus `updated` for a new value at the same severity). */
export type AlertChange = "opened" | "updated" | "escalated" | "acknowledged" | "resolved";

export type AckReply = { ok: true; alert: Alert } | { ok: false; code: "NOT_FOUND"; message: string };

export type Effect =
  /** `byAck`: the change an operator's acknowledgement made (its alert point carries the ack note). */
  | { type: "alert"; change: AlertChange; alert: Alert; at: number; byAck?: true }
  | { type: "ack-result"; requestId: string; reply: AckReply }
  /** The current maintenance windows (published retained on campus/internal/silences). */
  | { type: "silences"; silences: Silence[] }
  | { type: "silence-result"; requestId: string; result: SilenceResult };

export interface EvaluateResult {
  state: EngineState;
  effects: Effect[];
}
