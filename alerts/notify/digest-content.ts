// What a daily digest says (CONTRACT §14 "Digest"), as data: one school's last day, built when it is due
// (./digests.ts) and kept in the outbox until delivered, so a restart sends the very same words. Rendered per
// format by ./digest-text.ts. Times are epoch ms, durations seconds, energy kWh.
import { type Static, Type } from "@sinclair/typebox";

const NumberOrNull = Type.Union([Type.Number(), Type.Null()]);

export const RuleSummarySchema = Type.Object({
  rule: Type.String(),
  /** Alerts of this rule opened in the window. */
  opened: Type.Number(),
  acknowledged: Type.Number(),
  /** Time from opening to acknowledgement, s: the median and the longest of those acknowledged (null: none was). */
  median_ack_s: NumberOrNull,
  worst_ack_s: NumberOrNull,
  /** Opened in the window and not acknowledged by the time the digest was made. */
  unacknowledged: Type.Number(),
});

export const OfflineDeviceSchema = Type.Object({ device: Type.String(), building: Type.String(), room: Type.Optional(Type.String()) });

export const DigestSchema = Type.Object({
  site: Type.String(),
  school: Type.String(),
  timezone: Type.String(),
  /** The local date the digest is for ("YYYY-MM-DD"). */
  date: Type.String(),
  /** The alerts' window: from the previous digest time to this one (24 h; 23 or 25 h across a DST change). */
  from_ms: Type.Number(),
  to_ms: Type.Number(),
  rules: Type.Array(RuleSummarySchema),
  /** Yesterday's energy (local midnight to midnight) and the day before's, kWh; null when InfluxDB had none or did not answer. */
  energy: Type.Object({ day: Type.String(), kwh: NumberOrNull, day_before: Type.String(), kwh_before: NumberOrNull }),
  /** Devices offline when the digest was made (their open `offline` alerts); at most OFFLINE_LISTED listed. */
  offline: Type.Array(OfflineDeviceSchema),
  offline_total: Type.Number(),
  /** The month's printable report: `${PUBLIC_URL}/reports/{site}/{YYYY-MM}` (CONTRACT §11), the month of `energy.day`. */
  report_url: Type.String(),
});

export type Digest = Static<typeof DigestSchema>;
export type RuleSummary = Static<typeof RuleSummarySchema>;
export type OfflineDevice = Static<typeof OfflineDeviceSchema>;

/** How many offline devices a digest names (the rest are counted): a message stays phone-sized. */
export const OFFLINE_LISTED = 10;

/** Yesterday's energy against the day before's, %, to 0.1 %; null when either is missing or the day before had none (no ratio). */
export function energyChangePct({ kwh, kwh_before: before }: Digest["energy"]): number | null {
  if (kwh === null || before === null || before <= 0) return null;
  return Math.round(((kwh - before) / before) * 1000) / 10;
}
