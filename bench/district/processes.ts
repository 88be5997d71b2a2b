// bench:district's child processes: the `campus-power` command started as a user starts it (the bin, so its
// shebang's node flags apply), its output read line by line, and what Linux says about a process in /proc
// (proc(5)): resident memory, CPU time, open file descriptors and their limit.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const BIN = "bin/campus-power.js";
/** The node flags of the bin's shebang (`#!/usr/bin/env -S node <flags>`). */
const BIN_NODE_FLAGS = readFileSync(BIN, "utf8").split("\n")[0]!.split(/\s+/).filter((part) => part.startsWith("--"));

// Labelled by the npm script that runs it (bench:district, bench:e2e).
export const progress = (text: string) => process.stderr.write(`${process.env.npm_lifecycle_event ?? "bench"}: ${text}\n`);

/** Every command started and not yet exited: none outlives the bench, however it ends. */
const running = new Set<Command>();
process.on("exit", () => running.forEach((command) => command.child.kill("SIGKILL")));

export interface Command {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
}

/**
 * Starts `campus-power <args>` (or a TypeScript entry through tsx when `args[0]` ends in `.ts`). Every line
 * of its output goes to `logDir/<name>.log` and to `onLine`; pino lines of level error or fatal are shown.
 */
export function startCommand(name: string, args: string[], env: Record<string, string>, logDir: string, onLine: (line: string) => void = () => {}, nodeFlags: string[] = []): Command {
  // With nodeFlags (e.g. --cpu-prof, which NODE_OPTIONS refuses) the bin runs under node with its shebang's flags, then these (which win).
  const [file, fileArgs] = args[0]!.endsWith(".ts")
    ? [process.execPath, [...nodeFlags, "--import", "tsx", ...args]]
    : nodeFlags.length > 0 ? [process.execPath, [...BIN_NODE_FLAGS, ...nodeFlags, BIN, ...args]] : [BIN, args];
  const child = spawn(file, fileArgs, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(join(logDir, `${name}.log`));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      log.write(`${line}\n`);
      if (/"level":(50|60)/.test(line)) progress(`${name}: ${line.slice(0, 300)}`);
      onLine(line);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const command = { child, pid: child.pid!, exited };
  running.add(command);
  void exited.then(() => (running.delete(command), log.end()));
  return command;
}

/** Stops every command still running (SIGTERM, as stopCommand). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((command) => stopCommand(command)));
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs` (CONTRACT §1: 10 s). */
export async function stopCommand(command: Command, graceMs = 12_000): Promise<number | null> {
  if (command.child.exitCode !== null || command.child.signalCode !== null) return command.child.exitCode;
  command.child.kill("SIGTERM");
  const timer = setTimeout(() => command.child.kill("SIGKILL"), graceMs);
  const code = await command.exited;
  clearTimeout(timer);
  return code;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ; 100 on Linux x86 and ARM). */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export interface ProcessSample {
  /** Resident set size, bytes (VmRSS). */
  rssBytes: number;
  /** User + system CPU time of all its threads so far, seconds. */
  cpuSeconds: number;
  /** Open file descriptors (sockets included). */
  fds: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  // Fields after the command name (which may hold spaces): utime and stime are the 14th and 15th of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  return { rssBytes: rssKiB * 1024, cpuSeconds, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** CPU seconds of a process so far; 0 once it has exited (its /proc entry is gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    return sampleProcess(pid).cpuSeconds;
  } catch {
    return 0;
  }
}

/** The soft limit on open files of a process ("Max open files" in /proc/<pid>/limits). */
export function openFilesLimit(pid: number): number {
  const limit = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1];
  return limit === undefined ? Infinity : Number(limit);
}

/** The pid of the process whose command line contains `text` (a process we started indirectly), or null. */
export function findProcess(text: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").includes(text)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return null;
}
