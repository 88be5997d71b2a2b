// Shared parts of bench:live's processes: the bench campus, the token and password, latency histograms.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";

export const TOKEN = "viewer-token-bench-0123456789";
export const PASSWORD = "service-password-bench-0123";
export const BUILDINGS = 20;
export const PER_BUILDING = 50;

/** A campus file of 20 buildings × 50 devices; `flat` = every device top level (energy's worst case). */
export function writeCampus(dir: string, flat: boolean): string {
  const lines = ["site: { id: bench, name: Bench School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }", "buildings:"];
  for (let b = 0; b < BUILDINGS; b++) lines.push(`  - { id: b${b}, name: Building ${b}, kind: ${b % 2 ? "classroom" : "dormitory"} }`);
  lines.push("devices:");
  for (let b = 0; b < BUILDINGS; b++) {
    lines.push(`  - { id: b${b}-main, kind: breaker, building: b${b}, rating_a: 250, curve: C }`);
    for (let d = 1; d < PER_BUILDING; d++) lines.push(`  - { id: b${b}-d${d}, kind: breaker, building: b${b}, room: "${100 + d}", ${flat ? "" : `parent: b${b}-main, `}rating_a: 16, curve: C }`);
  }
  const file = join(dir, flat ? "campus-flat.yaml" : "campus.yaml");
  writeFileSync(file, lines.join("\n"));
  return file;
}

/** Latency histogram in 1 ms buckets up to 60 s (the last bucket holds everything slower). */
export const HISTOGRAM_MS = 60_000;
export const newHistogram = () => new Array<number>(HISTOGRAM_MS + 1).fill(0);
export const record = (h: number[], ms: number) => h[Math.max(0, Math.min(HISTOGRAM_MS, Math.round(ms)))]!++;
export function mergeInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length; i++) into[i]! += from[i]!;
}
export function quantile(h: readonly number[], q: number): number {
  const total = h.reduce((n, c) => n + c, 0);
  if (total === 0) return NaN;
  let seen = 0;
  for (let i = 0; i < h.length; i++) if ((seen += h[i]!) >= total * q) return i;
  return h.length - 1;
}
export const maxOf = (h: readonly number[]) => {
  for (let i = h.length - 1; i >= 0; i--) if (h[i]! > 0) return i;
  return NaN;
};

/** Event-loop delay of this process since the last call: its p99 and max, ms (a stalled loop delays every message it handles). */
export function loopDelayMeter(): () => { loopP99: number; loopMax: number } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return () => {
    const out = { loopP99: h.percentile(99) / 1e6, loopMax: h.max / 1e6 };
    h.reset();
    return out;
  };
}

/** CPU of this process since the last call, as a share of one core. */
export function cpuMeter(): () => number {
  let last = process.cpuUsage();
  let at = performance.now();
  return () => {
    const used = process.cpuUsage(last);
    const now = performance.now();
    const share = (used.user + used.system) / 1000 / (now - at);
    last = process.cpuUsage();
    at = now;
    return share;
  };
}
