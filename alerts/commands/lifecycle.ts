// The moves every part of the command core makes: store a command (and its device's one active slot),
// change its state with an announcement, and end it when its time has run out. Pure.
import { type Command, type CommandState, isFinal } from "../../domain/command.js";
import type { CommandBook, CommandEffect, CommandSettings, CommandStep, TrackedCommand } from "./book.js";

export const unchanged = (book: CommandBook): CommandStep => ({ book, effects: [] });

export const iso = (ms: number) => new Date(ms).toISOString();
export const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The book with `tracked` stored: the device's one active slot is taken while it is selected or sent, freed when it ends. */
export function put(book: CommandBook, tracked: TrackedCommand): CommandBook {
  const { command } = tracked;
  const active = { ...book.active };
  if (!isFinal(command.state)) active[command.device] = command.id;
  else if (active[command.device] === command.id) delete active[command.device];
  return { ...book, commands: { ...book.commands, [command.id]: tracked }, active };
}

/** Moves a command to `state` at `now`, announcing the change (the whole command object). */
export function transition(book: CommandBook, tracked: TrackedCommand, state: CommandState, now: number, extra: Partial<Command> = {}): CommandStep {
  const command: Command = { ...tracked.command, ...extra, state };
  if (isFinal(state)) command.ended_at = iso(now);
  return { book: put(book, { ...tracked, command }), effects: [{ type: "change", command, at: now }] };
}

/** Deadlines of a command: a selection's expiry, a sent command's confirmation window. */
export function deadline(settings: CommandSettings, command: Command): number | null {
  if (command.state === "selected") return Date.parse(command.expires_at);
  if (command.state === "sent") return Date.parse(command.sent_at!) + settings.commandTimeoutMs;
  return null;
}

/**
 * Ends a selected or sent command whose deadline has passed at `now`: expired or timeout, with why. Used
 * by the tick and before any input about the command, so nothing counts after its time ran out.
 */
export function runOut(settings: CommandSettings, book: CommandBook, tracked: TrackedCommand, now: number, afterRestart = false): CommandStep | null {
  const { command } = tracked;
  const due = deadline(settings, command);
  if (due === null || now < due) return null;
  const restarted = afterRestart || tracked.restarted === true ? "; the alerts service was restarting meanwhile" : "";
  if (command.state === "selected") {
    return transition(book, tracked, "expired", now, { detail: `not operated within ${seconds(Date.parse(command.expires_at) - Date.parse(command.selected_at))} of its selection: nothing was sent${restarted}` });
  }
  const status = book.statuses[command.device];
  const offline = status?.online === false ? `; ${command.device} is offline` : "";
  return transition(book, tracked, "timeout", now, { detail: `${command.device} did not report the commanded state within ${seconds(settings.commandTimeoutMs)}${offline}${restarted}` });
}

/** The device's active command, if its deadline has not passed; one that ran out is ended first. */
export function activeCommand(settings: CommandSettings, book: CommandBook, device: string, now: number): { book: CommandBook; effects: CommandEffect[]; tracked: TrackedCommand | null } {
  const id = book.active[device];
  const tracked = id === undefined ? undefined : book.commands[id];
  if (tracked === undefined) return { book, effects: [], tracked: null };
  const ended = runOut(settings, book, tracked, now);
  return ended === null ? { book, effects: [], tracked } : { ...ended, tracked: null };
}

