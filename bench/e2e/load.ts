// load.mjs (../shared/peers/node-red/load.mjs, the peer's load generator) run against campus-power, and the
// readings stored in InfluxDB counted as the peer's run.sh counts them: polled every 0.5 s from the first
// publish until every acknowledged reading is stored, or the count has not grown for 10 s after the load ended.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { InfluxClient } from "../../infra/influx.js";
import { storedReadings } from "../district/measures.js";

export interface LoadResult {
  readings_published: number;
  publish_failed: number;
  connect_failed: number;
  publish_start_ms: number;
  publish_end_ms: number;
  publish_rate: number;
  timed_out: boolean;
  first_error: string | null;
  /** CPU of load.mjs and its workers (GNU time), s; null without /usr/bin/time. */
  cpu_seconds: number | null;
}

const GNU_TIME = "/usr/bin/time";

/** `key`: the fleet key devices log in with (each its own password); null: anonymous (the ceiling's bare broker). */
export function runLoad(options: { script: string; url: string; key: string | null; idsFile: string; readings: number; procs: number; window: number }): Promise<LoadResult> {
  const args = [
    options.script, "--url", options.url, ...(options.key === null ? [] : ["--device-key", options.key]), "--devices-file", options.idsFile, "--readings", String(options.readings),
    "--procs", String(options.procs), "--window", String(options.window), "--prefix", "campus/", "--modules", process.cwd(),
  ];
  // GNU time (when installed) reports the CPU the load generator and its workers used, written to cpuFile.
  const cpuFile = `${options.idsFile}.load-cpu`;
  const timed = existsSync(GNU_TIME) ? [GNU_TIME, ["-o", cpuFile, "-f", "%U %S", process.execPath, ...args]] as const : [process.execPath, args] as const;
  const child = spawn(timed[0], [...timed[1]], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      try {
        const result = JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult;
        const cpu = existsSync(cpuFile) ? readFileSync(cpuFile, "utf8").trim().split(/\s+/).map(Number) : [];
        resolve({ ...result, cpu_seconds: cpu.length === 2 ? cpu[0]! + cpu[1]! : null });
      } catch {
        reject(new Error(`load.mjs exited with ${code} and no result`));
      }
    });
  });
}

const STABLE_MS = 10_000;

export async function countStored(influx: InfluxClient, load: Promise<LoadResult>): Promise<{ load: LoadResult; stored: number; secs: number }> {
  const settled: { result: LoadResult | null } = { result: null };
  void load.then((r) => (settled.result = r));
  let stored = 0;
  let reachedAt = Date.now();
  for (;;) {
    await sleep(500);
    const now = await storedReadings(influx).catch(() => stored);
    if (now !== stored) ((stored = now), (reachedAt = Date.now()));
    const done = settled.result;
    if (done === null) continue;
    if (stored >= done.readings_published || Date.now() - reachedAt > STABLE_MS) {
      return { load: done, stored, secs: (reachedAt - done.publish_start_ms) / 1000 };
    }
  }
}
