// What a simulated device sends: the native reading of CONTRACT §3, or a Tasmota SENSOR payload
// (reference/anchors.md §2). Pure: built from the model's state at its current event time.
import { localTime } from "./local-time.js";
import type { CampusModel, DeviceState } from "./model.js";

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};
const PHASE_NAMES = ["L1", "L2", "L3"] as const;

export interface NativeReading {
  ts: string;
  voltage_v?: number;
  current_a?: number;
  power_w?: number;
  energy_kwh?: number;
  power_factor?: number;
  frequency_hz?: number;
  leakage_ma?: number;
  temperature_c?: number;
  switch_on?: boolean;
  phases?: Record<string, { voltage_v: number; current_a: number; power_w: number; energy_kwh: number; power_factor: number }>;
}

function stateOf(model: CampusModel, deviceId: string): DeviceState {
  const state = model.byId.get(deviceId);
  if (!state) throw new Error(`unknown simulated device "${deviceId}"`);
  return state;
}

const powerFactor = (p: number, q: number) => (p <= 0 ? 1 : p / Math.hypot(p, q));

/**
 * The native reading of one device at the model's current time. On a 3-phase device `current_a` is the
 * highest phase current (comparable with rating_a, which is per pole: "the worst phase decides",
 * CONTRACT §5), `voltage_v` the mean phase-to-neutral voltage, `power_w` and `energy_kwh` the totals.
 */
export function nativeReading(model: CampusModel, deviceId: string): NativeReading {
  const state = stateOf(model, deviceId);
  const { device } = state;
  const reading: NativeReading = { ts: new Date(model.nowMs).toISOString() };
  const hasTemperature = device.kind === "breaker" || device.kind === "socket" || device.kind === "detector";
  if (device.kind !== "detector") {
    const used = device.phases === 3 ? [0, 1, 2] : [state.phase];
    const p = used.reduce((sum, k) => sum + state.p[k]!, 0);
    const apparent = used.reduce((sum, k) => sum + Math.hypot(state.p[k]!, state.q[k]!), 0);
    reading.voltage_v = round(used.reduce((sum, k) => sum + state.v[k]!, 0) / used.length, 1);
    reading.current_a = round(Math.max(...used.map((k) => state.i[k]!)), 3);
    reading.power_w = round(p, 1);
    reading.energy_kwh = round(state.energyKwh, 3);
    // Arithmetic power factor P / Σ|S| on 3 phases; P / |S| on one.
    reading.power_factor = round(apparent <= 0 ? 1 : p / apparent, 3);
    reading.frequency_hz = round(model.frequencyHz, 2);
  }
  if (device.rcd_ma !== undefined) reading.leakage_ma = round(state.leakageMa, 1);
  if (hasTemperature) reading.temperature_c = round(state.temperatureC, 1);
  if (device.kind === "breaker" || device.kind === "socket") reading.switch_on = true;
  if (device.phases === 3 && device.kind !== "detector") {
    reading.phases = {};
    for (let k = 0; k < 3; k++) {
      reading.phases[PHASE_NAMES[k]!] = {
        voltage_v: round(state.v[k]!, 1),
        current_a: round(state.i[k]!, 3),
        power_w: round(state.p[k]!, 1),
        energy_kwh: round(state.phaseEnergyKwh[k]!, 3),
        power_factor: round(powerFactor(state.p[k]!, state.q[k]!), 3),
      };
    }
  }
  return reading;
}

/**
 * A Tasmota `tele/<topic>/SENSOR` payload. `Time` and `TotalStartTime` are site-local wall time with no
 * zone, as the device's own clock shows them; energies are kWh, power W, apparent VA, reactive var.
 */
export function tasmotaSensor(model: CampusModel, deviceId: string): Record<string, unknown> {
  const state = stateOf(model, deviceId);
  const k = state.device.phases === 3 ? 0 : state.phase;
  const p = state.device.phases === 3 ? state.p[0] + state.p[1] + state.p[2] : state.p[k]!;
  const q = state.device.phases === 3 ? state.q[0] + state.q[1] + state.q[2] : state.q[k]!;
  return {
    Time: localTime(model.nowMs, model.timezone).iso,
    ENERGY: {
      TotalStartTime: localTime(state.totalStartMs, model.timezone).iso,
      Total: round(state.energyKwh, 3),
      Yesterday: round(state.yesterdayKwh, 3),
      Today: round(state.energyKwh - state.todayStartKwh, 3),
      Power: Math.round(p),
      ApparentPower: Math.round(Math.hypot(p, q)),
      ReactivePower: Math.round(q),
      Factor: round(powerFactor(p, q), 2),
      Voltage: Math.round(state.v[k]!),
      Current: round(state.i[k]!, 3),
    },
  };
}
