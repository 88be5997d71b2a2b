// What a simulated device sends: the native reading of CONTRACT §3, or a Tasmota SENSOR or STATE payload
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
  if (device.kind === "breaker" || device.kind === "socket") reading.switch_on = state.relayOn;
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

/**
 * A Tasmota `tele/<topic>/STATE` payload, sent with every SENSOR (each TelePeriod): the device's health
 * and its relay as `POWER` "ON"/"OFF" — a periodic state, not an answer to a command (CONTRACT §10).
 * Uptime counts from the simulation's start; the Wi-Fi figures are a steady, good link.
 */
export function tasmotaState(model: CampusModel, deviceId: string): Record<string, unknown> {
  const state = stateOf(model, deviceId);
  const uptimeS = Math.max(0, Math.floor((model.nowMs - model.startMs) / 1000));
  const days = Math.floor(uptimeS / 86_400);
  const clock = new Date((uptimeS % 86_400) * 1000).toISOString().slice(11, 19);
  return {
    Time: localTime(model.nowMs, model.timezone).iso,
    Uptime: `${days}T${clock}`,
    UptimeSec: uptimeS,
    Heap: 26,
    SleepMode: "Dynamic",
    Sleep: 50,
    LoadAvg: 19,
    MqttCount: 1,
    POWER: relayWord(state.relayOn),
    Wifi: { AP: 1, SSId: "campus-iot", Channel: 6, Mode: "11n", RSSI: 78, Signal: -61, LinkCount: 1, Downtime: "0T00:00:03" },
  };
}

/** Tasmota's word for a relay state, in STATE, `stat/…/POWER` and `stat/…/RESULT`. */
export const relayWord = (on: boolean) => (on ? "ON" : "OFF");
