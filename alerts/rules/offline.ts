// `offline` — domain.md §8 row 22, CONTRACT §5: the device's last will / `offline` status opens it at
// once, and so does a wall-clock watchdog after 3 × the device's report interval without data (MQTT
// keep-alive already allows 1.5 ×; 3 × rides out one lost report). Any valid live message clears it.
// Severity P3, which CONTRACT §5 writes as `warning` (leakage, overtemperature: P3 = warning);
// P2 (`major`) for fire-monitoring detectors, whose silence is a GB 14287 fault (故障) signal.
import type { Static } from "@sinclair/typebox";
import type { Device } from "../../domain/campus.js";
import { defineRule, type RuleContext, type Step } from "../types.js";
import { duration, where, which } from "./describe.js";
import { OfflineParams } from "../../domain/rule-params.js";

type Params = Static<typeof OfflineParams>;

export interface OfflineState {
  offline: boolean;
}

const severityOf = (device: Device, p: Params) => (device.kind === "detector" ? p.detector_severity : p.severity);
const limitMs = (ctx: RuleContext<Params>) => ctx.params.silent_intervals * ctx.reportIntervalMs;
const online = (): Step<OfflineState> => ({ state: { offline: false } });
const clearIfOffline = (state: OfflineState, at: number): Step<OfflineState> => (state.offline ? { state: { offline: false }, verdict: { clear: { at } } } : online());

export const offlineRule = defineRule({
  id: "offline",
  params: OfflineParams,
  appliesTo: () => true,
  initial: (): OfflineState => ({ offline: false }),
  onStatus(state, status, ctx) {
    if (status.online) return clearIfOffline(state, status.ts);
    if (state.offline) return { state };
    const message = `${where(ctx.device, ctx.building)}: ${which(ctx.device)} went offline (last will or offline status)`;
    return {
      state: { offline: true },
      verdict: { breach: { severity: severityOf(ctx.device, ctx.params), value: 0, threshold: limitMs(ctx) / 1000, at: status.ts, message } },
    };
  },
  onAlive: (state, at) => clearIfOffline(state, at),
  onTick(state, ctx) {
    if (state.offline || ctx.lastSeenAt === null) return { state };
    const p = ctx.params;
    const limit = limitMs(ctx);
    const silentMs = ctx.now - ctx.lastSeenAt;
    if (silentMs < limit) return { state };
    // Opened at the moment the limit passed, not at the tick that noticed it (at most one tick later).
    const message =
      `${where(ctx.device, ctx.building)}: ${which(ctx.device)} sent no data for ${duration(silentMs)} ` +
      `(limit ${duration(limit)} = ${p.silent_intervals} × its ${Math.round(ctx.reportIntervalMs / 100) / 10} s report interval)`;
    return {
      state: { offline: true },
      verdict: { breach: { severity: severityOf(ctx.device, p), value: silentMs / 1000, threshold: limit / 1000, at: ctx.lastSeenAt + limit, message } },
    };
  },
});
