// Starts and supervises a local `influxd` (Debian's `influxdb` package): loopback only, data under a
// folder of ours. Used by `up` when nothing answers at INFLUX_URL, and by the integration tests.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import type { Logger } from "./logger.js";

export interface LocalInfluxd {
  url: string;
  port: number;
  dir: string;
  /** Stops influxd (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills influxd at once, as a crash would. */
  kill(): void;
  /** Starts it again on the same port and data (after stop or kill). */
  restart(): Promise<void>;
  /** The running influxd's process id; null while it is not running. */
  pid(): number | null;
}

export function findInfluxd(): string | null {
  for (const candidate of ["influxd", "/usr/bin/influxd", "/usr/local/bin/influxd"]) {
    const probe = spawnSync(candidate, ["version"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  return null;
}

function configText(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, "meta")}"
[data]
  dir = "${join(dir, "data")}"
  wal-dir = "${join(dir, "wal")}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  write-tracing = false
[continuous_queries]
  log-enabled = false
[subscriber]
  enabled = false
`;
}

export interface StartOptions {
  dir: string;
  /** HTTP port; a free one when omitted. */
  port?: number;
  log?: Logger;
  /** Restart influxd when it exits on its own (used by `up`). */
  supervise?: boolean;
}

export async function startLocalInfluxd(options: StartOptions): Promise<LocalInfluxd> {
  const binary = findInfluxd();
  if (!binary) throw new Error("influxd is not installed (Debian/Ubuntu: apt-get install influxdb)");
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const rpcPort = await freePort();
  const configFile = join(options.dir, "influxdb.conf");
  writeFileSync(configFile, configText(options.dir, port, rpcPort));
  const url = `http://127.0.0.1:${port}`;

  let child: ChildProcess | null = null;
  let stopping = false;
  let lastStderr = "";
  // Whatever way this process ends (a signal during start-up, process.exit, a crash), influxd must
  // not outlive it: an orphan would hold the port and the data folder's lock.
  const killOnExit = () => child?.kill("SIGTERM");

  const launch = async () => {
    stopping = false;
    process.off("exit", killOnExit);
    process.on("exit", killOnExit);
    // Its own process group: a Ctrl-C in the terminal reaches only us, and the orderly stop takes influxd
    // down last, after the ingest's final writes (before, influxd died first and they waited for the next start).
    const proc = spawn(binary, ["run", "-config", configFile], { stdio: ["ignore", "ignore", "pipe"], detached: true });
    child = proc;
    proc.stderr?.on("data", (chunk: Buffer) => (lastStderr = (lastStderr + chunk.toString()).slice(-4000)));
    proc.on("exit", (code, signal) => {
      if (child === proc) child = null;
      if (stopping || !options.supervise) return;
      options.log?.warn({ code, signal }, "local influxd exited; restarting in 1 s");
      setTimeout(() => void launch().catch((error) => options.log?.error({ err: error }, "local influxd failed to restart")), 1_000).unref();
    });
    await waitForPing(url, proc, () => lastStderr);
  };

  const stop = async () => {
    stopping = true;
    process.off("exit", killOnExit);
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      proc.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill("SIGTERM");
    });
  };

  await launch();
  return {
    url,
    port,
    dir: options.dir,
    stop,
    kill: () => {
      stopping = true;
      child?.kill("SIGKILL");
    },
    restart: async () => {
      await stop();
      await launch();
    },
    pid: () => child?.pid ?? null,
  };
}

async function waitForPing(url: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`influxd exited with ${proc.exitCode}: ${stderr().slice(-1000)}`);
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
      if (response.status === 204) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill("SIGKILL");
  throw new Error(`influxd did not answer at ${url} within 30 s: ${stderr().slice(-1000)}`);
}
