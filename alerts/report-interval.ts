// The interval a device's silence is counted in, pure: the engine's watchdog (the offline rule's limit) and the
// overlay's grace after a parent comes back (./return-grace.ts) both read it.
import type { Device } from "../domain/campus.js";
import type { DeviceSlot } from "./saved-state.js";

/** Gaps seen before the observed interval is trusted over the configured one. */
const MIN_GAPS = 3;

/**
 * The interval the watchdog counts in: the observed one once trusted, never shorter than the campus
 * file's `report_interval_s` — a device that reports slower than declared (Tasmota's 300 s default)
 * gets a longer limit, while bursts of report-on-change messages never make the watchdog jumpy.
 */
export function reportInterval(device: Device, track: DeviceSlot["track"]): number {
  const configured = device.report_interval_s * 1000;
  return track.intervalMs !== undefined && (track.gaps ?? 0) >= MIN_GAPS ? Math.max(configured, track.intervalMs) : configured;
}
