// The command audit (CONTRACT §10) from InfluxDB's `command` measurement: one point per change, each
// carrying the whole command as of that change (alerts/commands/desk.ts commandLine), so the newest
// point of a command id is the command. Merged with what the API saw announced (./command-log.ts), so a
// command is listed at once and while InfluxDB is behind.
import { type Command, COMMAND_ACTIONS, COMMAND_STATES, type CommandAction, type CommandState } from "../domain/command.js";
import { type InfluxClient, rows } from "../infra/influx.js";
import type { CommandLog } from "./command-log.js";
import { laterOf } from "./command-log.js";
import { historyError } from "./errors.js";
import type { Order } from "./paging.js";

/** Most `command` points read for one listing. */
const MAX_COMMAND_POINTS = 50_000;
/**
 * A command's points lie after its selection by at most its select timeout and COMMAND_TIMEOUT_S (plus a
 * restart of the alerts service): points up to this long after `to` are read, so a command selected
 * before `to` is shown in its latest state, ms.
 */
const COMMAND_SPAN_MS = 2 * 3_600_000;

/** Newest selection first; the id breaks ties. */
export const commandOrder: Order<Command> = {
  keyLength: 2,
  key: (c) => [c.selected_at, c.id],
  compare: (a, b) => b[0]!.localeCompare(a[0]!) || a[1]!.localeCompare(b[1]!),
};

export interface CommandFilter {
  fromMs: number;
  toMs: number;
  /** Validated ids ([a-z0-9-]), safe inside an InfluxQL string. */
  device?: string;
  state?: CommandState;
}

const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/** The command a `command` point describes, or null when it lacks what every command has. */
export function commandOfPoint(point: Record<string, unknown>): Command | null {
  const id = text(point.command_id);
  const selectedAt = text(point.selected_at);
  const expiresAt = text(point.expires_at);
  if (id === undefined || selectedAt === undefined || expiresAt === undefined) return null;
  if (!COMMAND_ACTIONS.includes(point.action as CommandAction) || !COMMAND_STATES.includes(point.state as CommandState)) return null;
  const command: Command = {
    id,
    device: String(point.device ?? ""),
    site: String(point.site ?? ""),
    building: String(point.building ?? ""),
    action: point.action as CommandAction,
    reason: String(point.reason ?? ""),
    issued_by: String(point.issued_by ?? ""),
    state: point.state as CommandState,
    selected_at: selectedAt,
    expires_at: expiresAt,
  };
  for (const key of ["sent_at", "confirmed_at", "detail", "ended_at", "alert_id"] as const) {
    const value = text(point[key]);
    if (value !== undefined) command[key] = value;
  }
  command.room = text(point.room) ?? null;
  return command;
}

/** The newest version of each command among the points (by point time, then by how far it got). */
export function collapseCommandPoints(points: Record<string, unknown>[]): Map<string, Command> {
  const newest = new Map<string, { time: number; command: Command }>();
  for (const point of points) {
    const command = commandOfPoint(point);
    if (command === null || typeof point.time !== "number") continue;
    const seen = newest.get(command.id);
    if (seen === undefined || point.time > seen.time || (point.time === seen.time && laterOf(seen.command, command) === command)) newest.set(command.id, { time: point.time, command });
  }
  return new Map([...newest].map(([id, { command }]) => [id, command]));
}

const matches = (c: Command, f: CommandFilter) => {
  const selected = Date.parse(c.selected_at);
  return selected >= f.fromMs && selected <= f.toMs && (f.device === undefined || c.device === f.device) && (f.state === undefined || c.state === f.state);
};

/** The commands selected within [from, to] that match the filter, newest first, each in its latest known state. */
export async function listCommands(influx: InfluxClient, log: CommandLog, filter: CommandFilter): Promise<Command[]> {
  const where = [`time >= ${Math.floor(filter.fromMs)}ms`, `time <= ${Math.ceil(filter.toMs + COMMAND_SPAN_MS)}ms`];
  if (filter.device !== undefined) where.push(`"device" = '${filter.device}'`);
  const series = await influx.query(`SELECT * FROM "command" WHERE ${where.join(" AND ")} LIMIT ${MAX_COMMAND_POINTS}`).catch(historyError);
  const commands = collapseCommandPoints(rows(series));
  for (const seen of log.all()) {
    const stored = commands.get(seen.id);
    commands.set(seen.id, stored === undefined ? seen : laterOf(stored, seen));
  }
  return [...commands.values()].filter((c) => matches(c, filter)).sort((a, b) => commandOrder.compare(commandOrder.key(a), commandOrder.key(b)));
}

/** One command by id (validated: [A-Za-z0-9_.-]), in its latest known state; null when neither source knows it. */
export async function findCommand(influx: InfluxClient, log: CommandLog, id: string): Promise<Command | null> {
  const series = await influx.query(`SELECT * FROM "command" WHERE "command_id" = '${id}' LIMIT 100`).catch(historyError);
  const stored = collapseCommandPoints(rows(series)).get(id);
  const seen = log.get(id);
  if (stored === undefined || seen === undefined) return stored ?? seen ?? null;
  return laterOf(stored, seen);
}
