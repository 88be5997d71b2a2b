// Remote-switching commands as the API tells them (CONTRACT §10, docs/commands.md). Every change arrives
// on the live stream as a `command` message; the stream's snapshot carries none, so on every (re)connection
// the open ones are loaded (GET /api/commands?state=selected and state=sent, docs/api.md) and those this
// page still holds open are looked up again: they may have ended while it was away. No DOM here.
import { getJson } from "./session.js";

const FINAL_STATES = new Set(["cancelled", "expired", "confirmed", "failed", "timeout"]);
export const isFinal = (state) => FINAL_STATES.has(state);

/** A command only moves forward (selected → sent → a final state): a repeated or late message never takes it back. */
const progress = (state) => (isFinal(state) ? 2 : state === "sent" ? 1 : 0);

/** The later of two versions of one command (`known` may be undefined); `known` when neither is later. */
export const laterOf = (known, next) => (!known || progress(next.state) > progress(known.state) ? next : known);

// A person switches a few circuits a day and a schedule a few hundred: the newest this many are kept.
const MAX_KEPT = 5000;
const commands = new Map();
const listeners = new Set();

/** `listener(command)` after every change of what is known about a command. */
export function onCommandChange(listener) {
  listeners.add(listener);
}

/** A command as the stream or an answer of the API gave it; ignored when an equal or later state is known. */
export function keepCommand(command) {
  const known = commands.get(command.id);
  if (laterOf(known, command) === known) return;
  commands.delete(command.id); // re-inserted last: the newest change is forgotten last
  commands.set(command.id, command);
  if (commands.size > MAX_KEPT) commands.delete(commands.keys().next().value);
  for (const listener of listeners) listener(command);
}

export const commandById = (id) => commands.get(id);

/** The device's command that is selected or sent (one at a time per device, CONTRACT §10), or undefined. */
export const openCommandOf = (device) => [...commands.values()].find((c) => c.device === device && !isFinal(c.state));

/** The device's most recently selected command, or undefined. */
export function latestCommandOf(device) {
  let latest;
  for (const c of commands.values()) if (c.device === device && (!latest || c.selected_at > latest.selected_at)) latest = c;
  return latest;
}

/** Signing out: what the next principal may see is loaded for them. */
export function forgetCommands() {
  commands.clear();
}

/** After a snapshot: the open commands, and the final state of those this page saw open. A failed request keeps what is known. */
export async function reloadOpenCommands() {
  const lists = await Promise.all(["selected", "sent"].map((state) => getJson(`/api/commands?state=${state}`)));
  const open = lists.flatMap((list) => (Array.isArray(list) ? list : []));
  for (const command of open) keepCommand(command);
  const listed = new Set(open.map((c) => c.id));
  const unaccounted = [...commands.values()].filter((c) => !isFinal(c.state) && !listed.has(c.id));
  await Promise.all(unaccounted.map(async (c) => {
    const latest = await getJson(`/api/commands/${encodeURIComponent(c.id)}`);
    if (latest?.id === c.id) keepCommand(latest);
  }));
}
