// The pure core of remote switching (CONTRACT §10): step(settings, book, input, now) → {book, effects}.
// No clock, I/O or randomness inside: `now` comes in (epoch ms, wall clock), ids come from the book's
// counter, and what must happen outside (publish, answer, announce, write) comes out as effects. An
// input that changes nothing returns the very same book object, so the adapter saves only on change.
//
// Lifecycle (IEC 61850 select-before-operate): selected → sent → confirmed | failed | timeout; a selection
// ends cancelled or expired. Requests: ./requests.ts; the device's answers: ./reports.ts.
import { isFinal } from "../../domain/command.js";
import type { CommandBook, CommandEffect, CommandInput, CommandSettings, CommandStep, TrackedCommand } from "./book.js";
import { put, runOut, unchanged } from "./lifecycle.js";
import { onReport } from "./reports.js";
import { onOrder, onRequest } from "./requests.js";
import { withEntry } from "../owned-map.js";

/** How long an ended command stays in the book, ms: an operate or cancel of it is EXPIRED, not NOT_FOUND. */
export const KEEP_ENDED_MS = 10 * 60_000;
/** At most this many ended commands stay in the book (it is saved with the alert state). */
export const KEEP_ENDED_MAX = 1_000;

export function step(settings: CommandSettings, book: CommandBook, input: CommandInput, now: number): CommandStep {
  switch (input.kind) {
    case "start":
      return start(settings, book, now);
    case "tick":
      return tick(settings, book, now);
    case "request":
      return onRequest(settings, book, input.request, now);
    case "order":
      return onOrder(settings, book, input.order, now);
    case "report":
      return onReport(settings, book, input.report, now);
    case "status": {
      const { device, ts, online } = input.status;
      const known = book.statuses[device];
      // Statuses can arrive out of order (a retained copy after a live one): the newest event time wins.
      if (known !== undefined && (known.ts > ts || (known.ts === ts && known.online === online))) return unchanged(book);
      // In place when the desk owns the book (../owned-map.ts): a district's devices connecting at once
      // sent 20,000 statuses, each a copy of all 20,000 (9 % of up's CPU).
      return { book: { ...book, statuses: withEntry(book.statuses, device, { online, ts }) }, effects: [] };
    }
  }
}

/**
 * After a restart: every command that ran out while the service was away ends now, saying so; the others
 * keep their deadlines (counted from `selected_at` / `sent_at`, not from the restart) and are marked, so
 * a timeout later also says the service restarted. A command is never left `sent`.
 */
function start(settings: CommandSettings, book: CommandBook, now: number): CommandStep {
  let current = book;
  const effects: CommandEffect[] = [];
  for (const id of Object.values(book.active)) {
    const tracked = current.commands[id];
    if (tracked === undefined) continue;
    const ended = runOut(settings, current, tracked, now, true);
    if (ended !== null) {
      current = ended.book;
      effects.push(...ended.effects);
    } else current = put(current, { ...tracked, restarted: true });
  }
  return { book: current, effects };
}

/** The wall-clock timer: selections expire, sent commands time out, old ended commands leave the book. */
function tick(settings: CommandSettings, book: CommandBook, now: number): CommandStep {
  let current = book;
  const effects: CommandEffect[] = [];
  for (const id of Object.values(book.active)) {
    const ended = runOut(settings, current, current.commands[id]!, now);
    if (ended === null) continue;
    current = ended.book;
    effects.push(...ended.effects);
  }
  return { book: forgetOldEnded(current, now), effects };
}

function forgetOldEnded(book: CommandBook, now: number): CommandBook {
  const ended = Object.values(book.commands).filter((t) => isFinal(t.command.state));
  const endedAt = (t: TrackedCommand) => Date.parse(t.command.ended_at ?? t.command.selected_at);
  const old = ended.filter((t) => now - endedAt(t) > KEEP_ENDED_MS);
  const excess = Math.max(0, ended.length - old.length - KEEP_ENDED_MAX);
  const forget = [...old, ...ended.filter((t) => now - endedAt(t) <= KEEP_ENDED_MS).sort((a, b) => endedAt(a) - endedAt(b)).slice(0, excess)];
  if (forget.length === 0) return book;
  const commands = { ...book.commands };
  for (const t of forget) delete commands[t.command.id];
  return { ...book, commands };
}
