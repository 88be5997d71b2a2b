// Copy-on-write for the engine's device map. `withSlot` copies the whole map (the core never mutates what
// it was given), which with 20,000 devices costs ≈ 18 ms a copy. Two ways to update in place instead,
// both invisible from the outside:
// - within `inBatch` (every `evaluate` and `evaluateBatch`), a map the step itself created is updated in
//   place: a step copies the map at most once, however many devices it changes (a watchdog tick may
//   change them all);
// - within an owner's `run` (the alerts service, which holds the only reference to its state), a map any
//   earlier run created is updated in place, so a step copies nothing; a run that throws has its
//   in-place changes put back, so a failed input leaves the state exactly as it found it.
import type { DeviceSlot, EngineState } from "./types.js";

type Devices = EngineState["devices"];
type Undo = Array<{ devices: Devices; deviceId: string; slot: DeviceSlot | undefined }>;

let owned: WeakSet<object> | null = null;
let undo: Undo | null = null;

export function withSlot(state: EngineState, deviceId: string, slot: DeviceSlot): EngineState {
  if (owned?.has(state.devices)) {
    undo?.push({ devices: state.devices, deviceId, slot: state.devices[deviceId] });
    state.devices[deviceId] = slot;
    return { ...state };
  }
  const devices = { ...state.devices, [deviceId]: slot };
  owned?.add(devices);
  return { ...state, devices };
}

/** Runs `work` (synchronous) with in-place updates of the device maps it creates. */
export function inBatch<T>(work: () => T): T {
  if (owned) return work();
  owned = new WeakSet();
  try {
    return work();
  } finally {
    owned = null;
  }
}

export interface StateOwner {
  /** Runs `work` (synchronous) with in-place updates of every device map this owner's runs created. */
  run<T>(work: () => T): T;
}

/** For the one holder of a state that never keeps an older one (alerts/index.ts). */
export function createStateOwner(): StateOwner {
  const maps = new WeakSet<object>();
  return {
    run(work) {
      if (owned) throw new Error("an owner's run cannot be nested in another step");
      owned = maps;
      undo = [];
      try {
        return work();
      } catch (error) {
        for (const change of undo.reverse()) {
          if (change.slot === undefined) delete change.devices[change.deviceId];
          else change.devices[change.deviceId] = change.slot;
        }
        throw error;
      } finally {
        owned = null;
        undo = null;
      }
    },
  };
}
