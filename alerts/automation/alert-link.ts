// The alert ↔ command link (CONTRACT §10): the command the power rule sent when an alert opened names the
// alert (`alert_id`), and the alert carries the command (`command_id`). Pure.
import type { Alert } from "../../domain/alert.js";
import { withSlot } from "../draft.js";
import type { EngineState } from "../types.js";

/** The engine state with the open alert `alert.id` carrying `command_id` (unchanged if it is no longer open). */
export function linkCommand(state: EngineState, alert: Alert, commandId: string): EngineState {
  const slot = state.devices[alert.device];
  const instance = slot?.rules[alert.rule];
  if (slot === undefined || instance?.alert?.id !== alert.id) return state;
  return withSlot(state, alert.device, { ...slot, rules: { ...slot.rules, [alert.rule]: { ...instance, alert: { ...instance.alert, command_id: commandId } } } });
}
