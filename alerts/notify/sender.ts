// The durable outbox (CONTRACT §5, §9, §14): one queue per target (the global webhook, the escalation
// target, each route), delivered in order per target, retried with exponential backoff while that target
// fails, kept across restarts (saved with the alert state) until delivered or expired. A target waits only
// for its own receiver: one school's webhook or robot being down, slow or refusing never delays another's.
// How a target sends is its channel's: a signed webhook POST (./webhook.ts) or a group robot, which may
// carry several queued messages at once under flood control (./robot-channel.ts).
import { backoffDelayMs } from "../../infra/backoff.js";
import type { Logger } from "../../infra/logger.js";
import type { OutboxEntry } from "../saved-state.js";

export interface Channel {
  /** How many entries from the head of the queue the next attempt carries, or when to try again (epoch ms). */
  plan(queue: readonly OutboxEntry[], now: number): { take: number } | { waitUntil: number };
  /** Sends them as one message; throws when it is not delivered (the error's message is logged). */
  deliver(entries: readonly OutboxEntry[], timeoutMs: number): Promise<void>;
}

export interface SenderOptions {
  /** By target key (an outbox entry's `target`). */
  channels: Readonly<Record<string, Channel>>;
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

export function createSender(initial: readonly OutboxEntry[], o: SenderOptions) {
  /** One FIFO per target: only its head decides when the next attempt is. */
  const queues = new Map<string, OutboxEntry[]>(Object.keys(o.channels).map((target) => [target, []]));
  const busy = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  for (const entry of initial) {
    const queue = queues.get(entry.target);
    if (queue) queue.push({ ...entry });
    // A route taken out of the file (or a webhook variable unset) since: nobody left to deliver it to.
    else o.log.error({ id: entry.id, target: entry.target }, "webhook message dropped: its target is no longer configured");
  }

  const attempt = async (target: string, queue: OutboxEntry[], entries: OutboxEntry[]) => {
    busy.add(target);
    try {
      await o.channels[target]!.deliver(entries, o.timeoutMs);
      for (const entry of entries) {
        queue.splice(queue.indexOf(entry), 1);
        o.onDelivered(entry, o.now() - entry.created_at);
      }
    } catch (error) {
      // The head carries the retry clock of the attempt (the others are tried with it, or on their own later).
      const head = entries[0]!;
      head.attempts += 1;
      head.next_at = o.now() + backoffDelayMs(head.attempts - 1, Math.random(), { baseMs: o.backoffMs, capMs: o.maxBackoffMs });
      o.onFailed(head, error);
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
      // Wake for the next attempt, or for the expiry if it comes first (a retry can be minutes away).
      if (head.next_at > now) {
        wake = Math.min(wake, head.next_at, head.expires_at);
        continue;
      }
      const plan = o.channels[target]!.plan(queue, now);
      if ("take" in plan) void attempt(target, queue, queue.slice(0, Math.max(1, plan.take)));
      else wake = Math.min(wake, plan.waitUntil, head.expires_at);
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
      if (!queue) throw new Error(`no notification target "${entry.target}"`);
      queue.push(entry);
      o.onChange();
      kick();
    },
    /** Looks at the queues again now: the service's tick, so a wait is never longer than a tick past its time (tests move the clock). */
    poke: () => {
      if (!closed) kick();
    },
    pending: () => [...queues.values()].flatMap((queue) => queue.map((e) => ({ ...e }))),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
