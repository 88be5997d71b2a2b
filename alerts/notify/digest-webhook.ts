// A daily digest (./digest-content.ts) as a webhook's body (CONTRACT §14 "Digest" on a `webhook` route), pure:
// JSON for a machine, beside CONTRACT §5's alert changes on the same route — the same signature, outbox and
// retries (./webhook.ts, ./sender.ts), told apart by `event: "digest"`. Names are snake_case like §5's body,
// numbers are numbers (null: not known), times ISO 8601 with the school's offset at that instant.
import { type Static, Type } from "@sinclair/typebox";
import { isoInZone } from "../../domain/time-zone.js";
import { type Digest, energyChangePct, RuleSummarySchema } from "./digest-content.js";

const NumberOrNull = Type.Union([Type.Number(), Type.Null()]);

export const WebhookDigestSchema = Type.Object({
  event: Type.Literal("digest"),
  site: Type.String(),
  site_name: Type.String(),
  timezone: Type.String(),
  /** The school's local date the digest is for ("YYYY-MM-DD"). */
  date: Type.String(),
  /** The alerts' window: the previous digest time to this one (24 h; 23 or 25 h across a DST change). */
  from: Type.String(),
  to: Type.String(),
  /** Per rule, the alerts opened in the window that the route wants, most first (./digest-ledger.ts). */
  alerts_by_rule: Type.Array(RuleSummarySchema),
  /** `day` (yesterday, local midnight to midnight) against `previous_day`, kWh; `change_pct` to 0.1 %. */
  energy: Type.Object({ day: Type.String(), kwh: NumberOrNull, previous_day: Type.String(), previous_kwh: NumberOrNull, change_pct: NumberOrNull }),
  /** Devices offline when the digest was made: how many, and the first OFFLINE_LISTED (./digest-content.ts). */
  offline: Type.Object({
    count: Type.Number(),
    devices: Type.Array(Type.Object({ device: Type.String(), building_name: Type.String(), room: Type.Optional(Type.String()) })),
  }),
  report_url: Type.String(),
});
export type WebhookDigest = Static<typeof WebhookDigestSchema>;

/** A sum of float deltas (12.500000000000002) to the watt-hour: the counters' own resolution at best. */
const kwhOf = (kwh: number | null) => (kwh === null ? null : Math.round(kwh * 1000) / 1000);

export function webhookDigest(digest: Digest): WebhookDigest {
  const zone = digest.timezone;
  return {
    event: "digest",
    site: digest.site,
    site_name: digest.school,
    timezone: zone,
    date: digest.date,
    from: isoInZone(digest.from_ms, zone),
    to: isoInZone(digest.to_ms, zone),
    alerts_by_rule: digest.rules,
    energy: { day: digest.energy.day, kwh: kwhOf(digest.energy.kwh), previous_day: digest.energy.day_before, previous_kwh: kwhOf(digest.energy.kwh_before), change_pct: energyChangePct(digest.energy) },
    offline: { count: digest.offline_total, devices: digest.offline.map(({ device, building, room }) => ({ device, building_name: building, ...(room === undefined ? {} : { room }) })) },
    report_url: digest.report_url,
  };
}
