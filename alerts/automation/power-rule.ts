// The dormitory power rule (CONTRACT §10, opt-in per building kind: `alerts.building_kinds.<kind>.actions`),
// pure: step(campus, state, input, now) → {state, effects}; the wall clock comes in, orders go out.
// When a malignant-load or power-limit alert opens, the room's circuit is switched off by `rule:{rule id}`
// with the alert's id; after `restore_after` the rule switches it back on; once the room has been restored
// `max_restores_per_day` times on a local day of the room's own site (CONTRACT §9), the next cut-off stays
// off until a person switches it on (a schedule's switch-on leaves it off: ./index.ts). Fire-related rules
// never switch anything, whatever the campus says (GB 50116 §9.1.6): only SWITCHING_RULES act, and never
// one of FIRE_RELATED_RULES.
import { type Static, Type as T } from "@sinclair/typebox";
import type { Alert } from "../../domain/alert.js";
import type { Campus, Device } from "../../domain/campus.js";
import { FIRE_RELATED_RULES, type PowerAction, SWITCHING_RULES } from "../../domain/campus-alerts.js";
import { COMMAND_ACTIONS, type Command, type CommandAction, type CommandResult, hasRelay, switchRefusal } from "../../domain/command.js";
import { literalUnion } from "../../domain/schema.js";
import { wallClock } from "../../domain/time-zone.js";
import type { CommandOrder } from "../commands/book.js";
import { siteOf } from "../sites.js";

/** How long an order refused BUSY (another command for the device in flight) is tried again, each tick, ms. */
export const BUSY_RETRY_MS = 60_000;

const CircuitSchema = T.Object({
  rule: T.String(),
  alert_id: T.String(),
  /** Wall clock of the cut-off, epoch ms. */
  cut_at: T.Number(),
  /** The cut-off command, once issued (the alert carries it as `command_id`). */
  command_id: T.Optional(T.String()),
  /** When the rule switches it back on, epoch ms (absent: it does not). */
  restore_at: T.Optional(T.Number()),
  /** Off until a person switches it on. */
  held: T.Optional(T.Boolean()),
  /** An order refused BUSY, tried again each tick until `until` (epoch ms). */
  retry: T.Optional(T.Object({ action: literalUnion(COMMAND_ACTIONS), until: T.Number() })),
});

export const PowerRuleStateSchema = T.Object({
  /** The circuits the rule switched off, by device id. */
  circuits: T.Record(T.String(), CircuitSchema),
  /** device → the restores of its circuit on the site-local day `day` ("YYYY-MM-DD"). */
  restores: T.Record(T.String(), T.Object({ day: T.String(), count: T.Integer({ minimum: 0 }) })),
});
export type PowerRuleState = Static<typeof PowerRuleStateSchema>;
type Circuit = Static<typeof CircuitSchema>;

export const emptyPowerRuleState = (): PowerRuleState => ({ circuits: {}, restores: {} });

export type PowerRuleInput =
  | { kind: "opened"; alert: Alert }
  | { kind: "tick" }
  /** What the command desk made of an order of this rule. */
  | { kind: "issued"; device: string; action: CommandAction; result: CommandResult }
  /** Any command's change (a person's switch-on releases a held room). */
  | { kind: "command"; command: Command };

export type PowerRuleEffect = { type: "order"; order: CommandOrder } | { type: "log"; level: "info" | "warn"; device: string; message: string };

export interface PowerRuleStep {
  state: PowerRuleState;
  effects: PowerRuleEffect[];
}

/** The action the device's own site (CONTRACT §9) gives this alert's rule in its building's kind, if it may switch at all. */
export function actionFor(campus: Campus, alert: Pick<Alert, "rule" | "device">): PowerAction | null {
  // The guard that makes "fire-related rules never switch" hold for any campus, even one built by hand.
  if ((FIRE_RELATED_RULES as readonly string[]).includes(alert.rule) || !(SWITCHING_RULES as readonly string[]).includes(alert.rule)) return null;
  const device = campus.deviceById.get(alert.device);
  if (device === undefined) return null;
  const site = siteOf(campus, device.id);
  const kind = site.buildingById.get(device.building)?.kind;
  return (kind && site.alerts.buildingKinds[kind]?.actions?.[alert.rule]) || null;
}

/**
 * The room's circuit: the device itself if it has a relay and may be switched, else the nearest device
 * upstream of it in the same room that does; null when there is none.
 */
export function roomCircuit(campus: Campus, device: Device): Device | null {
  for (let d: Device | undefined = device; d !== undefined; d = d.parent === null ? undefined : campus.deviceById.get(d.parent)) {
    if (d !== device && (d.building !== device.building || d.room === null || d.room !== device.room)) return null;
    if (hasRelay(d) && switchRefusal(campus, d.id) === null) return d;
  }
  return null;
}

/**
 * The date at `now` where the circuit is, "YYYY-MM-DD": restores are counted per day of the device's own site
 * (a circuit saved before it left the campus file counts in the first site's, until the desk refuses its order).
 */
const localDay = (campus: Campus, device: string, now: number) => {
  const w = wallClock(now, (campus.siteOfDevice.get(device) ?? campus).site.timezone);
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
};
const restoredToday = (campus: Campus, state: PowerRuleState, device: string, now: number) =>
  state.restores[device]?.day === localDay(campus, device, now) ? state.restores[device].count : 0;

const withCircuit = (state: PowerRuleState, device: string, circuit: Circuit | null): PowerRuleState => {
  const circuits = { ...state.circuits };
  if (circuit === null) delete circuits[device];
  else circuits[device] = circuit;
  return { ...state, circuits };
};
const log = (level: "info" | "warn", device: string, message: string): PowerRuleEffect => ({ type: "log", level, device, message });
const order = (device: string, action: CommandAction, circuit: Circuit, reason: string): PowerRuleEffect => ({
  type: "order",
  order: { device, action, reason, by: `rule:${circuit.rule}`, alert_id: circuit.alert_id },
});

export function step(campus: Campus, state: PowerRuleState, input: PowerRuleInput, now: number): PowerRuleStep {
  switch (input.kind) {
    case "opened":
      return opened(campus, state, input.alert, now);
    case "tick":
      return tick(campus, state, now);
    case "issued":
      return issued(campus, state, input, now);
    case "command":
      return observed(state, input.command);
  }
}

function opened(campus: Campus, state: PowerRuleState, alert: Alert, now: number): PowerRuleStep {
  const action = actionFor(campus, alert);
  const device = campus.deviceById.get(alert.device);
  if (action === null || device === undefined) return { state, effects: [] };
  const circuit = roomCircuit(campus, device);
  if (circuit === null) return { state, effects: [log("warn", device.id, `${alert.rule} on ${device.id}: no circuit with a relay in room ${device.room ?? "?"} to switch off`)] };
  const used = restoredToday(campus, state, circuit.id, now);
  const restoring = action.restoreAfterMs !== null && used < action.maxRestoresPerDay;
  const plan = restoring
    ? `back on after ${Math.round(action.restoreAfterMs! / 1000)} s`
    : action.restoreAfterMs === null
      ? "off until an operator switches it on"
      : `off until an operator switches it on: restored ${used} times today, at most ${action.maxRestoresPerDay}`;
  const entry: Circuit = { rule: alert.rule, alert_id: alert.id, cut_at: now, ...(restoring ? { restore_at: now + action.restoreAfterMs! } : { held: true }) };
  const reason = `${alert.rule} in room ${device.room ?? "?"} (alert ${alert.id}): the dormitory power rule switches the room off, ${plan}`;
  return { state: withCircuit(state, circuit.id, entry), effects: [order(circuit.id, "switch_off", entry, reason)] };
}

function tick(campus: Campus, state: PowerRuleState, now: number): PowerRuleStep {
  let next = state;
  const effects: PowerRuleEffect[] = [];
  // A count of another day than the circuit's today is over.
  const current = Object.entries(state.restores).filter(([device, r]) => r.day === localDay(campus, device, now));
  if (current.length !== Object.keys(state.restores).length) next = { ...next, restores: Object.fromEntries(current) };
  for (const [device, circuit] of Object.entries(state.circuits)) {
    const { retry, restore_at: restoreAt, ...rest } = circuit;
    if (retry !== undefined && now <= retry.until) {
      effects.push(order(device, retry.action, circuit, `${circuit.rule}: tried again (the device was busy)`));
    } else if (retry !== undefined) {
      next = gaveUp(next, device, circuit, retry.action);
      effects.push(log("warn", device, `${circuit.rule}: ${device} stayed busy for ${BUSY_RETRY_MS / 1000} s; the rule gives up its ${retry.action}`));
    } else if (restoreAt !== undefined && now >= restoreAt) {
      // The restore is ordered once; what the desk makes of it comes back as `issued`.
      next = withCircuit(next, device, rest);
      const count = restoredToday(campus, next, device, now) + 1;
      effects.push(order(device, "switch_on", circuit, `${circuit.rule}: the dormitory power rule restores the room after its cut-off (restore ${count} today)`));
    }
  }
  return { state: next, effects };
}

/** A cut-off nobody could make leaves nothing to restore; a restore nobody could make leaves the room held off. */
function gaveUp(state: PowerRuleState, device: string, circuit: Circuit, action: CommandAction): PowerRuleState {
  if (action === "switch_off") return withCircuit(state, device, null);
  const { retry: _retry, restore_at: _restore, ...rest } = circuit;
  return withCircuit(state, device, { ...rest, held: true });
}

function issued(campus: Campus, state: PowerRuleState, input: Extract<PowerRuleInput, { kind: "issued" }>, now: number): PowerRuleStep {
  const { device, action, result } = input;
  const circuit = state.circuits[device];
  if (circuit === undefined) return { state, effects: [] };
  if (result.ok) {
    const { retry: _done, ...rest } = circuit;
    if (action === "switch_off") return { state: withCircuit(state, device, { ...rest, command_id: result.command.id }), effects: [] };
    const count = restoredToday(campus, state, device, now) + 1;
    return { state: { ...withCircuit(state, device, null), restores: { ...state.restores, [device]: { day: localDay(campus, device, now), count } } }, effects: [] };
  }
  if (result.code === "BUSY") {
    const retry = { action, until: circuit.retry?.until ?? now + BUSY_RETRY_MS };
    return { state: withCircuit(state, device, { ...circuit, retry }), effects: [] };
  }
  const words = action === "switch_off" ? "the room is not switched off" : "the room stays off until an operator switches it on";
  return { state: gaveUp(state, device, circuit, action), effects: [log("warn", device, `${circuit.rule}: ${result.code}: ${words}`)] };
}

/** A confirmed command by anyone but a rule: a switch-on ends the rule's part (a held room is released); a switch-off cancels a planned restore. */
function observed(state: PowerRuleState, command: Command): PowerRuleStep {
  const circuit = state.circuits[command.device];
  if (circuit === undefined || command.state !== "confirmed" || command.issued_by.startsWith("rule:")) return { state, effects: [] };
  if (command.action === "switch_on") {
    const message = circuit.held ? `${command.issued_by} switched ${command.device} on: the rule no longer holds it off` : `${command.issued_by} switched ${command.device} on before the rule's restore`;
    return { state: withCircuit(state, command.device, null), effects: [log("info", command.device, message)] };
  }
  if (circuit.restore_at === undefined) return { state, effects: [] };
  const { restore_at: _cancelled, ...rest } = circuit;
  const effects = [log("info", command.device, `${command.issued_by} switched ${command.device} off since: the rule's restore is cancelled`)];
  return { state: withCircuit(state, command.device, rest.held ? rest : null), effects };
}

/** Whether a schedule's switch-on must leave this device off: the rule holds it until a person acts. */
export const isHeldOff = (state: PowerRuleState, device: string) => state.circuits[device]?.held === true;
