// Runs the real `campus-power` command as a child process, as a user would.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait.js";

export const CLI = fileURLToPath(new URL("../../bin/campus-power.js", import.meta.url));

/**
 * A test file's commands keep their state in a temporary folder of their own unless the test names one:
 * never in the project's ./data, where `npm run demo` keeps its journal, spool and secrets.
 */
const TEST_DATA_DIR = mkdtempSync(join(tmpdir(), "campus-cli-data-"));
const childEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, DATA_DIR: TEST_DATA_DIR, ...env });

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: childEnv(env), encoding: "utf8", timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches, rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /**
   * Sends a signal and resolves with the exit code and how long the exit took. With `group` (a process
   * started with `{ group: true }`) the signal goes to its whole process group, as a terminal's Ctrl-C does.
   */
  stop(signal?: NodeJS.Signals, options?: { group?: boolean }): Promise<{ code: number | null; ms: number }>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, options: { group?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: options.group === true });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      const match = await waitFor(() => {
        const found = output.match(pattern);
        if (!found && child.exitCode !== null) throw new Error(`campus-power exited with ${child.exitCode} before printing ${pattern}:\n${output}`);
        return found;
      }, timeoutMs);
      if (!match) throw new Error(`timed out waiting for ${pattern}; output so far:\n${output}`);
      return match;
    },
    async stop(signal = "SIGTERM", { group = false } = {}) {
      if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
      const started = Date.now();
      if (group) process.kill(-child.pid!, signal);
      else child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, ms: Date.now() - started };
    },
  };
}
