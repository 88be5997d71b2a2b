// Faults a scenario injects into the simulated campus (issue 6, reference/anchors.md §5.10): what goes
// wrong, on which device, and when — in event time measured from the simulation's start. Pure data and
// pure functions of time; the model (physics) and the stream (I/O-level faults) apply them.

export type FaultType =
  | "overload"
  | "leakage"
  | "overheat"
  | "offline"
  | "malignant-load"
  | "counter-reset"
  | "flapping"
  | "clock-skew"
  | "command";

export const FAULT_TYPES: readonly FaultType[] = ["overload", "leakage", "overheat", "offline", "malignant-load", "counter-reset", "flapping", "clock-skew", "command"];

/**
 * How a device with a `command` fault misbehaves when a command comes (CONTRACT §10, issue 11 §6):
 * `ignore` — no answer, no change; `refuse` — an explicit refusal where its format has one (native
 * fault event, Tasmota answering with the state it kept, Shelly Gen2 RPC error), else it keeps its
 * state silently; `slow` — it acts and answers, `value` event ms late.
 */
export const COMMAND_BEHAVIOURS = ["ignore", "refuse", "slow"] as const;
export type CommandBehaviour = (typeof COMMAND_BEHAVIOURS)[number];

export interface Fault {
  type: FaultType;
  /** The device the fault happens on; for `offline`, every device below it in the wiring drops too. */
  device: string;
  /** Event ms from the simulation's start. */
  atMs: number;
  /** How long the fault lasts, event ms (Infinity: to the end). */
  forMs: number;
  /** Linear build-up time at the start (and wind-down at the end), event ms. */
  rampMs: number;
  /**
   * The fault's size, by type: overload — current as a multiple of rating_a; leakage — mA reached;
   * overheat — terminal °C reached; malignant-load — W of the resistive appliance; flapping — the high
   * current multiple (`low` is the low one); clock-skew — the device clock's offset, ms; command — how
   * late a `slow` device acts, event ms.
   */
  value: number;
  /** command: how the device treats the commands it receives while the fault lasts. */
  behaviour?: CommandBehaviour;
  /** flapping: the low current multiple. */
  low?: number;
  /** flapping: the period of one high + low cycle, event ms. */
  periodMs?: number;
}

/**
 * How much of the fault is present at `sinceStartMs` (0..1): 0 before it, a linear ramp up, 1 while it
 * holds, a linear ramp down at the end (a kettle is switched on in an instant: ramp 0).
 */
export function faultWeight(fault: Fault, sinceStartMs: number): number {
  const into = sinceStartMs - fault.atMs;
  if (into < 0 || into >= fault.forMs) return 0;
  if (fault.rampMs > 0 && into < fault.rampMs) return into / fault.rampMs;
  const left = fault.forMs - into;
  if (fault.rampMs > 0 && Number.isFinite(fault.forMs) && left < fault.rampMs) return left / fault.rampMs;
  return 1;
}

/**
 * The current multiple a flapping load draws: a square wave between `low` and `value` (high first),
 * so a rule with hysteresis sees its condition come and go every half period.
 */
export function flappingFactor(fault: Fault, sinceStartMs: number): number | null {
  if (faultWeight(fault, sinceStartMs) === 0) return null;
  const period = fault.periodMs ?? 600_000;
  const phase = ((sinceStartMs - fault.atMs) % period) / period;
  return phase < 0.5 ? fault.value : (fault.low ?? 0.8);
}

/** What the physics adds to one device at one instant (all zero when no fault touches it). */
export interface FaultEffects {
  /** Target current as a multiple of rating_a, with its ramp weight (overload, flapping). */
  overload: { factor: number; weight: number } | null;
  /** Extra resistive load, W (malignant-load). */
  extraWatts: number;
  /** Leakage the degrading insulation reaches (mA) and how far along it is (null: no leakage fault). */
  leakage: { ma: number; weight: number } | null;
  /** Terminal temperature a loose terminal drives towards (°C) and how far along (null: none). */
  terminal: { c: number; weight: number } | null;
}

export const NO_EFFECTS: FaultEffects = Object.freeze({ overload: null, extraWatts: 0, leakage: null, terminal: null });

/** The physical effects of a device's faults at `sinceStartMs`. */
export function effectsAt(faults: readonly Fault[], sinceStartMs: number): FaultEffects {
  let effects: FaultEffects | null = null;
  const edit = () => (effects ??= { overload: null, extraWatts: 0, leakage: null, terminal: null });
  for (const fault of faults) {
    const weight = faultWeight(fault, sinceStartMs);
    if (weight === 0) continue;
    switch (fault.type) {
      case "overload":
        edit().overload = { factor: fault.value, weight };
        break;
      case "flapping":
        edit().overload = { factor: flappingFactor(fault, sinceStartMs) ?? 0, weight: 1 };
        break;
      case "malignant-load":
        edit().extraWatts += fault.value * weight;
        break;
      case "leakage":
        edit().leakage = { ma: fault.value, weight };
        break;
      case "overheat":
        edit().terminal = { c: fault.value, weight };
        break;
      default:
        break; // offline, counter-reset, clock-skew and command are not physics: see stream.ts and model.ts
    }
  }
  return effects ?? NO_EFFECTS;
}

/**
 * The command fault holding on a device at `sinceStartMs`, or null (the device obeys at once). Of two
 * that overlap, the one that began later wins, so a scenario's window overrides a run-long setting.
 */
export function commandFaultAt(faults: readonly Fault[], sinceStartMs: number): Fault | null {
  let found: Fault | null = null;
  for (const fault of faults) {
    if (fault.type !== "command" || faultWeight(fault, sinceStartMs) === 0) continue;
    if (found === null || fault.atMs >= found.atMs) found = fault;
  }
  return found;
}
