// One step of the simulated physics, per device: mains voltage and frequency, a device's own load,
// the sum over a board's children, the demo overload, and the resulting voltage, current, energy,
// leakage and terminal temperature. Pure apart from mutating the state it is given (see model.ts).
// It knows only the two narrow shapes below, not the campus model that holds them, so the model
// (which calls these steps) and the physics do not import each other.
import type { OccupiedPeriod } from "../domain/campus-alerts.js";
import type { BuildingKind, Device } from "../domain/campus.js";
import type { FaultEffects } from "./faults.js";
import type { LocalTime } from "./local-time.js";
import { activityAt, compressorLevel, type LoadClass, PROFILES } from "./profiles.js";
import { gaussian, type Rng } from "./random.js";

/** One value per phase, L1..L3. */
export type Triple = [number, number, number];
export const triple = (): Triple => [0, 0, 0];

/** The supply every device hangs on: what the physics reads and moves of the whole campus. */
export interface Mains {
  readonly nominalV: number;
  /** Phase-to-neutral voltage at the supply, per phase, V. */
  gridV: Triple;
  frequencyHz: number;
  readonly gridRng: Rng;
}

/** One device's circuit: what the physics reads of a device and writes back at every step. */
export interface Circuit {
  readonly device: Pick<Device, "kind" | "phases" | "rating_a" | "rcd_ma">;
  readonly buildingKind: BuildingKind;
  /** The occupied hours its site gives its building kind, if any (profiles.ts activityAt). */
  readonly occupied: readonly OccupiedPeriod[] | null;
  loadClass: LoadClass;
  readonly rng: Rng;
  /** The phase (0..2 = L1..L3) a single-phase device hangs on. */
  phase: number;
  /** The device's own load at full activity, W (what is not metered further down). */
  ownPeakW: number;
  multiplier: number;
  /** AR(1) multiplicative noise on the device's own load. */
  noise: number;
  powerFactorOffset: number;
  compressorPhaseMs: number;
  /** How a 3-phase device's own load is shared between phases (a little unbalanced). */
  phaseWeights: Triple;
  cableOhm: number;
  leakageBaseMa: number;
  leakageNoise: number;
  /**
   * Whether the circuit is live: its own relay and every relay above it in the wiring closed. A dead
   * circuit draws nothing (power, current, leakage, energy stop); the voltage it reports stays, measured
   * on the supply side (model.ts switchRelay).
   */
  energised: boolean;
  // Outputs of the latest step, per phase (a single-phase device uses only index `phase`): W, var, V, A.
  p: Triple;
  q: Triple;
  v: Triple;
  i: Triple;
  energyKwh: number;
  phaseEnergyKwh: Triple;
  leakageMa: number;
  temperatureC: number;
}

/**
 * Mains voltage wanders around nominal (a mean-reverting random walk per phase, ~±1 % typical) and
 * sags a few volts at the evening peak, well inside GB/T 12325's +7 % / −10 % (domain.md §2.2).
 * Frequency wanders within 50 ± 0.05 Hz (GB/T 15945 allows ± 0.2 Hz).
 */
export function stepGrid(mains: Mains, dtS: number, local: LocalTime): void {
  const theta = 1 / 600;
  const sag = local.hour >= 19 && local.hour < 23 ? -3 : 0;
  for (let k = 0; k < 3; k++) {
    const target = mains.nominalV + sag;
    mains.gridV[k]! += theta * (target - mains.gridV[k]!) * dtS + 0.12 * Math.sqrt(dtS) * gaussian(mains.gridRng);
    mains.gridV[k] = Math.min(mains.nominalV * 1.05, Math.max(mains.nominalV * 0.94, mains.gridV[k]!));
  }
  mains.frequencyHz += (theta * 5 * (50 - mains.frequencyHz)) * dtS + 0.003 * Math.sqrt(dtS) * gaussian(mains.gridRng);
  mains.frequencyHz = Math.min(50.05, Math.max(49.95, mains.frequencyHz));
}

export function stepOwnLoad(state: Circuit, now: number, dtS: number, local: LocalTime): void {
  const profile = PROFILES[state.loadClass];
  let level = activityAt(state.loadClass, local, state.buildingKind, state.occupied);
  if (state.loadClass === "always-on") level *= compressorLevel(now, state.compressorPhaseMs, state.device.kind === "socket");
  // Load noise: AR(1) with a ~1 min memory, so loads drift like people switching things on and off.
  const keep = Math.exp(-dtS / 60);
  state.noise = state.noise * keep + 0.1 * Math.sqrt(1 - keep * keep) * gaussian(state.rng);
  const watts = Math.max(0, state.ownPeakW * level * state.multiplier * (1 + state.noise)) + (state.ownPeakW > 0 ? 2 : 0);
  const pf = Math.min(0.99, Math.max(0.5, profile.powerFactor + state.powerFactorOffset));
  const vars = watts * Math.tan(Math.acos(pf));
  state.p = triple();
  state.q = triple();
  if (state.device.phases === 3) {
    for (let k = 0; k < 3; k++) {
      state.p[k] = watts * state.phaseWeights[k]!;
      state.q[k] = vars * state.phaseWeights[k]!;
    }
  } else {
    state.p[state.phase] = watts;
    state.q[state.phase] = vars;
  }
}

export function addChild(parent: Circuit, child: Circuit): void {
  for (let k = 0; k < 3; k++) {
    const phase = parent.device.phases === 3 ? k : parent.phase;
    parent.p[phase]! += child.p[k]!;
    parent.q[phase]! += child.q[k]!;
  }
}

/** Adds a resistive appliance of `watts` (PF 1: a kettle, a heater — domain.md §4.1) on the device's own phase. */
export function addResistiveLoad(state: Circuit, watts: number): void {
  const k = state.device.phases === 3 ? 0 : state.phase;
  state.p[k]! += watts;
}

/** Adds a resistive load (PF 1) so the circuit's apparent current reaches factor × rating (× weight on ramps). */
export function applyOverload(state: Circuit, mains: Mains, factor: number, weight: number): void {
  const k = state.phase;
  const voltage = mains.gridV[k]! - state.cableOhm * state.i[k]!;
  // ±3 % at most around the factor: 1.25 × stays inside the 1.2–1.3 × band the demo promises.
  const jitter = Math.max(-0.03, Math.min(0.03, 0.012 * gaussian(state.rng)));
  const target = factor * (1 + jitter) * (state.device.rating_a ?? 16) * voltage;
  const p0 = state.p[k]!;
  const q0 = state.q[k]!;
  const heater = Math.max(0, Math.sqrt(Math.max(0, target * target - q0 * q0)) - p0);
  state.p[k] = p0 + weight * heater;
}

export function stepElectrical(state: Circuit, mains: Mains, dtS: number, local: LocalTime, effects: FaultEffects): void {
  if (!state.energised) {
    // Its loads (and any fault's appliance) are still computed, so the seeded noise runs on as it would
    // have and the load comes back in character when the circuit is switched on again.
    state.p = triple();
    state.q = triple();
  }
  let totalCurrent = 0;
  for (let k = 0; k < 3; k++) {
    const used = state.device.phases === 3 || k === state.phase;
    if (!used) {
      state.v[k] = 0;
      state.i[k] = 0;
      continue;
    }
    // The voltage at the device: the phase voltage minus the drop in the cable (I × R), from the last step.
    state.v[k] = mains.gridV[k]! - state.cableOhm * state.i[k]!;
    state.i[k] = Math.hypot(state.p[k]!, state.q[k]!) / state.v[k]!;
    totalCurrent += state.i[k]!;
    state.phaseEnergyKwh[k]! += (state.p[k]! * dtS) / 3_600_000;
  }
  state.energyKwh += ((state.p[0] + state.p[1] + state.p[2]) * dtS) / 3_600_000;
  const rcd = state.device.rcd_ma;
  if (rcd !== undefined) {
    const keep = Math.exp(-dtS / 300);
    state.leakageNoise = state.leakageNoise * keep + 0.05 * Math.sqrt(1 - keep * keep) * gaussian(state.rng);
    const perAmpMa = rcd > 100 ? 0.6 : 0.12; // insulation leakage grows with the connected load
    const raw = (state.leakageBaseMa + perAmpMa * totalCurrent) * (1 + state.leakageNoise);
    state.leakageMa = Math.max(0, Math.min(raw, rcd * (rcd > 100 ? 0.45 : 0.3)));
    // Degrading insulation: leakage climbs from its natural level to the fault's, with a little noise.
    const fault = effects.leakage;
    if (fault) state.leakageMa = Math.max(0, state.leakageMa + fault.weight * (fault.ma - state.leakageMa) * (1 + 0.01 * state.leakageNoise));
    // No voltage on the load side, no current to earth: an open relay clears the residual current.
    if (!state.energised) state.leakageMa = 0;
  }
  // Terminal temperature: ambient (warmer in the afternoon) plus a rise ∝ (I/In)², ~25 K at In, with a
  // ~5 min thermal lag (IEC 60898-1 type tests allow ~60 K terminal rise, domain.md §2.4).
  const ambient = 24 + 3 * Math.sin(((local.hour - 9) / 24) * 2 * Math.PI);
  const worst = Math.max(state.i[0], state.i[1], state.i[2]);
  const rating = state.device.rating_a ?? 63;
  let steady = ambient + 25 * (worst / rating) ** 2;
  // A loose terminal: contact resistance heats the terminal whatever the load (domain.md §3.4).
  const terminal = effects.terminal;
  if (terminal && terminal.c > steady) steady += terminal.weight * (terminal.c - steady);
  if (Number.isNaN(state.temperatureC)) state.temperatureC = steady;
  // ~5 min thermal lag; a loose terminal heats its small mass faster (~1 min).
  else state.temperatureC += (steady - state.temperatureC) * (1 - Math.exp(-dtS / (terminal ? 60 : 300)));
}
