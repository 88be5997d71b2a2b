// What simulated Shelly Gen1, Shelly Gen2 and Zigbee2MQTT devices send, exactly as the real ones do
// (reference/anchors.md §2, CONTRACT §3). Pure: built from the model's state at its current event time;
// `skewMs` is the device clock's error (clock-skew scenario), applied to the times the device stamps.
import { wallClock } from "../domain/time-zone.js";
import type { CampusModel, DeviceState } from "./model.js";

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

export interface OutMessage {
  topic: string;
  payload: string;
  retain?: boolean;
}

function stateOf(model: CampusModel, deviceId: string): DeviceState {
  const state = model.byId.get(deviceId);
  if (!state) throw new Error(`unknown simulated device "${deviceId}"`);
  return state;
}

/** Totals of the phases a device uses: active W, reactive var, worst-phase A, mean V. */
function totals(state: DeviceState) {
  const used = state.device.phases === 3 ? [0, 1, 2] : [state.phase];
  const p = used.reduce((sum, k) => sum + state.p[k]!, 0);
  const q = used.reduce((sum, k) => sum + state.q[k]!, 0);
  const apparent = used.reduce((sum, k) => sum + Math.hypot(state.p[k]!, state.q[k]!), 0);
  return {
    p,
    q,
    pf: apparent <= 0 ? 1 : p / apparent,
    current: Math.max(...used.map((k) => state.i[k]!)),
    voltage: used.reduce((sum, k) => sum + state.v[k]!, 0) / used.length,
  };
}

/**
 * Shelly Gen1 (Plug S, 1PM): one plain-text value per topic. `relay/0/power` in W, `relay/0/energy` a
 * counter in watt-minutes (÷ 60 000 → kWh), `temperature` in °C, `relay/0` the relay state.
 */
export function shellyGen1Messages(model: CampusModel, deviceId: string, source: string): OutMessage[] {
  const state = stateOf(model, deviceId);
  const t = totals(state);
  return [
    { topic: `shellies/${source}/relay/0`, payload: state.relayOn ? "on" : "off" },
    { topic: `shellies/${source}/relay/0/power`, payload: String(round(t.p, 2)) },
    { topic: `shellies/${source}/relay/0/energy`, payload: String(Math.round(state.energyKwh * 60_000)) },
    { topic: `shellies/${source}/temperature`, payload: String(round(state.temperatureC, 2)) },
  ];
}

/** The `switch:0` component status of a Shelly Gen2+ device (Plus/Pro/Mini PM). */
function gen2Switch(model: CampusModel, state: DeviceState, skewMs: number) {
  const t = totals(state);
  const minuteTs = Math.floor((model.nowMs + skewMs) / 60_000) * 60;
  // by_minute: mWh of the last three whole minutes, latest first; approximated from the present power.
  const perMinuteMwh = round((t.p / 60) * 1000, 3);
  return {
    id: 0,
    source: "init",
    output: state.relayOn,
    apower: round(t.p, 1),
    voltage: round(t.voltage, 1),
    current: round(t.current, 3),
    pf: round(t.pf, 2),
    freq: round(model.frequencyHz, 2),
    aenergy: { total: round(state.energyKwh * 1000, 3), by_minute: [perMinuteMwh, perMinuteMwh, perMinuteMwh], minute_ts: minuteTs },
    temperature: { tC: round(state.temperatureC, 1), tF: round((state.temperatureC * 9) / 5 + 32, 1) },
  };
}

/**
 * Shelly Gen2+ full status on `{source}/status/switch:0` (with "Generic status update over MQTT" on).
 * It carries no time of its own, so the ingest stamps it with the receive time.
 */
export function shellyGen2Status(model: CampusModel, deviceId: string, source: string): OutMessage {
  return { topic: `${source}/status/switch:0`, payload: JSON.stringify(gen2Switch(model, stateOf(model, deviceId), 0)) };
}

/**
 * Shelly Gen2+ `NotifyStatus` on `{source}/events/rpc`: a (here complete) diff of `switch:0` with the
 * device's time in `params.ts` (unix seconds, two decimals). The output and what switched it are in the
 * diff only when `switchedBy` says the output has just changed (e.g. "MQTT", for an RPC that came so).
 */
export function shellyGen2Notify(model: CampusModel, deviceId: string, source: string, skewMs = 0, switchedBy?: string): OutMessage {
  const state = stateOf(model, deviceId);
  const ts = round((model.nowMs + skewMs) / 1000, 2);
  const { id, source: _source, output, ...changes } = gen2Switch(model, state, skewMs);
  void _source;
  const component = switchedBy === undefined ? { id, ...changes } : { id, output, source: switchedBy, ...changes };
  return {
    topic: `${source}/events/rpc`,
    payload: JSON.stringify({ src: source, dst: `${source}/events`, method: "NotifyStatus", params: { ts, "switch:0": component } }),
  };
}

/** ISO 8601 with the site's offset, as Zigbee2MQTT's `last_seen: ISO_8601_local` writes it. */
function isoLocal(epochMs: number, timeZone: string): string {
  const wall = wallClock(epochMs, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const offsetMin = Math.round((asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000))) / 60_000);
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const pad = (n: number) => String(n).padStart(2, "0");
  const ms = String(((epochMs % 1000) + 1000) % 1000).padStart(3, "0");
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}.${ms}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Zigbee2MQTT `zigbee2mqtt/{source}`: power W, voltage V, current A, energy kWh, power_factor in %
 * (as many Tuya meters report it), ac_frequency Hz, 3-phase `*_a/_b/_c`, and on breakers
 * `leakage_current` mA and `temperature` °C; `last_seen` (the bridge's `ISO_8601_local` option).
 */
export function zigbee2mqttMessage(model: CampusModel, deviceId: string, source: string, skewMs = 0): OutMessage {
  const state = stateOf(model, deviceId);
  const t = totals(state);
  const body: Record<string, unknown> = {
    state: state.relayOn ? "ON" : "OFF",
    power: round(t.p, 1),
    voltage: round(t.voltage, 1),
    current: round(t.current, 3),
    energy: round(state.energyKwh, 3),
    power_factor: Math.round(t.pf * 100),
    ac_frequency: round(model.frequencyHz, 2),
  };
  if (state.device.phases === 3) {
    (["a", "b", "c"] as const).forEach((name, k) => {
      body[`power_${name}`] = round(state.p[k]!, 1);
      body[`voltage_${name}`] = round(state.v[k]!, 1);
      body[`current_${name}`] = round(state.i[k]!, 3);
    });
  }
  if (state.device.rcd_ma !== undefined) body.leakage_current = round(state.leakageMa, 1);
  if (state.device.kind === "breaker" || state.device.kind === "socket") body.temperature = round(state.temperatureC, 1);
  body.linkquality = 60 + Math.round(state.multiplier * 100); // stable per device (0–255)
  body.last_seen = isoLocal(model.nowMs + skewMs, model.timezone);
  return { topic: `zigbee2mqtt/${source}`, payload: JSON.stringify(body) };
}
