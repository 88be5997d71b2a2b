// The notifier: the planner (pure) fed with alert changes and the clock, its messages routed (each school's
// to its own webhook, the rest to the global one: ./routes.ts), signed and queued in the durable outbox, and
// the sender delivering them, one queue per target. Everything it holds is saved with the alert state
// (persistence.ts), so messages and reminder clocks survive restarts.
import type { Alert } from "../../domain/alert.js";
import type { Logger } from "../../infra/logger.js";
import type { AlertMetrics } from "../metrics.js";
import type { SavedNotify } from "../saved-state.js";
import type { AlertChange } from "../types.js";
import { due, emptyNotifyState, nextGroupDue, noteChange, type NotifyConfig } from "./planner.js";
import { SECONDARY, type Targets, targetsOf, type WebhookTimings } from "./routes.js";
import { createSender } from "./webhook.js";

export { type Environment, webhookTargets, webhookTimings } from "./routes.js";

export interface Notifier {
  change(change: AlertChange, alert: Alert): void;
  /** Reminders, escalations and closed group windows (called on the service's tick). */
  tick(): void;
  snapshot(): SavedNotify;
  close(): void;
}

/** The notifier of these targets (./routes.ts webhookTargets), or null when there is none. */
export function createNotifier(targets: Targets, cfg: WebhookTimings, saved: SavedNotify | undefined, deps: { now: () => number; log: Logger; metrics: AlertMetrics; onChange(): void }): Notifier | null {
  if (Object.keys(targets.byKey).length === 0) return null;
  const plan: NotifyConfig = { groupWindowMs: cfg.groupWindowMs, repeatMs: cfg.repeatMs, escalateMs: cfg.escalateMs, secondary: SECONDARY in targets.byKey };
  let state = saved?.state ?? emptyNotifyState();
  let seq = saved?.seq ?? 0;
  let groupTimer: NodeJS.Timeout | null = null;
  const log = deps.log.child({ component: "webhook" });
  const sender = createSender(saved?.outbox ?? [], {
    targets: targets.byKey,
    timeoutMs: cfg.timeoutMs,
    backoffMs: cfg.retryMs,
    maxBackoffMs: 5 * 60_000,
    now: deps.now,
    log,
    onDelivered: (entry) => {
      deps.metrics.webhookDelivered.inc({ target: entry.target });
      deps.metrics.webhookOutbox.dec();
    },
    onFailed: (entry, error) => {
      deps.metrics.webhookFailures.inc({ target: entry.target });
      if (entry.attempts === 1 || entry.attempts % 10 === 0) log.warn({ err: error, id: entry.id, target: entry.target, attempts: entry.attempts }, "webhook delivery failed; retrying");
    },
    onExpired: (entry) => {
      deps.metrics.webhookExpired.inc({ target: entry.target });
      deps.metrics.webhookOutbox.dec();
      log.error({ id: entry.id, target: entry.target, attempts: entry.attempts }, "webhook message expired undelivered");
    },
    onChange: deps.onChange,
  });
  deps.metrics.webhookOutbox.set(sender.pending().length);

  const flush = () => {
    const now = deps.now();
    const result = due(state, now, plan);
    state = result.state;
    for (const message of result.messages) {
      const body = JSON.stringify(message.body);
      for (const target of targetsOf(message, targets)) {
        seq += 1;
        sender.enqueue({ id: `${now}-${seq}`, target, body, created_at: now, attempts: 0, next_at: now, expires_at: now + cfg.expireMs });
        deps.metrics.webhookOutbox.inc();
      }
    }
    if (result.messages.length > 0) deps.onChange();
    armGroupTimer();
  };
  const armGroupTimer = () => {
    const next = nextGroupDue(state, plan);
    if (next === null || groupTimer) return;
    groupTimer = setTimeout(() => {
      groupTimer = null;
      flush();
    }, Math.max(0, next - deps.now()));
  };

  return {
    change(change, alert) {
      const next = noteChange(state, change, alert, deps.now());
      if (next === state) return;
      state = next;
      deps.onChange();
      if (plan.groupWindowMs <= 0) flush();
      else armGroupTimer();
    },
    tick: flush,
    snapshot: () => ({ state, outbox: sender.pending(), seq }),
    close() {
      if (groupTimer) clearTimeout(groupTimer);
      sender.close();
    },
  };
}
