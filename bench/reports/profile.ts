// bench:reports --hourly's load profile, one source for every rollup that mode writes (./hourly.ts, ./power.ts),
// so the kWh of rollup_1h and the 15-minute power of the peak-demand rollups tell the same story: a window's
// mean power is its share of the hour's energy over 0.25 h, and the four windows of an hour average to the
// hour's mean power (kWh / 1 h). Within the hour the power swings by up to ±40 %, by an amount that differs
// from hour to hour, so each period's peak is one window, not a tie of every weekday hour. Pure.
import { DEMAND_WINDOW_MS } from "../../infra/power-rollup.js";

export const HOUR_MS = 3_600_000;
/** Windows of 15 min in an hour. */
const WINDOWS_PER_HOUR = HOUR_MS / DEMAND_WINDOW_MS;
/** The shape of the swing over an hour's four windows; sums to 0, so the hour's energy is kept. */
const SWING = [1, 1 / 3, -1 / 3, -1] as const;
/** The largest swing, as a share of the hour's mean power. */
const MAX_SWING = 0.4;

/** kWh of a device (its index in the campus) in an hour: a daytime hump on weekdays (UTC+8 local hours), a small base load, per-device scale. */
export function kwhOf(device: number, hourStartMs: number): number {
  const local = new Date(hourStartMs + 8 * HOUR_MS);
  const hour = local.getUTCHours();
  const weekday = local.getUTCDay() % 6 !== 0;
  const hump = weekday && hour >= 7 && hour < 22 ? 1 : 0.15;
  return Math.round((0.05 + (device % 17) * 0.01) * hump * 1e6) / 1e6;
}

/** The swing of an hour: how deep (0 to MAX_SWING) and which window takes the top, from a hash of the hour (Knuth's multiplicative hash). */
function swingOf(hourStartMs: number): { depth: number; first: number } {
  const mixed = Math.imul(Math.floor(hourStartMs / HOUR_MS), 2_654_435_761) >>> 0;
  return { depth: (MAX_SWING * ((mixed >>> 8) % 1_000)) / 1_000, first: mixed % WINDOWS_PER_HOUR };
}

/** Mean power of a device (its index) over the 15-minute window starting at `windowStartMs`, W. */
export function windowPowerW(device: number, windowStartMs: number): number {
  const hourStartMs = Math.floor(windowStartMs / HOUR_MS) * HOUR_MS;
  const { depth, first } = swingOf(hourStartMs);
  const window = (windowStartMs - hourStartMs) / DEMAND_WINDOW_MS;
  // kWh per hour × 1000 = mean W over the hour.
  return kwhOf(device, hourStartMs) * 1000 * (1 + depth * SWING[(window + WINDOWS_PER_HOUR - first) % WINDOWS_PER_HOUR]!);
}
