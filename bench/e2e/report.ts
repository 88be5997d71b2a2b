// bench:e2e's table (docs/benchmarks.md "End to end").
import { cpus } from "node:os";
import type { IdleRun } from "./idle.js";
import type { LoadResult } from "./load.js";
import type { UpRun } from "./run-up.js";

/** The fields of the peer's run.sh result line this report reads. */
export interface PeerRun {
  readings_published: number;
  readings_stored: number;
  secs: number;
  readings_per_sec_stored: number;
  lost: number;
  "node-red": { peak_rss_mb: number; cpu_secs: number };
  mosquitto: { peak_rss_mb: number; cpu_secs: number };
}

const fmt = (value: number) => value.toLocaleString("en", { maximumFractionDigits: 0 });

export function printE2e(r: { devices: number; readings: number; procs: number; window: number; runs: UpRun[]; ceiling: LoadResult | null; peer: PeerRun | null; idle: IdleRun[]; loadAtStart: number[] }): void {
  const normal = r.runs.find((run) => run.band === "normal")!;
  const storm = r.runs.find((run) => run.band === "storm");
  const lines = [
    "",
    `bench:e2e: ${fmt(r.devices)} mqtt.js device connections from ${r.procs} processes (load.mjs), ${fmt(r.readings)} QoS 1 readings, window ${r.window}; ${cpus().length} cores, load average at start ${r.loadAtStart.map((l) => l.toFixed(2)).join(" ")}`,
    "",
    "| system | published | stored | lost | s | stored readings/s | RSS peak / after / 30 s later, MiB | CPU s | load generator CPU s | influxd CPU s |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...r.runs.map((run) => `| campus-power up, ${run.band === "normal" ? "normal band" : "alert storm"} (${run.processes} process${run.processes > 1 ? "es" : ""}) | ${fmt(run.load.readings_published)} | ${fmt(run.stored)} | ${fmt(run.load.readings_published - run.stored)} | ${run.secs.toFixed(2)} | **${fmt(run.rate)}** | ${fmt(run.peakRssMiB)} / ${fmt(run.endRssMiB)} / ${fmt(run.settledRssMiB)} | ${run.cpuSeconds.toFixed(1)} | ${run.load.cpu_seconds?.toFixed(1) ?? "?"} | ${run.influxdCpuSeconds?.toFixed(1) ?? "?"} |`),
    ...(r.ceiling ? [`| ceiling: bare Mosquitto, nothing stored | ${fmt(r.ceiling.readings_published)} | — | — | ${(r.ceiling.readings_published / r.ceiling.publish_rate).toFixed(2)} | (published ${fmt(r.ceiling.publish_rate)}) | — | — | ${r.ceiling.cpu_seconds?.toFixed(1) ?? "?"} | — |`] : []),
    ...(r.peer ? [`| Mosquitto + Node-RED (batched) | ${fmt(r.peer.readings_published)} | ${fmt(r.peer.readings_stored)} | ${fmt(r.peer.lost)} | ${r.peer.secs.toFixed(2)} | **${fmt(r.peer.readings_per_sec_stored)}** | ${fmt(r.peer["node-red"].peak_rss_mb + r.peer.mosquitto.peak_rss_mb)} (peak, both) | ${(r.peer["node-red"].cpu_secs + r.peer.mosquitto.cpu_secs).toFixed(1)} | (not reported) | (not reported) |`] : []),
    "",
  ];
  if (r.peer) lines.push(`campus-power / peer: **${(normal.rate / r.peer.readings_per_sec_stored).toFixed(2)}×** (normal band)`);
  if (storm) {
    const a = storm.alerts!;
    lines.push(`alert storm / normal: **${((100 * storm.rate) / normal.rate).toFixed(0)} %**; overload alerts: ${fmt(a.devices)} devices of ${fmt(r.devices)}, ${fmt(a.total)} alerts, ${a.duplicated} devices with more than one`);
  }
  lines.push(`live stream frames received by the dashboard connection: ${r.runs.map((run) => `${run.band} ${fmt(run.liveFrames)}`).join(", ")}`, "");
  if (r.idle.length > 0) {
    const counts = r.idle[0]!.steps.map((step) => step.target);
    lines.push(
      "Idle device connections (mqtt.js, nothing published), RSS settled 5 s after each step:",
      "",
      `| system | RSS before, MiB | ${counts.map((n) => `${fmt(n)} connections: RSS MiB / KiB per connection / connect s`).join(" | ")} |`,
      `|---|---|${counts.map(() => "---").join("|")}|`,
      ...r.idle.map((run) => `| ${run.system} | ${fmt(run.baseMiB)} | ${run.steps.map((s) => `${fmt(s.rssMiB)} / **${s.perConnectionKiB.toFixed(1)}** / ${s.connectSecs.toFixed(1)}${s.connections < s.target ? ` (${fmt(s.connections)} connected, ${fmt(s.failed)} refused)` : ""}`).join(" | ")} |`),
      "",
    );
  }
  process.stdout.write(lines.join("\n"));
}
