// The alert object of CONTRACT §5, shared by the alerts service (which owns it) and the API (which shows it).

export const SEVERITIES = ["critical", "major", "minor", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALERT_STATES = ["firing", "acknowledged", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  rule: string;
  device: string;
  building: string;
  room?: string;
  severity: Severity;
  state: AlertState;
  value: number;
  threshold: number;
  message: string;
  /** ISO 8601, event time of the breach that opened it. */
  started_at: string;
  updated_at: string;
  resolved_at?: string;
  acknowledged_by?: string;
  /** The operator's note given with the acknowledgement (an additive extension of CONTRACT §5). */
  ack_note?: string;
  // Additive extensions of CONTRACT §5 (docs/alerts.md):
  /** Latched: resolves only after an acknowledgement and a cleared condition (domain.md §8 "Latching"). */
  latched?: boolean;
  /** Id of the parent device's open offline / device-trip alert this one is suppressed under (inhibition). */
  inhibited_by?: string;
  /** Id of the maintenance window (silence) that mutes its notifications. */
  silenced_by?: string;
  /** More than the flapping limit of open/close cycles in an hour: kept open at `info`, not paged (domain.md §8 row 27). */
  flapping?: boolean;
  /** predicted-trip: estimated time to trip on the earliest curve (= value) and on the latest curve, seconds. */
  ttt_s?: number;
  ttt_max_s?: number;
}

/** The rule ids of CONTRACT §5. */
export const RULE_IDS = [
  "overload",
  "heavy-load",
  "predicted-trip",
  "power-limit",
  "malignant-load",
  "leakage",
  "overtemperature",
  "overvoltage",
  "undervoltage",
  "phase-loss",
  "offline",
  "device-trip",
  "arc-fault",
  "after-hours",
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/**
 * The parameters a campus file may override per rule (besides `disabled`), with their units in the
 * name. The defaults live with each rule in alerts/rules/ (domain.md §8); a unit test checks both
 * lists agree.
 */
export const RULE_PARAM_NAMES: Readonly<Record<RuleId, readonly string[]>> = {
  overload: ["pickup_ratio", "hold_s", "clear_ratio", "clear_hold_s", "severity", "max_gap_intervals"],
  "heavy-load": ["pickup_ratio", "hold_s", "clear_ratio", "clear_hold_s", "severity", "max_gap_intervals"],
  "predicted-trip": ["pickup_ratio", "cool_s", "major_ttt_s", "critical_ttt_s", "major_damage", "critical_damage", "clear_damage", "clear_ratio", "max_step_s"],
  "power-limit": ["limit_w", "hold_s", "clear_ratio", "clear_hold_s", "severity", "max_gap_intervals"],
  "malignant-load": ["step_w", "incremental_pf", "hold_s", "clear_margin_w", "clear_hold_s", "severity", "repeat_severity", "repeats_per_day"],
  leakage: ["warning_ratio", "warning_hold_s", "major_ratio", "major_hold_s", "clear_ratio", "clear_hold_s", "feeder_rcd_ma", "feeder_alarm_ma", "feeder_alarm_samples", "feeder_prewarn_ma", "feeder_prewarn_hold_s", "feeder_clear_ma", "feeder_clear_hold_s"],
  overtemperature: ["warning_c", "major_c", "critical_c", "hold_s", "clear_delta_c", "clear_hold_s"],
  overvoltage: ["warning_ratio", "warning_hold_s", "major_ratio", "major_hold_s", "critical_ratio", "critical_hold_s", "clear_ratio", "clear_hold_s", "warning_severity"],
  undervoltage: ["warning_ratio", "warning_hold_s", "major_ratio", "major_hold_s", "clear_ratio", "clear_hold_s", "ignore_below_ratio"],
  "phase-loss": ["lost_ratio", "healthy_v_ratio", "hold_s", "clear_ratio", "clear_hold_s", "severity"],
  offline: ["silent_intervals", "severity", "detector_severity"],
  "device-trip": ["severity", "short_circuit_severity", "repeat_severity", "repeats_per_day"],
  "arc-fault": ["severity"],
  "after-hours": ["baseline_margin", "min_w", "baseline_w", "hold_s", "clear_hold_s", "severity", "night_from_h", "night_to_h"],
};

/** An operator's acknowledgement, sent by the API to the alerts service on `campus/internal/ack`. */
export interface AckRequest {
  alert_id: string;
  by: string;
  note?: string;
  /** Correlates the alerts service's reply (the updated retained alert) with the HTTP request. */
  request_id: string;
}

/**
 * The alerts service's answer on `campus/internal/ack-result/{request_id}`: the updated alert, or why
 * not (the alerts service sends NOT_FOUND; the API adds its own codes for an unreadable answer or a stop).
 */
export type AckResult = { ok: true; alert: Alert } | { ok: false; code: string; message: string };

export const isOpen = (alert: Alert) => alert.state !== "resolved";
