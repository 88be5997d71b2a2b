// Who is told what and when, pure (wall clock passed in): turns alert changes into webhook messages
// (CONTRACT §5) for the durable outbox.
// - Paged: an alert not inhibited, not silenced, not flapping. The first page of an alert is "opened"
//   (also when it was suppressed before and the suppression lifted while it is still open); then
//   "escalated" (severity), "acknowledged", "resolved" — a never-paged alert's resolution is not sent.
// - Grouped per building for `groupWindowMs` (Alertmanager's group_wait): a feeder failure is one
//   message, `{event, alert, alerts: [{event, alert}...], group}` — `event`/`alert` are the most severe item.
// - Repeated as "reminder" while firing (unacknowledged) every `repeatMs[severity]` (0 = never).
// - Escalated to the second target once after `escalateMs[severity]` without acknowledgement
//   (domain.md §8 severity table: P1 5 min, P2 30 min).
import { SEVERITIES, type Alert, type Severity } from "../../domain/alert.js";
import type { NotifyState, WebhookEvent } from "../saved-state.js";
import { inStep, withEntry, withoutEntry } from "../owned-map.js";
import type { AlertChange } from "../types.js";

export interface NotifyConfig {
  groupWindowMs: number;
  repeatMs: Partial<Record<Severity, number>>;
  escalateMs: Partial<Record<Severity, number>>;
  secondary: boolean;
}

export interface Message {
  /** "primary": the alert's own route (its site's, else the global webhook: ./routes.ts); "secondary": the escalation target. */
  target: "primary" | "secondary";
  /** The site of the alert(s) it is about (a group is one building's, so one site's). */
  site: string;
  body: Record<string, unknown>;
}

type Tracked = NotifyState["alerts"][string];

export const emptyNotifyState = (): NotifyState => ({ alerts: {}, groups: {} });

export const isSuppressed = (a: Alert) => a.inhibited_by !== undefined || a.silenced_by !== undefined || a.flapping === true;
const rank = (s: Severity) => SEVERITIES.indexOf(s);

const neverPaged = (t: Tracked) => !t.notified && t.firstSentAt === undefined && t.lastSentAt === undefined && t.escalated === undefined;

/** An alert change from the engine. */
export const noteChange = (ns: NotifyState, change: AlertChange, alert: Alert, now: number): NotifyState => inStep(() => noteOne(ns, change, alert, now));

function noteOne(ns: NotifyState, change: AlertChange, alert: Alert, now: number): NotifyState {
  const tracked = ns.alerts[alert.id] ?? { alert, notified: false };
  let event: WebhookEvent | null = null;
  let alerts: NotifyState["alerts"];
  if (alert.state === "resolved") {
    if (tracked.notified) event = "resolved";
    alerts = withoutEntry(ns.alerts, alert.id);
  } else {
    if (!isSuppressed(alert)) {
      if (!tracked.notified) event = "opened";
      else if (change === "escalated" || change === "acknowledged") event = change;
    }
    const next: Tracked = { ...tracked, alert, ...(event ? { notified: true } : {}) };
    // An alert never paged is not kept: its absence reads the same (`{ alert, notified: false }` above), and a
    // district's storm is 20,000 offline alerts inhibited under their feeders, none of them paged, which the
    // service would otherwise save and a takeover read (../redis-state.ts) for nothing.
    alerts = neverPaged(next) ? withoutEntry(ns.alerts, alert.id) : withEntry<Tracked>(ns.alerts, alert.id, next);
  }
  if (!event) return { ...ns, alerts };
  const group = ns.groups[alert.building] ?? { since: now, items: [] };
  const items = [...group.items.filter((i) => !(i.alert.id === alert.id && i.event === event)), { event, alert }];
  return { alerts, groups: withEntry(ns.groups, alert.building, { since: group.since, items }) };
}

/** What is due at `now`: closed group windows, reminders, escalations. */
export const due = (ns: NotifyState, now: number, cfg: NotifyConfig): { state: NotifyState; messages: Message[] } => inStep(() => dueAt(ns, now, cfg));

function dueAt(ns: NotifyState, now: number, cfg: NotifyConfig): { state: NotifyState; messages: Message[] } {
  const messages: Message[] = [];
  // Copied at most once a call, and not at all within the notifier's own runs (../owned-map.ts): a district's
  // storm was 20,000 tracked alerts, and a copy of them per change made it quadratic.
  let alerts = ns.alerts;
  let groups = ns.groups;
  for (const [building, group] of Object.entries(ns.groups)) {
    if (now - group.since < cfg.groupWindowMs) continue;
    groups = withoutEntry(groups, building);
    // Re-check against the latest version: an alert inhibited or silenced within the window is not paged.
    const items = group.items.filter((i) => {
      const latest = alerts[i.alert.id]?.alert;
      if (i.event !== "resolved" && latest && isSuppressed(latest)) {
        alerts = withEntry<Tracked>(alerts, i.alert.id, { ...alerts[i.alert.id]!, notified: false });
        return false;
      }
      return true;
    }).map((i) => ({ event: i.event, alert: i.event === "resolved" ? i.alert : (alerts[i.alert.id]?.alert ?? i.alert) }));
    if (items.length === 0) continue;
    const head = [...items].sort((a, b) => rank(a.alert.severity) - rank(b.alert.severity))[0]!;
    messages.push({ target: "primary", site: head.alert.site, body: { event: head.event, alert: head.alert, alerts: items, group: { building, count: items.length } } });
    for (const i of items) {
      const t = alerts[i.alert.id];
      if (t) alerts = withEntry<Tracked>(alerts, i.alert.id, { ...t, firstSentAt: t.firstSentAt ?? now, lastSentAt: now });
    }
  }
  for (const [id, t] of Object.entries(alerts)) {
    if (!t.notified || t.alert.state !== "firing" || isSuppressed(t.alert) || t.lastSentAt === undefined) continue;
    const repeat = cfg.repeatMs[t.alert.severity] ?? 0;
    if (repeat > 0 && now - t.lastSentAt >= repeat) {
      messages.push({ target: "primary", site: t.alert.site, body: { event: "reminder", alert: t.alert } });
      alerts = withEntry<Tracked>(alerts, id, { ...alerts[id]!, lastSentAt: now });
    }
    const escalate = cfg.escalateMs[t.alert.severity] ?? 0;
    if (cfg.secondary && escalate > 0 && !t.escalated && t.firstSentAt !== undefined && now - t.firstSentAt >= escalate) {
      messages.push({ target: "secondary", site: t.alert.site, body: { event: "escalated", alert: t.alert, escalation: { reason: "unacknowledged", after_s: Math.round(escalate / 1000) } } });
      alerts = withEntry<Tracked>(alerts, id, { ...alerts[id]!, escalated: true });
    }
  }
  return { state: { alerts, groups }, messages };
}

/** When the next group window closes (for a timer), or null. */
export function nextGroupDue(ns: NotifyState, cfg: NotifyConfig): number | null {
  const times = Object.values(ns.groups).map((g) => g.since + cfg.groupWindowMs);
  return times.length > 0 ? Math.min(...times) : null;
}
