// The seam of the rule engine. A rule is data (id, defaults, latched flag) plus pure step functions
// over its own per-(device, rule) state; it says "breach" or "clear" and never builds an Alert.
// The engine (engine.ts) owns the alert lifecycle: one open alert per (device, rule), updates,
// severity escalation, firing → acknowledged → resolved, and latching.
import type { AckRequest, Alert, Severity } from "../domain/alert.js";
import type { Building, Device } from "../domain/campus.js";
import type { DeviceEvent, Reading, StatusChange } from "../domain/reading.js";

/** What the engine is fed. `live` is false for a retained copy the broker replays on subscribe. */
export type EngineInput =
  | { kind: "start" }
  | { kind: "tick" }
  | { kind: "reading"; reading: Reading; live: boolean }
  | { kind: "status"; status: StatusChange; live: boolean }
  | { kind: "event"; event: DeviceEvent }
  | { kind: "ack"; request: AckRequest };

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

export interface RuleContext {
  device: Device;
  building: Building;
  /** Wall clock of this evaluation, epoch ms (only watchdogs should look at it). */
  now: number;
  /** Wall time of the device's last live message, or the service start; null before start. */
  lastSeenAt: number | null;
}

/**
 * A rule. Every hook is optional and pure; `S` must survive JSON (it is persisted).
 * Adding a rule = writing one of these in rules/ and listing it in rules/index.ts.
 */
export interface Rule<S = unknown> {
  /** Rule id (CONTRACT §5), also the last level of `campus/alerts/{device}/{rule}`. */
  id: string;
  /** Resolve only after an acknowledgement AND a cleared condition (domain.md §8 "Latching"). */
  latched?: boolean;
  appliesTo(device: Device): boolean;
  initial(device: Device): S;
  /** A reading newer than any before from this device (event-time order; late and duplicate readings never get here). */
  onReading?(state: S, reading: Reading, ctx: RuleContext): Step<S>;
  /** A status newer than the last status of this device. */
  onStatus?(state: S, status: StatusChange, ctx: RuleContext): Step<S>;
  onEvent?(state: S, event: DeviceEvent, ctx: RuleContext): Step<S>;
  /** Any live, valid message from the device (a reading in or out of order, an online status, an event). */
  onAlive?(state: S, at: number, ctx: RuleContext): Step<S>;
  /** The wall-clock timer (watchdogs). */
  onTick?(state: S, ctx: RuleContext): Step<S>;
}

/** Widens a typed rule for a heterogeneous rule list (the engine treats rule state as opaque). */
export const defineRule = <S>(rule: Rule<S>): Rule<unknown> => rule as unknown as Rule<unknown>;

/** Per-(device, rule) slot owned by the engine. */
export interface Instance {
  /** The rule's own state (opaque to the engine). */
  rule: unknown;
  /** The open alert, if any (resolved alerts leave the state; their history is in InfluxDB). */
  alert?: Alert;
  /** Whether the rule's condition currently holds (a latched alert may outlive it). */
  active: boolean;
  latched: boolean;
  /** How many alerts this slot has opened; part of the alert id so every opening gets its own. */
  openings: number;
}

export interface DeviceTrack {
  /** Event time of the newest reading fed to the rules, epoch ms. */
  lastReadingTs: number | null;
  /** Event time of the newest status fed to the rules, epoch ms. */
  lastStatusTs: number | null;
  /** Wall time of the last live message (or the service start), epoch ms — the watchdog's clock. */
  lastSeenAt: number | null;
}

export interface DeviceSlot {
  track: DeviceTrack;
  rules: Record<string, Instance>;
}

/** The whole engine state: plain JSON, saved as is in `${DATA_DIR}/alerts/state.json`. */
export interface EngineState {
  version: 1;
  devices: Record<string, DeviceSlot>;
}

/** Names match the webhook events of CONTRACT §5 (plus `updated` for a new value at the same severity). */
export type AlertChange = "opened" | "updated" | "escalated" | "acknowledged" | "resolved";

export type AckReply = { ok: true; alert: Alert } | { ok: false; code: "NOT_FOUND"; message: string };

export type Effect =
  /** `byAck`: the change an operator's acknowledgement made (its alert point carries the ack note). */
  | { type: "alert"; change: AlertChange; alert: Alert; at: number; byAck?: true }
  | { type: "ack-result"; requestId: string; reply: AckReply };

export interface EvaluateResult {
  state: EngineState;
  effects: Effect[];
}
