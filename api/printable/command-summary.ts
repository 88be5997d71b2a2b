// The month's remote switching of one school (CONTRACT §10) for the report: counts by result, schedules
// summed per schedule (a dormitory's lights-out switches every room on every school day: listing each would
// fill pages), and the people's and rules' commands listed, newest first. Pure.
import type { Schedule } from "../../domain/campus.js";
import { type Command, COMMAND_STATES } from "../../domain/command.js";
import type { CommandSummary } from "./model.js";

/** Most commands listed one per line: the rest of a page after the alerts (two A4 pages in all, issue 13). */
export const MAX_LISTED_COMMANDS = 12;

const SCHEDULE_PREFIX = "schedule:";

/** `commands`: the school's commands selected in the month, newest first; `schedules`: its campus file's. */
export function commandSummary(commands: readonly Command[], schedules: readonly Schedule[], maxListed = MAX_LISTED_COMMANDS): CommandSummary {
  const counts = new Map<string, number>();
  const bySchedule = new Map<string, { count: number; confirmed: number }>();
  const others: Command[] = [];
  for (const command of commands) {
    counts.set(command.state, (counts.get(command.state) ?? 0) + 1);
    if (!command.issued_by.startsWith(SCHEDULE_PREFIX)) {
      others.push(command);
      continue;
    }
    const id = command.issued_by.slice(SCHEDULE_PREFIX.length);
    const seen = bySchedule.get(id) ?? { count: 0, confirmed: 0 };
    seen.count += 1;
    if (command.state === "confirmed") seen.confirmed += 1;
    bySchedule.set(id, seen);
  }
  const names = new Map(schedules.map((s) => [s.id, s.name]));
  return {
    total: commands.length,
    byState: COMMAND_STATES.filter((state) => counts.has(state)).map((state) => ({ state, count: counts.get(state)! })),
    schedules: [...bySchedule].map(([id, seen]) => ({ id, name: names.get(id) ?? id, ...seen })).sort((a, b) => a.id.localeCompare(b.id)),
    listed: others.slice(0, maxListed),
    unlisted: Math.max(0, others.length - maxListed),
  };
}
