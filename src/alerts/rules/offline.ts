// `offline` — domain.md §8 row 22, CONTRACT §5: the device's last will / `offline` status opens it at
// once, and so does a wall-clock watchdog after 3 × the device's report interval without data (MQTT
// keep-alive already allows 1.5 ×; 3 × rides out one lost report). Any valid live message clears it.
// Severity P3, which CONTRACT §5 writes as `warning` (leakage, overtemperature: P3 = warning);
// P2 (`major`) for fire-monitoring detectors, whose silence is a GB 14287 fault (故障) signal.
import type { Severity } from "../../domain/alert.js";
import type { Device } from "../../domain/campus.js";
import { defineRule, type Rule, type RuleContext, type Step } from "../types.js";
import { duration, where, which } from "./describe.js";

export interface OfflineParams {
  /** No data for this many report intervals ⇒ offline. */
  silentIntervals: number;
  severity: Severity;
  detectorSeverity: Severity;
}

export const OFFLINE_DEFAULTS: Readonly<OfflineParams> = Object.freeze({
  silentIntervals: 3,
  severity: "warning",
  detectorSeverity: "major",
});

export interface OfflineState {
  offline: boolean;
}

export function offlineRule(overrides: Partial<OfflineParams> = {}): Rule<unknown> {
  const p: OfflineParams = { ...OFFLINE_DEFAULTS, ...overrides };
  const severityOf = (device: Device) => (device.kind === "detector" ? p.detectorSeverity : p.severity);
  const limitMs = (device: Device) => p.silentIntervals * device.report_interval_s * 1000;
  const online = (): Step<OfflineState> => ({ state: { offline: false } });
  const clearIfOffline = (state: OfflineState, at: number): Step<OfflineState> =>
    state.offline ? { state: { offline: false }, verdict: { clear: { at } } } : online();

  return defineRule<OfflineState>({
    id: "offline",
    appliesTo: () => true,
    initial: () => ({ offline: false }),
    onStatus(state, status, ctx) {
      if (status.online) return clearIfOffline(state, status.ts);
      if (state.offline) return { state };
      const message = `${where(ctx.device, ctx.building)}: ${which(ctx.device)} went offline (last will or offline status)`;
      return {
        state: { offline: true },
        verdict: { breach: { severity: severityOf(ctx.device), value: 0, threshold: limitMs(ctx.device) / 1000, at: status.ts, message } },
      };
    },
    onAlive: (state, at) => clearIfOffline(state, at),
    onTick(state, ctx: RuleContext) {
      if (state.offline || ctx.lastSeenAt === null) return { state };
      const limit = limitMs(ctx.device);
      const silentMs = ctx.now - ctx.lastSeenAt;
      if (silentMs < limit) return { state };
      // Opened at the moment the limit passed, not at the tick that noticed it (at most one tick later).
      const message =
        `${where(ctx.device, ctx.building)}: ${which(ctx.device)} sent no data for ${duration(silentMs)} ` +
        `(limit ${duration(limit)} = ${p.silentIntervals} × its ${ctx.device.report_interval_s} s report interval)`;
      return {
        state: { offline: true },
        verdict: { breach: { severity: severityOf(ctx.device), value: silentMs / 1000, threshold: limit / 1000, at: ctx.lastSeenAt + limit, message } },
      };
    },
  });
}
