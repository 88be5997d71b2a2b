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
}

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
