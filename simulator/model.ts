// The simulated campus: every device's load, voltage, current, energy, leakage and temperature, advanced
// in fixed steps of event time. Pure: time comes in as a parameter and all randomness comes from
// generators seeded by `seed`, so the same seed and the same times give byte-identical readings.
// The state is mutated in place for speed (10k devices later); nothing outside it is touched.
// One model is one site (its mains, time zone and nominal voltage): a district is one model per site
// (stream.ts), each school on its own supply and its own local clock (CONTRACT §9).
import type { Campus, Device } from "../domain/campus.js";
import { effectsAt, type Fault, NO_EFFECTS } from "./faults.js";
import { type LocalTime, localTime } from "./local-time.js";
import { type OverloadPlan, overloadAt } from "./overload.js";
import { addChild, addResistiveLoad, applyOverload, type Circuit, type Mains, stepElectrical, stepGrid, stepOwnLoad, type Triple, triple } from "./physics.js";
import { classifyLoad, type LoadClass, PROFILES } from "./profiles.js";
import { createRng, deriveSeed, uniform } from "./random.js";

export interface ModelOptions {
  seed: number;
  /** Event time the simulation starts at, epoch ms. */
  startMs: number;
  /** Integration step, event ms (default 1 s: fine enough for 5–60 s reports and 60 s rules). */
  stepMs?: number;
  overload?: OverloadPlan | null;
  /** Scenario faults (faults.ts), in event time from `startMs`. */
  faults?: readonly Fault[];
}

/** A device in the model: its circuit (physics.ts) and what only the model keeps of it. */
export interface DeviceState extends Circuit {
  device: Device;
  children: DeviceState[];
  /** The scenario faults on this device (usually none). */
  faults: Fault[];
  /** Its own relay is closed (always, for a device without one). Remote commands open and close it: switchRelay. */
  relayOn: boolean;
  todayStartKwh: number;
  yesterdayKwh: number;
  totalStartMs: number;
}

/** The campus: its mains supply (physics.ts) and every device, on one event clock. */
export interface CampusModel extends Mains {
  campus: Campus;
  timezone: string;
  startMs: number;
  nowMs: number;
  stepMs: number;
  overload: OverloadPlan | null;
  /** Children before parents, so a parent adds up what its children drew in the same step. */
  order: DeviceState[];
  byId: Map<string, DeviceState>;
  localDate: string;
  local: LocalTime;
}

// Unmetered remainder at the top of a building's tree (corridors, pumps, unmetered circuits), W.
const FEEDER_BASE_W: Record<string, number> = { dormitory: 1500, classroom: 800, lab: 1800, office: 1200, canteen: 3000, other: 800 };
const FEEDER_CLASS: Record<string, LoadClass> = { dormitory: "dorm-room", classroom: "lighting", lab: "always-on", office: "office", canteen: "lab-motor", other: "office" };

export function createCampusModel(campus: Campus, options: ModelOptions): CampusModel {
  if (campus.sites.length > 1) throw new Error(`a campus model is one site; the district has ${campus.sites.length} (model each of campus.sites)`);
  const byId = new Map<string, DeviceState>();
  for (const device of campus.devices) byId.set(device.id, createDeviceState(campus, device, options));
  let topLevelPhase = 0;
  const nextPhase = new Map<string, number>();
  for (const state of byId.values()) {
    const parent = state.device.parent ? byId.get(state.device.parent) : undefined;
    if (parent) parent.children.push(state);
    if (!parent) state.phase = topLevelPhase++ % 3;
    else if (parent.device.phases === 3) {
      // Single-phase circuits are spread over the phases of a 3-phase board in turn.
      const n = nextPhase.get(parent.device.id) ?? 0;
      state.phase = n % 3;
      nextPhase.set(parent.device.id, n + 1);
    }
  }
  for (const state of byId.values()) inheritPhase(state);
  for (const state of byId.values()) state.ownPeakW = ownPeakW(campus, state);
  const depth = (s: DeviceState): number => (s.device.parent && byId.get(s.device.parent) ? 1 + depth(byId.get(s.device.parent)!) : 0);
  const order = [...byId.values()].sort((a, b) => depth(b) - depth(a));
  const nominalV = campus.site.nominal_voltage_v;
  const local = localTime(options.startMs, campus.site.timezone);
  const model: CampusModel = {
    campus,
    timezone: campus.site.timezone,
    nominalV,
    startMs: options.startMs,
    nowMs: options.startMs,
    stepMs: options.stepMs ?? 1000,
    overload: options.overload ?? null,
    order,
    byId,
    // Each site's supply wanders on its own (schools of a district are not one busbar).
    gridRng: createRng(deriveSeed(options.seed, `grid:${campus.site.id}`)),
    gridV: [nominalV, nominalV, nominalV],
    frequencyHz: 50,
    localDate: local.date,
    local,
  };
  computeStep(model, 0); // so every device has values before the first report
  return model;
}

/** Advances the model to `nowMs` of event time in steps of at most `stepMs`. */
export function advanceTo(model: CampusModel, nowMs: number): void {
  while (model.nowMs < nowMs) computeStep(model, Math.min(model.stepMs, nowMs - model.nowMs));
}

/**
 * Opens (`on` false) or closes the relay of a device at the model's current time and returns whether
 * it was closed. The device and everything below it in the wiring draw nothing while any relay on their
 * way to the supply is open, and a parent carries only its other children: the campus's values are
 * recomputed at once (a step of no time), so the device's answer already shows them.
 */
export function switchRelay(model: CampusModel, deviceId: string, on: boolean): boolean {
  const state = model.byId.get(deviceId);
  if (!state) throw new Error(`unknown simulated device "${deviceId}"`);
  const wasOn = state.relayOn;
  state.relayOn = on;
  const parent = state.device.parent ? model.byId.get(state.device.parent) : undefined;
  const feed = (below: DeviceState, supplied: boolean) => {
    below.energised = supplied && below.relayOn;
    for (const child of below.children) feed(child, below.energised);
  };
  feed(state, parent?.energised ?? true);
  computeStep(model, 0);
  return wasOn;
}

function createDeviceState(campus: Campus, device: Device, options: ModelOptions): DeviceState {
  const rng = createRng(deriveSeed(options.seed, device.id));
  const buildingKind = campus.buildingById.get(device.building)?.kind ?? "other";
  const unbalance = () => 1 + uniform(rng, -0.12, 0.12); // 15–25 % current unbalance is an O&M trigger (domain.md §2.2); stay below
  const weights: Triple = [unbalance(), unbalance(), unbalance()];
  const sum = weights[0] + weights[1] + weights[2];
  const energyKwh =
    device.phases === 3 ? uniform(rng, 20_000, 90_000) : device.kind === "socket" ? uniform(rng, 20, 400) : uniform(rng, 500, 5_000);
  const rcd = device.rcd_ma ?? 0;
  return {
    device,
    buildingKind,
    occupied: campus.alerts.buildingKinds[buildingKind]?.occupied ?? null,
    loadClass: classifyLoad(device, buildingKind),
    rng,
    children: [],
    faults: (options.faults ?? []).filter((f) => f.device === device.id),
    phase: -1,
    ownPeakW: 0,
    multiplier: uniform(rng, 0.75, 1.15),
    noise: 0,
    powerFactorOffset: uniform(rng, -0.03, 0.03),
    compressorPhaseMs: Math.floor(rng() * 20 * 60_000),
    phaseWeights: [weights[0] / sum, weights[1] / sum, weights[2] / sum],
    cableOhm: uniform(rng, 0.03, 0.12),
    // Natural leakage: a few mA on a 30 mA circuit (an RCD must hold below 0.5 IΔn), 100–200 mA on a
    // building feeder (GB 50116 rationale, domain.md §2.3); kept under the 0.5 × rcd_ma warning.
    leakageBaseMa: rcd > 100 ? uniform(rng, 0.17, 0.3) * rcd : uniform(rng, 0.8, 2),
    leakageNoise: 0,
    relayOn: true,
    energised: true,
    p: triple(), q: triple(), v: triple(), i: triple(),
    energyKwh,
    phaseEnergyKwh: [energyKwh / 3, energyKwh / 3, energyKwh / 3],
    leakageMa: 0,
    temperatureC: Number.NaN,
    todayStartKwh: energyKwh,
    yesterdayKwh: 0,
    totalStartMs: options.startMs - Math.floor(uniform(rng, 100, 700)) * 86_400_000,
  };
}

function inheritPhase(state: DeviceState): number {
  if (state.phase < 0) state.phase = state.device.parent ? -1 : 0;
  for (const child of state.children) if (child.phase < 0) child.phase = state.phase;
  for (const child of state.children) inheritPhase(child);
  return state.phase;
}

function ownPeakW(campus: Campus, state: DeviceState): number {
  const { device } = state;
  const profile = PROFILES[state.loadClass];
  const buildingKind = campus.buildingById.get(device.building)?.kind ?? "other";
  if (device.kind === "detector") return 0;
  if (device.kind === "socket") return profile.socketPeakW;
  if (state.children.length > 0 && device.phases === 3) {
    // A board: its own share is what is not metered further down.
    state.loadClass = FEEDER_CLASS[buildingKind] ?? "office";
    return (FEEDER_BASE_W[buildingKind] ?? 800) * (device.parent ? 0.5 : 1);
  }
  const rated = (device.rating_a ?? 10) * campus.site.nominal_voltage_v * device.phases;
  // A circuit with metered sockets below keeps only the rest (lights, fixed appliances) as its own.
  return profile.breakerPeakFraction * rated * (state.children.length > 0 ? 0.5 : 1);
}

function resetCounter(state: DeviceState): void {
  state.energyKwh = 0;
  state.phaseEnergyKwh = [0, 0, 0];
  state.todayStartKwh = 0;
  state.yesterdayKwh = 0;
}

function computeStep(model: CampusModel, dtMs: number): void {
  const now = model.nowMs + dtMs;
  const dtS = dtMs / 1000;
  const local = localTime(now, model.timezone);
  stepGrid(model, dtS, local);
  const overload = model.overload ? overloadAt(model.overload, now - model.startMs) : null;
  const sinceStart = now - model.startMs;
  for (const state of model.order) {
    stepOwnLoad(state, now, dtS, local);
    for (const child of state.children) addChild(state, child);
    const isOverloaded = overload && model.overload?.deviceId === state.device.id;
    if (isOverloaded) applyOverload(state, model, overload.factor, overload.weight);
    const effects = state.faults.length === 0 ? NO_EFFECTS : effectsAt(state.faults, sinceStart);
    if (effects.extraWatts > 0) addResistiveLoad(state, effects.extraWatts);
    if (effects.overload) applyOverload(state, model, effects.overload.factor, effects.overload.weight);
    stepElectrical(state, model, dtS, local, effects);
    for (const fault of state.faults) {
      // The device's counter restarts from zero (a reboot, an EnergyReset): CONTRACT §3 says a decrease
      // is a new counter cycle, never negative consumption.
      if (fault.type === "counter-reset" && fault.atMs > sinceStart - dtMs && fault.atMs <= sinceStart) resetCounter(state);
    }
  }
  if (local.date !== model.localDate) {
    // Tasmota's Today/Yesterday roll over at local midnight.
    for (const state of model.order) {
      state.yesterdayKwh = state.energyKwh - state.todayStartKwh;
      state.todayStartKwh = state.energyKwh;
    }
    model.localDate = local.date;
  }
  model.local = local;
  model.nowMs = now;
}
