// The alert object of CONTRACT §5, shared by the alerts service (which owns it) and the API (which shows
// it): one TypeBox schema, from which come the TS type (`Static`), the API's serialization of alerts
// and their OpenAPI description.
import { type Static, Type as T } from "@sinclair/typebox";
import { isJsonObject } from "./json-object.js";
import { literalUnion } from "./schema.js";

/** Most severe first. */
export const SEVERITIES = ["critical", "major", "minor", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALERT_STATES = ["firing", "acknowledged", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

const ISO_8601 = "ISO 8601 (UTC, as `Date.prototype.toISOString` writes it)";

export const AlertSchema = T.Object(
  {
    // CONTRACT §5
    id: T.String(),
    rule: T.String({ description: "a rule id of CONTRACT §5 (RULE_IDS)" }),
    device: T.String(),
    building: T.String(),
    // CONTRACT §9: "The alert object and every live message about a device carry `site`".
    site: T.String({ description: "the id of the device's site (school) in the district (CONTRACT §9)" }),
    room: T.Optional(T.String()),
    severity: literalUnion(SEVERITIES),
    state: literalUnion(ALERT_STATES),
    value: T.Number({ description: "the measured value that breached, in the rule's unit" }),
    threshold: T.Number({ description: "the threshold it breached, in the same unit" }),
    message: T.String(),
    started_at: T.String({ description: `${ISO_8601}: event time of the breach that opened it` }),
    updated_at: T.String({ description: ISO_8601 }),
    resolved_at: T.Optional(T.String({ description: ISO_8601 })),
    acknowledged_by: T.Optional(T.String({ description: "who acknowledged it: role and token fingerprint, or the account name" })),
    // Additive extensions of CONTRACT §5 (docs/alerts.md "The alert object")
    ack_note: T.Optional(T.String({ description: "the operator's note given with the acknowledgement (extension)" })),
    latched: T.Optional(T.Boolean({ description: "resolves only after an acknowledgement and a cleared condition (domain.md §8 'Latching'; extension)" })),
    inhibited_by: T.Optional(T.String({ description: "id of the parent device's offline / device-trip alert this one is suppressed under: open, or resolved less than the grace ago that the devices below it are given to report again, the longest offline limit among them (extension)" })),
    silenced_by: T.Optional(T.String({ description: "id of the maintenance window (silence) muting its notifications (extension)" })),
    flapping: T.Optional(T.Boolean({ description: "more than the flapping limit of open/close cycles in an hour: kept open at info, not paged (domain.md §8 row 27; extension)" })),
    ttt_s: T.Optional(T.Number({ description: "predicted-trip: time to trip on the earliest curve (= value), seconds (extension)" })),
    ttt_max_s: T.Optional(T.Number({ description: "predicted-trip: time to trip on the latest curve, seconds (extension)" })),
    command_id: T.Optional(T.String({ description: "the command the dormitory power rule issued when it opened: the room's cut-off, whose `alert_id` names this alert (CONTRACT §10; extension)" })),
  },
  {
    title: "Alert",
    // Further additive fields pass through unchanged (CONTRACT: extensions never change a field's meaning).
    additionalProperties: true,
    description: "The alert object of CONTRACT §5 with the alerts service's extensions",
  },
);
export type Alert = Static<typeof AlertSchema>;

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

/** An operator's acknowledgement, sent by the API to the alerts service on `campus/internal/ack`. */
export const AckRequestSchema = T.Object({
  alert_id: T.String(),
  by: T.String(),
  note: T.Optional(T.String()),
  /** Correlates the alerts service's reply (the updated retained alert) with the HTTP request; a topic level. */
  request_id: T.String({ pattern: "^[\\w.-]{1,128}$" }),
});
export type AckRequest = Static<typeof AckRequestSchema>;

/**
 * The alerts service's answer on `campus/internal/ack-result/{request_id}`: the updated alert, or why
 * not (the alerts service sends NOT_FOUND; the API adds its own codes for an unreadable answer or a stop).
 */
export type AckResult = { ok: true; alert: Alert } | { ok: false; code: string; message: string };

export const isOpen = (alert: Alert) => alert.state !== "resolved";

/**
 * An alert object as read back (JSON) with its device's site filled in when it has none: alerts written before
 * they carried `site` (CONTRACT §9), in an older state file or a retained `campus/alerts/...` message. The
 * value itself when it has a site, is not an object naming a device, or the device is in no site (`siteOf`
 * gives undefined): a schema check then refuses it. Pure.
 */
export function withDeviceSite(value: unknown, siteOf: (device: string) => string | undefined): unknown {
  if (!isJsonObject(value) || "site" in value) return value;
  const site = typeof value.device === "string" ? siteOf(value.device) : undefined;
  return site === undefined ? value : { ...value, site };
}
