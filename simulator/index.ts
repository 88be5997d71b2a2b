// The simulator's public surface (CONTRACT §7): device clients around a pure, seeded campus model.
export { startSimulator, type RunningSimulator, type SimulatorOptions } from "./devices.js";
export { advanceTo, createCampusModel, type CampusModel, type ModelOptions } from "./model.js";
export { nativeReading, tasmotaSensor, type NativeReading } from "./payloads.js";
export { DEFAULT_OVERLOAD, overloadAt, pickOverloadDevice, type OverloadPlan } from "./overload.js";
export { createRng, deriveSeed, type Rng } from "./random.js";
