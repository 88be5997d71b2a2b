// The seam of the rule engine. A rule is data (id, defaults, latched flag) plus pure step functions
// over its own per-(device, rule) state; it says "breach" or "clear" and never builds an Alert.
// The engine (engine.ts) owns the alert lifecycle: one open alert per (device, rule), updates,
// severity escalation, firing → acknowledged → resolved, and latching.
import type { AckRequest, Alert, Severity } from "../domain/alert.js";
import type { Building, Campus, Device } from "../domain/campus.js";
import type { Silence, SilenceRequest, SilenceResult } from "../domain/silence.js";
import type { DeviceEvent, Reading, StatusChange } from "../domain/reading.js";

/** What the engine is fed. `live` is false for a retained copy the broker replays on subscribe. */
export type EngineInput =
  | { kind: "start" }
  | { kind: "tick" }
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

/** A rule's parameters: defaults (domain.md §8) ← campus ← building kind ← device overrides. */
export type Params = Record<string, number | string | boolean>;

export interface RuleContext<P = Params> {
  device: Device;
  building: Building;
  campus: Campus;
  /** This rule's parameters for this device, resolved once (campus file overrides applied). */
  params: P;
  /** Wall clock of this evaluation, epoch ms (only watchdogs should look at it). */
  now: number;
  /** Wall time of the device's last live message, or the service start; null before start. */
  lastSeenAt: number | null;
  /** The device's report interval, ms: observed once it sent a few readings, else its campus-file `report_interval_s`. */
  reportIntervalMs: number;
}

/**
 * A rule. Every hook is optional and pure; `S` must survive JSON (it is persisted).
 * Adding a rule = writing one of these in rules/ and listing it in rules/index.ts.
 */
export interface Rule<S = unknown, P = Params> {
  /** Rule id (CONTRACT §5), also the last level of `campus/alerts/{device}/{rule}`. */
  id: string;
  /** Resolve only after an acknowledgement AND a cleared condition (domain.md §8 "Latching"). */
  latched?: boolean;
  /** Default parameters (domain.md §8); the campus file may override them by name (RULE_PARAM_NAMES). */
  defaults?: P;
  appliesTo(device: Device, building: Building, campus: Campus): boolean;
  initial(device: Device): S;
  /** A reading newer than any before from this device (event-time order; late and duplicate readings never get here). */
  onReading?(state: S, reading: Reading, ctx: RuleContext<P>): Step<S>;
  /** A status newer than the last status of this device. */
  onStatus?(state: S, status: StatusChange, ctx: RuleContext<P>): Step<S>;
  onEvent?(state: S, event: DeviceEvent, ctx: RuleContext<P>): Step<S>;
  /** Any live, valid message from the device (a reading in or out of order, an online status, an event). */
  onAlive?(state: S, at: number, ctx: RuleContext<P>): Step<S>;
  /** The wall-clock timer (watchdogs). */
  onTick?(state: S, ctx: RuleContext<P>): Step<S>;
}

/** Widens a typed rule for a heterogeneous rule list (the engine treats rule state as opaque). */
export const defineRule = <S, P = Params>(rule: Rule<S, P>): Rule<unknown> => rule as unknown as Rule<unknown>;

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
  /** Event times the condition became active within the last hour (flapping guard, domain.md §8 row 27). */
  activations?: number[];
  /** The open alert is flapping: kept open at `info`, not paged, until < 2 activations an hour. */
  flapping?: boolean;
}

export interface DeviceTrack {
  /** Event time of the newest reading fed to the rules, epoch ms. */
  lastReadingTs: number | null;
  /** Event time of the newest status fed to the rules, epoch ms. */
  lastStatusTs: number | null;
  /** Wall time of the last live message (or the service start), epoch ms — the watchdog's clock. */
  lastSeenAt: number | null;
  /** Observed report interval, ms: a moving average of the event-time gaps between its readings. */
  intervalMs?: number;
  /** How many gaps went into `intervalMs`. */
  gaps?: number;
}

export interface DeviceSlot {
  track: DeviceTrack;
  rules: Record<string, Instance>;
}

/** The whole engine state: plain JSON, saved as is in `${DATA_DIR}/alerts/state.json`. */
export interface EngineState {
  version: 1;
  devices: Record<string, DeviceSlot>;
  /** Maintenance windows created through the API (campus-file ones come from the rule book). */
  silences?: Silence[];
  /** Counter behind the ids of API-created silences (deterministic, no randomness in the core). */
  silenceSeq?: number;
  /** What the retained silence list last published says (ids and ends), so it is republished only on change. */
  silenceKey?: string;
}

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
