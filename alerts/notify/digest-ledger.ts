// The day's alerts as a digest counts them, pure: every alert the engine opened, with when (the service's
// wall clock: how long people took is what the digest tells, whatever the readings' own times), and when it
// was first acknowledged. Kept with the digests' state (./digests.ts) for three days, the longest a digest
// window (25 h across a DST change) reaches back with room to spare.
import { type Static, Type } from "@sinclair/typebox";
import { type Alert, SEVERITIES } from "../../domain/alert.js";
import { literalUnion } from "../../domain/schema.js";
import type { AlertChange } from "../types.js";
import type { RuleSummary } from "./digest-content.js";
import { type RouteFilter, wants } from "./routes.js";

export const LedgerEntrySchema = Type.Object({
  site: Type.String(),
  rule: Type.String(),
  /** The alert's latest severity. */
  severity: literalUnion(SEVERITIES),
  opened_at: Type.Number(),
  acked_at: Type.Optional(Type.Number()),
});
/** Alert id → its entry. */
export const LedgerSchema = Type.Record(Type.String(), LedgerEntrySchema);
export type Ledger = Static<typeof LedgerSchema>;

const KEPT_MS = 3 * 86_400_000;

/**
 * Notes an alert change at `now`; whether anything the ledger counts changed. In place: the digests own the
 * ledger (./digests.ts), and a broker restart opens every device's `offline` alert in one tick (20,000 in a
 * district): a copy per change would be 20,000 copies of 20,000 entries.
 */
export function noteInLedger(ledger: Ledger, change: AlertChange, alert: Alert, now: number): boolean {
  const entry = ledger[alert.id];
  if (change === "opened") {
    ledger[alert.id] = { site: alert.site, rule: alert.rule, severity: alert.severity, opened_at: now };
    return true;
  }
  if (entry === undefined) return false; // opened before the ledger existed
  // An acknowledgement of a latched alert whose condition is over resolves it at once (alerts/lifecycle.ts):
  // the change is "resolved", the alert carries who acknowledged it.
  const acked = (change === "acknowledged" || alert.acknowledged_by !== undefined) && entry.acked_at === undefined;
  if (entry.severity === alert.severity && !acked) return false;
  ledger[alert.id] = { ...entry, severity: alert.severity, ...(acked ? { acked_at: now } : {}) };
  return true;
}

/** Leaves out, in place, the entries opened more than three days before `now`. */
export function pruneLedger(ledger: Ledger, now: number): void {
  for (const [id, entry] of Object.entries(ledger)) if (entry.opened_at <= now - KEPT_MS) delete ledger[id];
}

const median = (sorted: readonly number[]) => {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Per rule, the alerts of a site opened in [fromMs, toMs) that the route wants: how many, how many were
 * acknowledged and how fast (median and worst, s), how many were not; rules by how many opened, most first.
 */
export function ruleSummaries(ledger: Ledger, site: string, fromMs: number, toMs: number, filter: RouteFilter): RuleSummary[] {
  const byRule = new Map<string, { opened: number; ackS: number[] }>();
  for (const entry of Object.values(ledger)) {
    if (entry.site !== site || entry.opened_at < fromMs || entry.opened_at >= toMs || !wants(filter, entry)) continue;
    const tally = byRule.get(entry.rule) ?? { opened: 0, ackS: [] };
    tally.opened += 1;
    if (entry.acked_at !== undefined) tally.ackS.push((entry.acked_at - entry.opened_at) / 1000);
    byRule.set(entry.rule, tally);
  }
  return [...byRule]
    .map(([rule, { opened, ackS }]): RuleSummary => {
      const sorted = [...ackS].sort((a, b) => a - b);
      return { rule, opened, acknowledged: sorted.length, median_ack_s: sorted.length > 0 ? median(sorted) : null, worst_ack_s: sorted.at(-1) ?? null, unacknowledged: opened - sorted.length };
    })
    .sort((a, b) => b.opened - a.opened || a.rule.localeCompare(b.rule));
}
