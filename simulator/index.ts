// The simulator's public surface (CONTRACT §7): device clients around a pure, seeded campus model;
// recording, replay and scenario runs.
export { MAX_QUEUED_PER_DEVICE, startSimulator, type RunningSimulator, type SimulatorOptions, type SimulatorStats } from "./fleet.js";
export { COMMAND_BEHAVIOURS, type CommandBehaviour } from "./faults.js";
export { advanceTo, createCampusModel, switchRelay, type CampusModel, type ModelOptions } from "./model.js";
export { nativeReading, tasmotaSensor, type NativeReading } from "./payloads.js";
export { DEFAULT_OVERLOAD, overloadAt, pickOverloadDevice, type OverloadPlan } from "./overload.js";
export { createRng, deriveSeed, type Rng } from "./random.js";
export { startRecorder, type Recorder, type RecorderOptions } from "./record.js";
export { replayFile, type ReplayOptions, type ReplayTotals } from "./replay.js";
export { listScenarios, loadScenario, SCENARIOS_DIR, type LoadedScenario } from "./scenario-file.js";
export { runScenario, type RunScenarioOptions, type ScenarioOutcome } from "./scenario-run.js";
