// What the alerts service keeps across restarts, as one TypeBox schema: the engine state, the InfluxDB
// points not yet written, the webhook notifier's state and outbox, and the
// schedules' and the dormitory power rule's state, saved in
// `${DATA_DIR}/alerts/state.json` (persistence.ts). The types the engine and the notifier work with
// come from it, and the file is checked against it at start: a file of another shape is set aside
// rather than crash the service later (a JSON file can be truncated, hand-edited or from elsewhere).
import { Type, type Static } from "@sinclair/typebox";
import { AlertSchema } from "../domain/alert.js";
import { literalUnion } from "../domain/schema.js";
import { SilenceSchema } from "../domain/silence.js";
import { PowerRuleStateSchema } from "./automation/power-rule.js";
import { CommandBookSchema } from "./commands/book.js";

/** Epoch ms, or null before the first one. */
const EpochMsOrNull = Type.Union([Type.Number(), Type.Null()]);

export const DeviceTrackSchema = Type.Object({
  /** Event time of the newest reading fed to the rules, epoch ms. */
  lastReadingTs: EpochMsOrNull,
  /** Event time of the newest status fed to the rules, epoch ms. */
  lastStatusTs: EpochMsOrNull,
  /** Wall time of the last live message (or the service start), epoch ms — the watchdog's clock. */
  lastSeenAt: EpochMsOrNull,
  /** Observed report interval, ms: a moving average of the event-time gaps between its readings. */
  intervalMs: Type.Optional(Type.Number()),
  /** How many gaps went into `intervalMs`. */
  gaps: Type.Optional(Type.Number()),
  /**
   * This device's `offline` / `device-trip` alert `alert` resolved (it came back): until `until` (wall clock, epoch
   * ms) the devices below it that are still silent stay inhibited under that alert, given the time their own
   * offline limit allows to report again before they are paged (./overlay.ts).
   */
  returned: Type.Optional(Type.Object({ alert: Type.String(), until: Type.Number() })),
});

/** Per-(device, rule) slot owned by the engine. */
export const InstanceSchema = Type.Object({
  /** The rule's own state (opaque to the engine). */
  rule: Type.Unknown(),
  /** The open alert, if any (resolved alerts leave the state; their history is in InfluxDB). */
  alert: Type.Optional(AlertSchema),
  /** Whether the rule's condition currently holds (a latched alert may outlive it). */
  active: Type.Boolean(),
  latched: Type.Boolean(),
  /** How many alerts this slot has opened; part of the alert id so every opening gets its own. */
  openings: Type.Number(),
  /** Event times the condition became active within the last hour (flapping guard, domain.md §8 row 27). */
  activations: Type.Optional(Type.Array(Type.Number())),
  /** The open alert is flapping: kept open at `info`, not paged, until < 2 activations an hour. */
  flapping: Type.Optional(Type.Boolean()),
});

export const DeviceSlotSchema = Type.Object({ track: DeviceTrackSchema, rules: Type.Record(Type.String(), InstanceSchema) });

/** The whole engine state: plain JSON. */
export const EngineStateSchema = Type.Object({
  version: Type.Literal(1),
  devices: Type.Record(Type.String(), DeviceSlotSchema),
  /** Maintenance windows created through the API (campus-file ones come from the rule book). */
  silences: Type.Optional(Type.Array(SilenceSchema)),
  /** Counter behind the ids of API-created silences (deterministic, no randomness in the core). */
  silenceSeq: Type.Optional(Type.Number()),
  /** What the retained silence list last published says (ids and ends), so it is republished only on change. */
  silenceKey: Type.Optional(Type.String()),
});

export const WebhookEventSchema = literalUnion(["opened", "escalated", "acknowledged", "resolved", "reminder"] as const);

/** The notifier's view of one open alert. */
const TrackedSchema = Type.Object({
  alert: AlertSchema,
  notified: Type.Boolean(),
  /** Wall time of the first page, and of the last message about it. */
  firstSentAt: Type.Optional(Type.Number()),
  lastSentAt: Type.Optional(Type.Number()),
  escalated: Type.Optional(Type.Boolean()),
});

export const NotifyStateSchema = Type.Object({
  alerts: Type.Record(Type.String(), TrackedSchema),
  /** building → the items waiting for their group window. */
  groups: Type.Record(Type.String(), Type.Object({ since: Type.Number(), items: Type.Array(Type.Object({ event: WebhookEventSchema, alert: AlertSchema })) })),
});

/** One signed webhook message waiting in the durable outbox; times are epoch ms. */
export const OutboxEntrySchema = Type.Object({
  /** Also the `X-Campus-Delivery` header, the same on every attempt. */
  id: Type.String(),
  /** "primary" (ALERT_WEBHOOK_URL), "secondary" (the escalation target) or a school's route (notify/routes.ts routeTarget). */
  target: Type.String(),
  body: Type.String(),
  created_at: Type.Number(),
  attempts: Type.Number(),
  next_at: Type.Number(),
  expires_at: Type.Number(),
});

/** The webhook notifier: its durable outbox and reminder clocks. */
export const SavedNotifySchema = Type.Object({
  state: NotifyStateSchema,
  outbox: Type.Array(OutboxEntrySchema),
  seq: Type.Number(),
  /** Robot target → its attempts in the last minute, epoch ms (flood control: notify/rate.ts); absent in older files. */
  rate: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Number()))),
});

/** Schedules and the dormitory power rule (automation/): what a restart must not forget. */
export const AutomationStateSchema = Type.Object({
  /** Every schedule run up to this wall-clock instant was done or missed, epoch ms: a restart lists the runs after it as missed. */
  schedules_checked_until: EpochMsOrNull,
  /** The rooms the rule switched off: their planned restores, and those held off until a person acts. */
  power_rule: PowerRuleStateSchema,
});

export const SavedStateSchema = Type.Object({
  version: Type.Literal(1),
  saved_at: Type.String(),
  engine: EngineStateSchema,
  /** Alert points InfluxDB has not accepted yet (line protocol), retried after a restart. */
  pending_writes: Type.Array(Type.String(), { default: [] }),
  /** Absent without a webhook. */
  notify: Type.Optional(SavedNotifySchema),
  /** Remote switching: kept in commands.json now (persistence.ts); read here only from files written before that. */
  commands: Type.Optional(CommandBookSchema),
  /** Absent in files from before schedules and the power rule. */
  automation: Type.Optional(AutomationStateSchema),
});

export type DeviceTrack = Static<typeof DeviceTrackSchema>;
export type Instance = Static<typeof InstanceSchema>;
export type DeviceSlot = Static<typeof DeviceSlotSchema>;
export type EngineState = Static<typeof EngineStateSchema>;
export type WebhookEvent = Static<typeof WebhookEventSchema>;
export type NotifyState = Static<typeof NotifyStateSchema>;
export type OutboxEntry = Static<typeof OutboxEntrySchema>;
export type SavedNotify = Static<typeof SavedNotifySchema>;
export type SavedState = Static<typeof SavedStateSchema>;
export type AutomationState = Static<typeof AutomationStateSchema>;
