// The month's alerts of one school by rule (issue 13 item 3): how many opened, how many were acknowledged,
// and how fast (median and longest time from start to acknowledgement), from the `alert` measurement
// (CONTRACT §4: one point per change of an alert, alerts/writer.ts). Pure.
import type { RuleStats } from "./model.js";

/** One `alert` point, as far as the report needs it. */
export interface AlertPoint {
  alertId: string;
  rule: string;
  /** epoch ms */
  time: number;
  /**
   * The point an acknowledgement wrote: state `acknowledged`, or `resolved` with the operator's `ack_note`
   * (acknowledging a latched alert whose condition had cleared resolves it at once, alerts/lifecycle.ts).
   */
  byAck: boolean;
}

/** The middle value of a sorted list (the mean of the two middle ones for an even count). */
export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Alerts that started in [fromMs, toMs) by rule, most frequent first. An alert starts at its earliest
 * point, so the points must reach back far enough that one opened before the month is seen opening then.
 */
export function alertsByRule(points: readonly AlertPoint[], fromMs: number, toMs: number): RuleStats[] {
  const alerts = new Map<string, { rule: string; startMs: number; ackMs: number | null }>();
  for (const p of points) {
    const seen = alerts.get(p.alertId) ?? { rule: p.rule, startMs: p.time, ackMs: null };
    seen.startMs = Math.min(seen.startMs, p.time);
    if (p.byAck) seen.ackMs = seen.ackMs === null ? p.time : Math.min(seen.ackMs, p.time);
    alerts.set(p.alertId, seen);
  }
  const byRule = new Map<string, { count: number; waits: number[] }>();
  for (const alert of alerts.values()) {
    if (alert.startMs < fromMs || alert.startMs >= toMs) continue;
    const stats = byRule.get(alert.rule) ?? { count: 0, waits: [] };
    stats.count += 1;
    if (alert.ackMs !== null) stats.waits.push(alert.ackMs - alert.startMs);
    byRule.set(alert.rule, stats);
  }
  return [...byRule]
    .map(([rule, { count, waits }]): RuleStats => {
      const sorted = waits.sort((a, b) => a - b);
      return { rule, count, acknowledged: sorted.length, medianAckMs: median(sorted), worstAckMs: sorted.at(-1) ?? null };
    })
    .sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule));
}
