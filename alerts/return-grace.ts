// The grace after a parent comes back, pure. While a feeder or gateway is down, the `offline` alerts of the
// devices below it are inhibited under its alert (./overlay.ts). When it comes back they come back too, each in
// its own time: a building's rooms reconnect over the seconds after its feeder meter. Paging each room that has
// not reported yet in that moment, and its return a few seconds later, is noise (a district's outage did that
// to every building of every school: docs/notifications.md). So the parent's return is recorded on its track,
// `returned: {alert, until}`, and until `until` the devices below it stay inhibited under that (resolved) alert:
// the longest offline limit among them from the return, the time the watchdog gives any device to report
// (3 × its report interval by default). One that reports meanwhile resolves without ever being paged; one
// still silent after it is paged, as any silent device is.
import type { Alert } from "../domain/alert.js";
import { withSlot } from "./draft.js";
import { reportInterval } from "./report-interval.js";
import type { RuleBook } from "./rule-book.js";
import type { EngineState } from "./types.js";

/** Every device below these (children, their children…), each once. */
export function descendants(book: RuleBook, roots: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    for (const child of book.children.get(stack.pop()!) ?? []) {
      if (found.has(child) || roots.has(child)) continue;
      found.add(child);
      stack.push(child);
    }
  }
  return found;
}

/** The longest offline limit among the devices below `parent`, ms (0 when none of them has the offline rule). */
export function graceMs(book: RuleBook, state: EngineState, parent: string): number {
  let longest = 0;
  for (const id of descendants(book, new Set([parent]))) {
    const offline = book.rulesFor.get(id)?.find((bound) => bound.rule.id === "offline");
    const device = book.campus.deviceById.get(id);
    if (!offline || !device) continue;
    const track = state.devices[id]?.track;
    const interval = track ? reportInterval(device, track) : device.report_interval_s * 1000;
    longest = Math.max(longest, Number(offline.params.silent_intervals) * interval);
  }
  return longest;
}

/** Records the return of a parent whose parent-down alert just resolved (a device with nothing below it needs none). */
export function recordReturn(book: RuleBook, state: EngineState, resolved: Alert, now: number): EngineState {
  const slot = state.devices[resolved.device];
  if (!slot || !book.children.has(resolved.device)) return state;
  const until = now + graceMs(book, state, resolved.device);
  if (until <= now) return state;
  return withSlot(state, resolved.device, { ...slot, track: { ...slot.track, returned: { alert: resolved.id, until } } });
}

/**
 * The watchdog's tick over `slice` of the rule book's `tickOrder`: drops the returns whose grace has ended, and
 * names their devices (the overlay marks what is below them again: one still silent is paged now).
 */
export function endReturns(book: RuleBook, state: EngineState, slice: { from: number; to: number }, now: number): { state: EngineState; ended: string[] } {
  const ended: string[] = [];
  let next = state;
  for (let i = slice.from; i < Math.min(slice.to, book.tickOrder.length); i++) {
    const id = book.tickOrder[i]!.id;
    const slot = next.devices[id];
    const returned = slot?.track.returned;
    if (!slot || !returned || now < returned.until) continue;
    const { returned: _, ...track } = slot.track;
    next = withSlot(next, id, { ...slot, track });
    ended.push(id);
  }
  return { state: next, ended };
}

/** The alert a device's parent `parentId` inhibits its children under while it is in its grace, or undefined. */
export function returnedAlert(state: EngineState, parentId: string, now: number): string | undefined {
  const returned = state.devices[parentId]?.track.returned;
  return returned && now < returned.until ? returned.alert : undefined;
}
