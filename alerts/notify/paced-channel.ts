// A route that people read (a group robot, an e-mail address) as an outbox channel (./sender.ts): its queued
// entries composed into one message in the route's format, sent within its flood limit (./rate.ts) — several
// alert changes at once when more are waiting than the minute has room for, fewer when the message would pass
// the format's size limit — and a daily digest always alone. What composing and sending mean is the outlet's
// (./robot-channel.ts, ./email-channel.ts).
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { AlertSchema } from "../../domain/alert.js";
import { type OutboxEntry, WebhookEventSchema } from "../saved-state.js";
import { type Digest, DigestSchema } from "./digest-content.js";
import type { NoticeItem } from "./message-text.js";
import { largestFitting, nextBatch, type RateLimit, withinWindow } from "./rate.js";
import type { Channel } from "./sender.js";

/** An outbox entry about alert changes: its `{event, alert}` items (the only kind before digests existed). */
export const NoticeItemsSchema = Type.Array(Type.Object({ event: WebhookEventSchema, alert: AlertSchema }));
/** An outbox entry holding a daily digest (./digests.ts). */
export const DigestEntrySchema = Type.Object({ digest: DigestSchema });

export type Content = { items: readonly NoticeItem[] } | { digest: Digest };

/**
 * Each queued entry's content, parsed and checked once: the sender plans a route's next message at each of its
 * turns, looking at the queue's head entries every time (an entry's body never changes; a delivered one is
 * dropped with its queue's reference to it).
 */
const contents = new WeakMap<OutboxEntry, Content>();

/** What a message is about, from an outbox entry's body. */
export function contentOf(entry: OutboxEntry): Content {
  const known = contents.get(entry);
  if (known) return known;
  const parsed: unknown = JSON.parse(entry.body);
  let content: Content;
  if (Value.Check(NoticeItemsSchema, parsed)) content = { items: parsed };
  else if (Value.Check(DigestEntrySchema, parsed)) content = { digest: parsed.digest };
  else throw new Error(`outbox entry ${entry.id} is neither alert changes nor a digest`);
  contents.set(entry, content);
  return content;
}

const isDigest = (entry: OutboxEntry) => "digest" in contentOf(entry);

/** The items of several entries about alert changes, in order. */
const itemsOf = (entries: readonly OutboxEntry[]): NoticeItem[] => entries.flatMap((entry) => {
  const content = contentOf(entry);
  return "items" in content ? content.items : [];
});

export interface Outlet<Message> {
  compose(content: Content): Message;
  /** Whether the message is within the format's size limit. */
  fits(message: Message): boolean;
  /** Sends it; throws when it is not delivered (a refusal, no answer). */
  send(message: Message, nowMs: number, timeoutMs: number): Promise<void>;
}

export interface PacedChannel extends Channel {
  /** The attempts inside the flood window (saved, so a restart does not reset the count). */
  sentTimes(): number[];
}

export function pacedChannel<Message>(outlet: Outlet<Message>, rate: RateLimit, deps: { now: () => number; sent?: readonly number[] }): PacedChannel {
  let sent = [...(deps.sent ?? [])];
  return {
    plan(queue, now) {
      // A full minute waits without looking at the queue (the sender asks again at each of its turns).
      const next = nextBatch(sent, queue.length, now, rate);
      if (!("take" in next)) return next;
      // The alert changes ahead of the next digest may go together; a digest goes alone.
      const head = queue.slice(0, next.take);
      const firstDigest = head.findIndex(isDigest);
      const changes = firstDigest < 0 ? head.length : firstDigest;
      if (changes === 0) return { take: 1 };
      const fits = (n: number) => outlet.fits(outlet.compose({ items: itemsOf(head.slice(0, n)) }));
      return { take: largestFitting(changes, fits) };
    },
    async deliver(entries, timeoutMs) {
      const now = deps.now();
      sent = [...withinWindow(sent, now, rate), now];
      const first = contentOf(entries[0]!);
      await outlet.send(outlet.compose("digest" in first ? first : { items: itemsOf(entries) }), now, timeoutMs);
    },
    sentTimes: () => withinWindow(sent, deps.now(), rate),
  };
}
