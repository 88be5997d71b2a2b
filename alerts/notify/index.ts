// The notifier: the planner (pure) fed with alert changes and the clock, its messages routed (./routes.ts:
// the school webhooks, the global one, the robots, e-mail and other routes that want them), queued in the
// durable outbox, and the sender delivering them, one queue per target: a signed webhook POST each, or a
// message people read under flood control (a group robot's: ./robot-channel.ts; a mail: ./email-channel.ts);
// and the daily digests (./digests.ts) through the same queues (a webhook's as signed JSON: ./digest-webhook.ts).
// Everything it holds is saved with the alert state (persistence.ts), so messages, reminder clocks and the
// minute's count survive restarts; the digests keep their own file.
import type { Alert } from "../../domain/alert.js";
import type { Campus } from "../../domain/campus.js";
import { publicUrlOf } from "../../domain/env-alerts.js";
import { CampusError, ErrorCodes, type Problem } from "../../domain/errors.js";
import type { InfluxClient } from "../../infra/influx.js";
import type { Logger } from "../../infra/logger.js";
import type { AlertMetrics } from "../metrics.js";
import { createStateOwner } from "../owned-map.js";
import type { SavedNotify } from "../saved-state.js";
import type { AlertChange } from "../types.js";
import type { Digest } from "./digest-content.js";
import { webhookDigest } from "./digest-webhook.js";
import { createDigests } from "./digests.js";
import { emailChannel, SmtpFailure } from "./email-channel.js";
import type { AlertPlace, NoticeItem } from "./message-text.js";
import type { PacedChannel } from "./paced-channel.js";
import { due, emptyNotifyState, type Message, nextGroupDue, noteChange, type NotifyConfig } from "./planner.js";
import { robotChannel, RobotRefusal } from "./robot-channel.js";
import { type Environment, SECONDARY, type Targets, targetsOf, wants, type WebhookTimings } from "./routes.js";
import { createSender, type Channel } from "./sender.js";
import { webhookChannel } from "./webhook.js";
import type { StoreBackend } from "../persistence.js";

export { type Environment, webhookTargets, webhookTimings } from "./routes.js";

/** PUBLIC_URL from the environment (default `http://localhost:${HTTP_PORT}`); a malformed one refuses the start. */
export function notificationLink(environment: Environment, httpPort: number): string {
  const problems: Problem[] = [];
  const url = publicUrlOf(environment, httpPort, problems);
  if (problems.length > 0) throw new CampusError(ErrorCodes.ENV_INVALID, "PUBLIC_URL is not an http(s) URL", problems);
  return url;
}

export interface Notifier {
  change(change: AlertChange, alert: Alert): void;
  /** Reminders, escalations and closed group windows (called on the service's tick). */
  tick(): void;
  snapshot(): SavedNotify;
  /** Stops its timers and saves the digests' file. */
  close(): Promise<void>;
}

/** Names an alert's school and building as the campus file writes them, with the school's time zone. */
export function placeOf(campus: Campus): (alert: Alert) => AlertPlace {
  return (alert) => {
    const site = campus.siteOfBuilding.get(alert.building) ?? campus.siteOfDevice.get(alert.device) ?? campus;
    return { school: site.site.name, building: campus.buildingById.get(alert.building)?.name ?? alert.building, timezone: site.site.timezone };
  };
}

/** The `{event, alert}` items a planner message is about (./planner.ts writes `alerts` for a group, else `event` and `alert`). */
const itemsOf = (body: Message["body"]): NoticeItem[] => (Array.isArray(body.alerts) ? (body.alerts as NoticeItem[]) : [{ event: body.event, alert: body.alert } as NoticeItem]);

export interface NotifierDeps {
  now: () => number;
  log: Logger;
  metrics: AlertMetrics;
  onChange(): void;
  /** `PUBLIC_URL` (domain/env-alerts.ts publicUrlOf) and the campus, for the robots' words and links. */
  publicUrl: string;
  campus: Campus;
  /** For the daily digests: energy from InfluxDB, the devices offline now, and where to keep their file. */
  influx: InfluxClient;
  openAlerts(): readonly Alert[];
  dataDir: string;
  /** REDIS_URL: the digests' file in Redis instead of DATA_DIR (alerts/redis-store.ts). */
  digestStore?: StoreBackend;
}

/** What the log says of a failed delivery besides the error: a vendor's or an SMTP server's code and words. */
function failureFields(error: unknown): Record<string, unknown> {
  if (error instanceof RobotRefusal) return { vendor: error.vendor, errcode: error.answer.code, errmsg: error.answer.message, http_status: error.answer.status };
  if (error instanceof SmtpFailure) return { smtp_server: error.server, smtp_code: error.smtpCode, smtp_response: error.response };
  return {};
}

/** The notifier of these targets (./routes.ts webhookTargets), or null when there is none. */
export function createNotifier(targets: Targets, cfg: WebhookTimings, saved: SavedNotify | undefined, deps: NotifierDeps): Notifier | null {
  if (Object.keys(targets.byKey).length + Object.keys(targets.robots).length + Object.keys(targets.emails).length === 0) return null;
  const plan: NotifyConfig = { groupWindowMs: cfg.groupWindowMs, repeatMs: cfg.repeatMs, escalateMs: cfg.escalateMs, secondary: SECONDARY in targets.byKey };
  let state = saved?.state ?? emptyNotifyState();
  // The only holder of `state`: its maps are updated in place (../owned-map.ts), their entries replaced, never
  // changed, so the store's snapshot may stringify a tracked alert later than it took it (../state-ledger.ts).
  const owner = createStateOwner();
  let seq = saved?.seq ?? 0;
  let groupTimer: NodeJS.Timeout | null = null;
  const log = deps.log.child({ component: "webhook" });
  const text = { publicUrl: deps.publicUrl, place: placeOf(deps.campus) };
  const paceDeps = (key: string) => ({ now: deps.now, ...(saved?.rate?.[key] ? { sent: saved.rate[key] } : {}) });
  // The routes people read: robots and e-mail, each under its flood limit (their minute's count is saved).
  const paced: Record<string, PacedChannel> = {
    ...Object.fromEntries(Object.entries(targets.robots).map(([key, route]) => [key, robotChannel(route, text, paceDeps(key))])),
    ...Object.fromEntries(Object.entries(targets.emails).map(([key, route]) => [key, emailChannel(route, targets.smtp!, text, paceDeps(key))])),
  };
  const channels: Record<string, Channel> = { ...Object.fromEntries(Object.entries(targets.byKey).map(([key, target]) => [key, webhookChannel(target)])), ...paced };
  const sender = createSender(saved?.outbox ?? [], {
    channels,
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
      // A refusal is logged with the vendor's or the SMTP server's code and words (never a secret, a token or a password).
      if (entry.attempts === 1 || entry.attempts % 10 === 0) log.warn({ err: error, ...failureFields(error), id: entry.id, target: entry.target, attempts: entry.attempts }, "webhook delivery failed; retrying");
    },
    onExpired: (entry) => {
      deps.metrics.webhookExpired.inc({ target: entry.target });
      deps.metrics.webhookOutbox.dec();
      log.error({ id: entry.id, target: entry.target, attempts: entry.attempts }, "webhook message expired undelivered");
    },
    onChange: deps.onChange,
  });
  deps.metrics.webhookOutbox.set(sender.pending().length);

  /** The body for this target: the message's items that the route wants (none: nothing to send). */
  const bodyFor = (key: string, message: Message): string | null => {
    const filter = targets.alongside.get(key);
    const all = itemsOf(message.body);
    const items = filter ? all.filter((i) => wants(filter, i.alert)) : all;
    if (items.length === 0) return null;
    if (key in paced) return JSON.stringify(items);
    if (items.length === all.length) return JSON.stringify(message.body);
    // A webhook route that wants fewer of a group's alerts gets the group narrowed to them.
    const head = items[0]!;
    return JSON.stringify({ ...message.body, event: head.event, alert: head.alert, alerts: items, group: { ...(message.body.group as object), count: items.length } });
  };

  const queue = (target: string, id: string, body: string, now: number) => {
    sender.enqueue({ id, target, body, created_at: now, attempts: 0, next_at: now, expires_at: now + cfg.expireMs });
    deps.metrics.webhookOutbox.inc();
  };
  // A digest for people is rendered by its channel when sent (./paced-channel.ts); a webhook's body is the signed JSON itself.
  const digestBody = (key: string, digest: Digest) => (key in paced ? JSON.stringify({ digest }) : JSON.stringify(webhookDigest(digest)));
  const digests = createDigests(targets.digests, {
    campus: deps.campus, influx: deps.influx, dataDir: deps.dataDir, publicUrl: deps.publicUrl, now: deps.now, log, openAlerts: deps.openAlerts,
    ...(deps.digestStore ? { store: deps.digestStore } : {}),
    queued: (id) => sender.pending().some((entry) => entry.id === id),
    enqueue: (target, id, digest) => queue(target, id, digestBody(target, digest), deps.now()),
  });

  const flush = () => {
    const now = deps.now();
    const result = owner.run(() => due(state, now, plan));
    state = result.state;
    for (const message of result.messages) {
      for (const target of targetsOf(message, targets)) {
        const body = bodyFor(target, message);
        if (body === null) continue;
        seq += 1;
        queue(target, `${now}-${seq}`, body, now);
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
      digests?.change(change, alert);
      const next = owner.run(() => noteChange(state, change, alert, deps.now()));
      if (next === state) return;
      state = next;
      deps.onChange();
      if (plan.groupWindowMs <= 0) flush();
      else armGroupTimer();
    },
    tick() {
      flush();
      digests?.tick();
      sender.poke();
    },
    snapshot: () => ({ state, outbox: sender.pending(), seq, rate: Object.fromEntries(Object.entries(paced).map(([key, channel]) => [key, channel.sentTimes()])) }),
    async close() {
      if (groupTimer) clearTimeout(groupTimer);
      sender.close();
      await digests?.close();
    },
  };
}
