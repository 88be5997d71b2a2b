// Maintenance windows ("silences"), shared by the alerts service (which owns and applies them) and
// the API (which lists, creates and ends them for operators). They meet over MQTT:
//   campus/internal/silences                      alerts → all, retained: the full current list (JSON array)
//   campus/internal/silence-request               api → alerts: SilenceRequest
//   campus/internal/silence-result/{request_id}   alerts → api: SilenceResult
// A silence never mutes latched fire-related alerts (domain.md §8: rules 1, 2, 11, 12-critical).

export interface SilenceScope {
  /** Empty or absent = any. A silence matches an alert when every given list contains the alert's value. */
  devices?: string[];
  buildings?: string[];
  rules?: string[];
}

export interface Silence {
  id: string;
  scope: SilenceScope;
  /** ISO 8601. */
  starts_at: string;
  /** ISO 8601: the silence expires on its own then. */
  ends_at: string;
  reason: string;
  created_by: string;
  source: "api" | "campus-file";
  /** Set when an operator ended it early. */
  ended_at?: string;
}

export type SilenceRequest =
  | { request_id: string; action: "create"; by: string; silence: { scope: SilenceScope; starts_at?: string; ends_at: string; reason: string } }
  | { request_id: string; action: "end"; by: string; silence_id: string };

export type SilenceResult =
  | { ok: true; silence: Silence }
  | { ok: false; code: "NOT_FOUND" | "INVALID" | "READ_ONLY"; message: string };

export const silenceTopic = {
  list: "campus/internal/silences",
  request: "campus/internal/silence-request",
  result: (requestId: string) => `campus/internal/silence-result/${requestId}`,
  results: "campus/internal/silence-result/+",
} as const;
