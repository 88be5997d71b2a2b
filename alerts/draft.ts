// The engine's device map, copied on write (./owned-map.ts: at most once a step, and not at all in the
// alerts service, which owns its state).
import type { DeviceSlot, EngineState } from "./types.js";
import { withEntry } from "./owned-map.js";

export function withSlot(state: EngineState, deviceId: string, slot: DeviceSlot): EngineState {
  return { ...state, devices: withEntry(state.devices, deviceId, slot) };
}
