// bench:e2e's idle phase (issue 14 §2): the resident memory each idle device connection costs `up`, at 1,000
// and at 10,000 connections, beside a bare aedes (bench/district/bare-aedes.ts: memory persistence, no
// authentication, no services) given the same connections in the same run. The connections are mqtt.js
// clients with their own credentials, made by bench/e2e/hold.ts in processes of their own (≤ 5,000 each), and
// publish nothing. RSS (proc(5) VmRSS, `up` with its threads) before any connects, then SETTLE_MS after each
// step has connected; per connection = (RSS − RSS before) / connections.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Command, progress, startCommand, stopCommand } from "../district/processes.js";
import { writeCampus } from "./campus.js";
import { KEY, sampleTree, startUp } from "./run-up.js";

const MiB = 1024 * 1024;
const SETTLE_MS = 5_000;
const PER_HOLDER = 5_000;

export interface IdleRun {
  system: "campus-power up" | "bare aedes";
  baseMiB: number;
  steps: { target: number; connections: number; failed: number; rssMiB: number; perConnectionKiB: number; connectSecs: number }[];
}

/** Starts holders for ids [from, to) and resolves once each has said how its connections went. */
async function hold(url: string, idsFile: string, from: number, to: number, logDir: string, holders: Command[]): Promise<{ connected: number; failed: number }> {
  const results: Promise<{ connected: number; failed: number }>[] = [];
  for (let start = from; start < to; start += PER_HOLDER) {
    const end = Math.min(to, start + PER_HOLDER);
    results.push(new Promise((resolve, reject) => {
      const holder = startCommand(`hold-${start}`, ["bench/e2e/hold.ts", url, KEY, idsFile, String(start), String(end)], {}, logDir, (line) => {
        const said = /^connected (\d+) failed (\d+)/.exec(line);
        if (said) resolve({ connected: Number(said[1]), failed: Number(said[2]) });
      });
      holders.push(holder);
      void holder.exited.then((code) => reject(new Error(`hold.ts exited with ${code} before connecting (log: ${logDir}/hold-${start}.log)`)));
    }));
  }
  const all = await Promise.all(results);
  return { connected: all.reduce((n, r) => n + r.connected, 0), failed: all.reduce((n, r) => n + r.failed, 0) };
}

async function measure(system: IdleRun["system"], pid: number, url: string, idsFile: string, counts: number[], logDir: string): Promise<IdleRun> {
  await sleep(SETTLE_MS);
  const base = sampleTree(pid).rssBytes;
  const holders: Command[] = [];
  const steps: IdleRun["steps"] = [];
  let connections = 0;
  let failed = 0;
  try {
    for (const count of counts) {
      const started = Date.now();
      const made = await hold(url, idsFile, connections, count, logDir, holders);
      const connectSecs = (Date.now() - started) / 1000;
      connections += made.connected;
      failed += made.failed;
      await sleep(SETTLE_MS);
      const rss = sampleTree(pid).rssBytes;
      steps.push({ target: count, connections, failed, rssMiB: rss / MiB, perConnectionKiB: (rss - base) / 1024 / Math.max(1, connections), connectSecs });
      progress(`idle, ${system}: ${connections} connected (${failed} failed) in ${connectSecs.toFixed(1)} s, RSS ${(rss / MiB).toFixed(0)} MiB`);
    }
  } finally {
    await Promise.all(holders.map((holder) => stopCommand(holder)));
  }
  return { system, baseMiB: base / MiB, steps };
}

/** `up` on a campus of max(counts) devices, then a bare aedes, each given the same idle connections. */
export async function runIdle(o: { dir: string; counts: number[]; influxUrl: string; logDir: string }): Promise<IdleRun[]> {
  const dir = join(o.dir, "idle");
  mkdirSync(dir, { recursive: true });
  const { campusFile, idsFile } = writeCampus(dir, Math.max(...o.counts), "normal");
  progress(`idle: campus-power up with ${Math.max(...o.counts)} devices, idle connections at ${o.counts.join(" and ")}`);
  // Every connection comes from 127.0.0.1 here; in a school they come from the devices' own addresses.
  const env = { MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(Math.max(...o.counts) + 100) };
  const { up, mqttPort } = await startUp({ name: "idle", dir, campusFile, influxUrl: o.influxUrl, logDir: o.logDir, env });
  const runs: IdleRun[] = [];
  try {
    runs.push(await measure("campus-power up", up.pid, `mqtt://127.0.0.1:${mqttPort}`, idsFile, o.counts, o.logDir));
  } finally {
    await stopCommand(up);
  }
  let port = 0;
  const bare = startCommand("bare-aedes-idle", ["bench/district/bare-aedes.ts"], {}, o.logDir, (line) => /^PORT (\d+)/.test(line) && (port = Number(line.slice(5))));
  try {
    for (let waited = 0; port === 0; waited += 100) {
      if (waited > 30_000) throw new Error("the bare aedes did not say its port within 30 s");
      await sleep(100);
    }
    runs.push(await measure("bare aedes", bare.pid, `mqtt://127.0.0.1:${port}`, idsFile, o.counts, o.logDir));
  } finally {
    await stopCommand(bare);
  }
  return runs;
}
