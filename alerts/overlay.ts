// What the engine lays over the rules' verdicts before anything leaves it, pure:
// - inhibition (domain.md §5 "suppress child alarms when a parent is down", §8 row 22): while a parent
//   device (feeder, gateway) has an open `offline` or `device-trip` alert, its descendants' `offline`
//   (no-data) alerts carry `inhibited_by: <that alert's id>` and are not paged, and for a grace after it
//   comes back, while they report again (./return-grace.ts);
// - maintenance windows: an alert a silence in force matches carries `silenced_by` and is not paged
//   (latched critical fire-related alerts never are, silences.ts);
// - the retained silence list, republished whenever it changes.
// Both marks are recomputed on every change, so an alert is paged once they lift while it is still open.
import type { Alert } from "../domain/alert.js";
import { currentSilences, type RuleBook } from "./rule-book.js";
import { inForce, silencing } from "./silences.js";
import type { Effect, EngineState, EvaluateResult } from "./types.js";
import { withSlot } from "./draft.js";
import { descendants, endReturns, recordReturn, returnedAlert } from "./return-grace.js";

/** Rules whose open alert on a parent explains its children's silence. */
const PARENT_DOWN_RULES = new Set(["offline", "device-trip"]);
/** Rules suppressed on children while their parent is down. */
const INHIBITED_RULES = new Set(["offline"]);

/**
 * Which open alerts to mark again besides those this step changed: `all` (service start, a silence
 * request); `when-silences-change` (the watchdog tick: all of them only when a maintenance window began or
 * ended, since nothing else that marks an alert moves with the clock; every second over 20,000 open
 * alerts was a quarter of a core); `touched` (the descendants of a parent whose alert changed, no more).
 */
export type Remark = "all" | "when-silences-change" | "touched";

/** `tickSlice`: the watchdog's tick over these devices of the rule book's `tickOrder` (their returns may end). */
export function overlay(book: RuleBook, result: EvaluateResult, remark: Remark, now: number, tickSlice?: { from: number; to: number }): EvaluateResult {
  let state = result.state;
  const effects = [...result.effects];
  const touched = new Map<string, Alert>(); // alert id → its latest version in this evaluation
  // alert id → the index of its first effect (a tick may open thousands: no search per alert)
  const effectIndex = new Map<string, number>();
  effects.forEach((e, i) => {
    if (e.type !== "alert") return;
    touched.set(e.alert.id, e.alert);
    if (!effectIndex.has(e.alert.id)) effectIndex.set(e.alert.id, i);
  });
  // Devices whose parent-down alert changed: their descendants' inhibition may have changed with it.
  const parentsChanged = new Set<string>();
  for (const alert of touched.values()) {
    if (!PARENT_DOWN_RULES.has(alert.rule)) continue;
    parentsChanged.add(alert.device);
    if (alert.state === "resolved") state = recordReturn(book, state, alert, now);
  }
  if (tickSlice) {
    const ends = endReturns(book, state, tickSlice, now);
    state = ends.state;
    for (const device of ends.ended) parentsChanged.add(device);
  }
  const silenceChanged = effects.some((e) => e.type === "silence-result" && e.result.ok);
  const silences = currentSilences(book, state, now);
  // Which windows exist and which are in force now: a window that begins changes no list, only marks.
  const key = silences.map((s) => `${s.id}/${s.ends_at}/${s.ended_at ?? ""}/${inForce(s, now) ? "on" : "off"}`).join(",");
  const keyChanged = key !== (state.silenceKey ?? "");
  const all = remark === "all" || silenceChanged || (remark === "when-silences-change" && keyChanged);

  const mark = (alert: Alert, at: number) => {
    const inhibitedBy = INHIBITED_RULES.has(alert.rule) && alert.state !== "resolved" ? inhibitor(book, state, alert.device, now) : alert.inhibited_by;
    const silencedBy = alert.state === "resolved" ? alert.silenced_by : silencing(silences, alert, now);
    if (inhibitedBy === alert.inhibited_by && silencedBy === alert.silenced_by) return;
    const { inhibited_by: _i, silenced_by: _s, ...rest } = alert;
    const next: Alert = { ...rest, ...(inhibitedBy ? { inhibited_by: inhibitedBy } : {}), ...(silencedBy ? { silenced_by: silencedBy } : {}) };
    const index = effectIndex.get(alert.id);
    if (index !== undefined) effects[index] = { ...(effects[index] as Extract<Effect, { type: "alert" }>), alert: next };
    else effectIndex.set(alert.id, effects.push({ type: "alert", change: "updated", alert: next, at }) - 1);
    if (next.state !== "resolved") state = withAlert(state, next);
  };

  for (const alert of touched.values()) mark(alert, effectAt(effects, effectIndex.get(alert.id), now));
  if (all) {
    for (const slot of Object.values(state.devices)) {
      for (const instance of Object.values(slot.rules)) {
        if (instance.alert && !touched.has(instance.alert.id)) mark(instance.alert, now);
      }
    }
  } else {
    // Only the descendants of a changed parent: a status among 20,000 devices must not re-mark them all.
    for (const deviceId of descendants(book, parentsChanged)) {
      const rules = state.devices[deviceId]?.rules;
      for (const rule of INHIBITED_RULES) {
        const alert = rules?.[rule]?.alert;
        if (alert && !touched.has(alert.id)) mark(alert, now);
      }
    }
  }

  if ((remark !== "touched" || silenceChanged) && keyChanged) {
    state = { ...state, silenceKey: key };
    effects.push({ type: "silences", silences });
  }
  return state === result.state && effects.length === result.effects.length && effects.every((e, i) => e === result.effects[i]) ? result : { state, effects };
}

const effectAt = (effects: Effect[], index: number | undefined, now: number) => {
  const e = index === undefined ? undefined : effects[index];
  return e?.type === "alert" ? e.at : now;
};

/** The open offline / device-trip alert of the nearest ancestor that has one, or is in its grace after it came back. */
function inhibitor(book: RuleBook, state: EngineState, deviceId: string, now: number): string | undefined {
  const seen = new Set<string>([deviceId]);
  let parent = book.campus.deviceById.get(deviceId)?.parent ?? null;
  while (parent !== null && !seen.has(parent)) {
    seen.add(parent);
    const rules = state.devices[parent]?.rules;
    for (const rule of PARENT_DOWN_RULES) {
      const alert = rules?.[rule]?.alert;
      if (alert) return alert.id;
    }
    const returned = returnedAlert(state, parent, now);
    if (returned) return returned;
    parent = book.campus.deviceById.get(parent)?.parent ?? null;
  }
  return undefined;
}

function withAlert(state: EngineState, alert: Alert): EngineState {
  const slot = state.devices[alert.device];
  const instance = slot?.rules[alert.rule];
  if (!slot || !instance || instance.alert?.id !== alert.id) return state;
  return withSlot(state, alert.device, { ...slot, rules: { ...slot.rules, [alert.rule]: { ...instance, alert } } });
}
