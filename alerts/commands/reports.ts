// The device's word (CONTRACT §10 "Confirmation is the device's word"): a sent command becomes
// `confirmed` on the first report after it was sent that shows the commanded relay state (an explicit
// answer, or a periodic state report), or an explicit answer naming it without an error; `failed` on an
// explicit answer with an error or the opposite state. A periodic report of the opposite state changes
// nothing: it may have left the device before the device acted. Pure.
import { isFinal, type RelayReport, targetState } from "../../domain/command.js";
import type { CommandBook, CommandEffect, CommandSettings, CommandStep, IgnoredReason, TrackedCommand } from "./book.js";
import { activeCommand, runOut, transition, unchanged } from "./lifecycle.js";

/**
 * A periodic report whose event time is this much older than the command's `sent_at` is not evidence
 * (a device flushing what it buffered while offline, an hour-old `switch_on: false`). The margin allows
 * for a device clock a little behind ours, ms.
 */
export const DEVICE_CLOCK_TOLERANCE_MS = 60_000;

const relay = (on: boolean) => (on ? "on" : "off");

export function onReport(settings: CommandSettings, book: CommandBook, report: RelayReport, now: number): CommandStep {
  if (report.explicit && report.command_id !== undefined) return onNamedAnswer(settings, book, report, now);
  if (report.explicit && report.rpc_id !== undefined) return onRpcReply(settings, book, report, now);
  const current = activeCommand(settings, book, report.device, now);
  const tracked = current.tracked;
  if (tracked === null || tracked.command.state !== "sent") return current.effects.length > 0 ? current : unchanged(book);
  if (!report.explicit && report.ts < Date.parse(tracked.command.sent_at!) - DEVICE_CLOCK_TOLERANCE_MS) return unchanged(book);
  return decide(current, tracked, report, now, false);
}

/** An answer that names its command (a native `switch` or `fault` event, a relay report with `command_id`). */
function onNamedAnswer(settings: CommandSettings, book: CommandBook, report: RelayReport, now: number): CommandStep {
  const id = report.command_id!;
  const tracked = book.commands[id];
  if (tracked === undefined) return ignored(book, "unknown-command", report, `${report.device} answered command "${id}", which does not exist`);
  // The broker's ACL lets a device answer only on its own topics; a name of another device's command is no answer.
  if (tracked.command.device !== report.device) return ignored(book, "other-device", report, `${report.device} answered command ${id} of ${tracked.command.device}`);
  return answerTo(settings, book, tracked, report, now);
}

/** A Shelly Gen2 RPC reply: it carries the `id` of the request it answers. */
function onRpcReply(settings: CommandSettings, book: CommandBook, report: RelayReport, now: number): CommandStep {
  const tracked = Object.values(book.commands).find((t) => t.command.device === report.device && t.rpc_id === report.rpc_id);
  if (tracked === undefined) return ignored(book, "unknown-rpc-id", report, `${report.device} replied to RPC id ${report.rpc_id}, which no command sent it`);
  return answerTo(settings, book, tracked, report, now);
}

function answerTo(settings: CommandSettings, book: CommandBook, tracked: TrackedCommand, report: RelayReport, now: number): CommandStep {
  const ranOut = runOut(settings, book, tracked, now);
  if (ranOut !== null) return withIgnored(ranOut, "late", report, `${report.device} answered command ${tracked.command.id} after its time ran out`);
  const { state, id } = tracked.command;
  // The same confirmation again (a native event and its relay report, a redelivery) changes nothing.
  if (state === "confirmed" && report.error === undefined && report.on !== !targetState(tracked.command.action)) return unchanged(book);
  if (isFinal(state)) return ignored(book, "late", report, `${report.device} answered command ${id}, which had already ended ${state}`);
  // A selection has not been sent: an answer to it is not about it (a repeated or forged message).
  if (state === "selected") return ignored(book, "late", report, `${report.device} answered command ${id} before it was sent`);
  return decide({ book, effects: [] }, tracked, report, now, true);
}

function decide(current: CommandStep, tracked: TrackedCommand, report: RelayReport, now: number, named: boolean): CommandStep {
  const target = targetState(tracked.command.action);
  const how = report.explicit ? "answered" : "reported";
  let next: CommandStep | null = null;
  if (report.error !== undefined) {
    if (report.explicit) next = transition(current.book, tracked, "failed", now, { detail: `${report.device} refused the command: ${report.error}` });
  } else if (report.on === target || (report.on === null && named)) {
    const words = report.on === null ? "answered the command without an error" : `${how} its relay ${relay(target)}`;
    next = transition(current.book, tracked, "confirmed", now, { confirmed_at: new Date(now).toISOString(), detail: `${report.device} ${words}` });
  } else if (report.on === !target && report.explicit) {
    next = transition(current.book, tracked, "failed", now, { detail: `${report.device} answered that its relay stayed ${relay(!target)}` });
  }
  if (next === null) return current;
  return { book: next.book, effects: [...current.effects, ...next.effects] };
}

function ignored(book: CommandBook, reason: IgnoredReason, report: RelayReport, detail: string): CommandStep {
  return withIgnored({ book, effects: [] }, reason, report, detail);
}

function withIgnored(result: CommandStep, reason: IgnoredReason, report: RelayReport, detail: string): CommandStep {
  const effect: CommandEffect = { type: "ignored", reason, device: report.device, detail };
  return { book: result.book, effects: [...result.effects, effect] };
}
