// Maintenance windows ("silences"), shared by the alerts service (which owns and applies them) and
// the API (which lists, creates and ends them for operators). They meet over MQTT:
//   campus/internal/silences                      alerts → all, retained: the full current list (JSON array)
//   campus/internal/silence-request               api → alerts: SilenceRequest
//   campus/internal/silence-result/{request_id}   alerts → api: SilenceResult
// A silence never mutes latched fire-related alerts (domain.md §8: rules 1, 2, 11, 12-critical).

import { type Static, Type as T } from "@sinclair/typebox";
import { literalUnion } from "./schema.js";

const ids = (description: string) => T.Optional(T.Array(T.String({ maxLength: 200 }), { maxItems: 1000, description }));

/** Empty or absent lists = any. A silence matches an alert when every given list contains the alert's value. */
export const SilenceScopeSchema = T.Object(
  { devices: ids("device ids"), buildings: ids("building ids"), rules: ids("rule ids") },
  { additionalProperties: false, description: "an alert is silenced when every given list contains its value; empty = any" },
);
export type SilenceScope = Static<typeof SilenceScopeSchema>;

/** One schema for the alerts service's silences and the API's answers (and their OpenAPI description). */
export const SilenceSchema = T.Object(
  {
    id: T.String(),
    scope: SilenceScopeSchema,
    starts_at: T.String({ description: "ISO 8601" }),
    ends_at: T.String({ description: "ISO 8601: it expires on its own then" }),
    reason: T.String(),
    created_by: T.String(),
    source: literalUnion(["api", "campus-file"] as const, { description: "campus-file ones are read-only" }),
    ended_at: T.Optional(T.String({ description: "ISO 8601, set when an operator ended it early" })),
    site: T.Optional(T.String({ description: "the school whose campus file declares it (CONTRACT §9); it mutes that school's alerts only" })),
  },
  { $id: "Silence", additionalProperties: true, description: "A maintenance window: matching alerts still open and show, but are not notified. Fire-related latched alerts are never muted." },
);
export type Silence = Static<typeof SilenceSchema>;

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
