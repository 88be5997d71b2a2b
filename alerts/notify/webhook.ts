// The webhook sender (CONTRACT §5): a durable outbox of signed messages, delivered in order per
// target, retried with exponential backoff while the receiver is down, kept across restarts (saved
// with the alert state) until delivered or expired. Header `X-Campus-Signature: sha256=<hex
// HMAC-SHA256 of the body keyed by the secret>`; `X-Campus-Delivery` carries the outbox id, so a
// receiver can drop the duplicate a retry after a lost response produces (at-least-once).
import { createHmac } from "node:crypto";
import { backoffDelayMs } from "../../infra/backoff.js";
import type { Logger } from "../../infra/logger.js";
import type { OutboxEntry } from "../saved-state.js";

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface SenderOptions {
  targets: Partial<Record<OutboxEntry["target"], WebhookTarget>>;
  timeoutMs: number;
  /** Ceiling of the first retry delay; doubles per attempt up to maxBackoffMs, with jitter (infra/backoff.ts). */
  backoffMs: number;
  maxBackoffMs: number;
  now: () => number;
  log: Logger;
  onDelivered(entry: OutboxEntry, latencyMs: number): void;
  onFailed(entry: OutboxEntry, error: unknown): void;
  onExpired(entry: OutboxEntry): void;
  /** The outbox changed (save it). */
  onChange(): void;
}

export const sign = (body: string, secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

export function createSender(initial: readonly OutboxEntry[], o: SenderOptions) {
  const outbox: OutboxEntry[] = [...initial];
  const busy = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const attempt = async (entry: OutboxEntry) => {
    const target = o.targets[entry.target];
    if (!target) return;
    busy.add(entry.target);
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-campus-signature": sign(entry.body, target.secret), "x-campus-delivery": entry.id },
        body: entry.body,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      const answer = await response.text().catch(() => "");
      // Any answer but 2xx is retried, 4xx included (docs/alerts.md "Webhook": why); the receiver's own
      // words go to the log, where a refusal that persists must be read by someone.
      if (!response.ok) throw new Error(`HTTP ${response.status}${answer ? `: ${answer.slice(0, 200)}` : ""}`);
      outbox.splice(outbox.indexOf(entry), 1);
      o.onDelivered(entry, o.now() - entry.created_at);
    } catch (error) {
      entry.attempts += 1;
      entry.next_at = o.now() + backoffDelayMs(entry.attempts - 1, Math.random(), { baseMs: o.backoffMs, capMs: o.maxBackoffMs });
      o.onFailed(entry, error);
    } finally {
      busy.delete(entry.target);
      o.onChange();
      if (!closed) kick();
    }
  };

  const pump = () => {
    timer = null;
    if (closed) return;
    const now = o.now();
    let wake = Infinity;
    for (const target of ["primary", "secondary"] as const) {
      if (busy.has(target)) continue;
      // In order per target: only the oldest message of a target is tried.
      let head = outbox.find((e) => e.target === target);
      while (head && head.expires_at <= now) {
        outbox.splice(outbox.indexOf(head), 1);
        o.onExpired(head);
        o.onChange();
        head = outbox.find((e) => e.target === target);
      }
      if (!head || !o.targets[target]) continue;
      if (head.next_at <= now) void attempt(head);
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
    enqueue(entry: OutboxEntry) {
      outbox.push(entry);
      o.onChange();
      kick();
    },
    pending: () => outbox.map((e) => ({ ...e })),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
