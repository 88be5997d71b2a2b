// Starts a local `redis-server` (Debian's `redis-server` package) on loopback, with its data in a folder of
// ours and the append-only file on: for the integration tests, the failure drills and `npm run bench:ha`.
// appendfsync `always` by default: Redis then fsyncs a write before it answers, so a device acknowledged
// after its message is in Redis keeps it through a power loss, as the single-process broker journal does
// (docs/ha.md "What acknowledged means"). `everysec` answers before the fsync: a crash of Redis alone loses
// nothing, a power loss up to a second or two.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";

export interface LocalRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops Redis (SIGTERM: it writes its files and exits), then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Kills Redis at once, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (after stop or kill). */
  restart(): Promise<void>;
}

export interface LocalRedisOptions {
  dir: string;
  port?: number;
  appendfsync?: "always" | "everysec";
}

/** Resolves once something answers PING with PONG on the port, rejects after `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
      socket.setTimeout(1_000, () => (socket.destroy(), resolve(false)));
      socket.on("data", (data) => (socket.destroy(), resolve(data.toString().startsWith("+PONG"))));
      socket.on("error", () => resolve(false));
    });
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dir, { recursive: true });
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", options.dir, "--save", "",
    "--appendonly", "yes", "--appendfsync", options.appendfsync ?? "always", "--daemonize", "no", "--loglevel", "warning",
  ];
  let child: ChildProcess | null = null;
  const launch = async () => {
    const started = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
    child = started;
    const failed = new Promise<never>((_, reject) => {
      started.once("error", (error) => reject(new Error(`cannot run redis-server (Debian package redis-server): ${error.message}`)));
      started.once("exit", (code) => reject(new Error(`redis-server exited at start (code ${code})`)));
    });
    await Promise.race([waitForPong(port, 10_000), failed]);
  };
  const exited = async (signal: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise((resolve) => running.once("exit", resolve));
    running.kill(signal);
    const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: options.dir,
    stop: () => exited("SIGTERM"),
    kill: () => exited("SIGKILL"),
    restart: launch,
  };
}
