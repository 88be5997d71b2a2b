// The webhook sender (CONTRACT §5, §9): a durable outbox of signed messages with one queue per target (the
// global webhook, the escalation target, each school's route), delivered in order per target, retried with
// exponential backoff while that target's receiver is down, kept across restarts (saved with the alert
// state) until delivered or expired. A target waits only for its own receiver: one school's webhook being
// down, slow or answering 5xx never delays another's. Header `X-Campus-Signature: sha256=<hex HMAC-SHA256
// of the body keyed by the target's secret>`; `X-Campus-Delivery` carries the outbox id, so a receiver can
// drop the duplicate a retry after a lost response produces (at-least-once).
import { createHmac } from "node:crypto";
import { backoffDelayMs } from "../../infra/backoff.js";
import type { Logger } from "../../infra/logger.js";
import type { OutboxEntry } from "../saved-state.js";

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface SenderOptions {
  /** By target key (an outbox entry's `target`). */
  targets: Readonly<Record<string, WebhookTarget>>;
  timeoutMs: number;
  /** Ceiling of the first retry delay; doubles per attempt up to maxBackoffMs, with jitter (infra/backoff.ts). */
  backoffMs: number;
  maxBackoffMs: number;
  now: () => number;
  log: Logger;
  onDelivered(entry: OutboxEntry, latencyMs: number): void;
  onFailed(entry: OutboxEntry, error: unknown): void;
  /** Dropped undelivered after its expiry. */
  onExpired(entry: OutboxEntry): void;
  /** The outbox changed (save it). */
  onChange(): void;
}

export const sign = (body: string, secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

export function createSender(initial: readonly OutboxEntry[], o: SenderOptions) {
  /** One FIFO per target: only its head is ever tried. */
  const queues = new Map<string, OutboxEntry[]>(Object.keys(o.targets).map((target) => [target, []]));
  const busy = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  for (const entry of initial) {
    const queue = queues.get(entry.target);
    if (queue) queue.push({ ...entry });
    // A route taken out of the district file (or a webhook variable unset) since: nobody left to deliver it to.
    else o.log.error({ id: entry.id, target: entry.target }, "webhook message dropped: its target is no longer configured");
  }

  const attempt = async (target: string, queue: OutboxEntry[], entry: OutboxEntry) => {
    const { url, secret } = o.targets[target]!;
    busy.add(target);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-campus-signature": sign(entry.body, secret), "x-campus-delivery": entry.id },
        body: entry.body,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      const answer = await response.text().catch(() => "");
      // Any answer but 2xx is retried, 4xx included (docs/alerts.md "Webhook": why); the receiver's own
      // words go to the log, where a refusal that persists must be read by someone.
      if (!response.ok) throw new Error(`HTTP ${response.status}${answer ? `: ${answer.slice(0, 200)}` : ""}`);
      queue.splice(queue.indexOf(entry), 1);
      o.onDelivered(entry, o.now() - entry.created_at);
    } catch (error) {
      entry.attempts += 1;
      entry.next_at = o.now() + backoffDelayMs(entry.attempts - 1, Math.random(), { baseMs: o.backoffMs, capMs: o.maxBackoffMs });
      o.onFailed(entry, error);
    } finally {
      busy.delete(target);
      o.onChange();
      if (!closed) kick();
    }
  };

  const pump = () => {
    timer = null;
    if (closed) return;
    const now = o.now();
    let wake = Infinity;
    for (const [target, queue] of queues) {
      if (busy.has(target)) continue;
      while (queue.length > 0 && queue[0]!.expires_at <= now) {
        o.onExpired(queue.shift()!);
        o.onChange();
      }
      const head = queue[0];
      if (!head) continue;
      if (head.next_at <= now) void attempt(target, queue, head);
      // Wake for the next attempt, or for the expiry if it comes first (a retry can be minutes away).
      else wake = Math.min(wake, head.next_at, head.expires_at);
    }
    if (wake !== Infinity) timer = setTimeout(pump, Math.max(0, wake - now));
  };
  const kick = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(pump, 0);
  };

  kick();
  return {
    /** Queues a message for its target (one the sender was given: ./routes.ts chooses among them). */
    enqueue(entry: OutboxEntry) {
      const queue = queues.get(entry.target);
      if (!queue) throw new Error(`no webhook target "${entry.target}"`);
      queue.push(entry);
      o.onChange();
      kick();
    },
    pending: () => [...queues.values()].flatMap((queue) => queue.map((e) => ({ ...e }))),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
