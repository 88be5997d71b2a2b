// The bin runs the CLI compiled by bin/compiled.js: built once per change of the source tree, so the command
// always runs the source as it is; built whole before anyone runs it, so processes starting together all run;
// and the TypeScript source through tsx when CAMPUS_POWER_TSX=1. Run on a copy of the tree, so a change to a
// source file harms nothing else (its builds go to the shared node_modules/.cache, and are removed after).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "../..");
const CACHE = join(REPO, "node_modules", ".cache", "campus-power");
const tree = mkdtempSync(join(tmpdir(), "campus-bin-build-"));
for (const entry of ["alerts", "api", "broker", "cli", "domain", "infra", "ingest", "simulator", "bin", "config", "scenarios", "package.json", "tsconfig.json"]) {
  cpSync(join(REPO, entry), join(tree, entry), { recursive: true });
}
symlinkSync(join(REPO, "node_modules"), join(tree, "node_modules"));
const BIN = join(tree, "bin", "campus-power.js");

/** The builds of the copy, whole or not: those whose config link points into it. */
const linkedToTree = () =>
  (existsSync(CACHE) ? readdirSync(CACHE) : []).filter((name) => {
    try {
      return readlinkSync(join(CACHE, name, "config")) === join(tree, "config");
    } catch {
      return false;
    }
  });
const buildsOfTree = () => linkedToTree().filter((name) => !name.startsWith("tmp-"));

const help = (env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [BIN, "--help"], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 30_000 });

function changeHelp(marker: string) {
  const file = join(tree, "cli", "help.ts");
  writeFileSync(file, readFileSync(file, "utf8").replace(/campus-power — [^\n`]*/, `campus-power — ${marker}`));
}

describe("the bin's compiled build", () => {
  afterAll(() => {
    for (const name of linkedToTree()) rmSync(join(CACHE, name), { recursive: true, force: true });
    rmSync(tree, { recursive: true, force: true });
  });

  it("compiles the tree once, with source maps and the assets linked, and runs it", () => {
    const first = help();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^campus-power — live electricity monitoring/);
    const builds = buildsOfTree();
    expect(builds).toHaveLength(1);
    const build = join(CACHE, builds[0]!);
    for (const file of ["cli/main.js", "cli/main.js.map", "cli/alerts-thread.js", "cli/thread-entry.js", "api/app.js"]) expect(existsSync(join(build, file)), file).toBe(true);
    expect(readlinkSync(join(build, "api", "dashboard"))).toBe(join(tree, "api", "dashboard"));
    expect(help().status).toBe(0);
    expect(buildsOfTree()).toEqual(builds);
  });

  it("compiles again when a source file changed, and runs the change", () => {
    changeHelp("changed once");
    const changed = help();
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^campus-power — changed once/);
    expect(buildsOfTree()).toHaveLength(2);
  });

  it("gives processes starting together one whole build, and every one of them runs", async () => {
    changeHelp("changed twice");
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<{ code: number | null; stdout: string }>((done) => {
          const child = spawn(process.execPath, [BIN, "--help"], { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] });
          let stdout = "";
          child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
          child.once("exit", (code) => done({ code, stdout }));
        }),
      ),
    );
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^campus-power — changed twice/);
    }
    expect(buildsOfTree()).toHaveLength(3);
    expect(linkedToTree().filter((name) => name.startsWith("tmp-"))).toEqual([]);
  });

  it("runs the TypeScript source through tsx with CAMPUS_POWER_TSX=1, building nothing", () => {
    changeHelp("through tsx");
    const run = help({ CAMPUS_POWER_TSX: "1" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^campus-power — through tsx/);
    expect(buildsOfTree()).toHaveLength(3);
  });

  it("names the TypeScript file and line in a stack thrown by the build", () => {
    const file = join(tree, "cli", "main.ts");
    // An interface compiles to nothing: the throw is on line 1 of main.js and line 4 of main.ts.
    const thrower = `interface ForTheTest {\n  n: number;\n}\nif (process.env.THROW_FOR_TEST) throw new Error("thrown for the test");\n`;
    writeFileSync(file, `${thrower}${readFileSync(file, "utf8")}`);
    const run = help({ THROW_FOR_TEST: "1" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/Error: thrown for the test\n\s+at \S*\/cli\/main\.ts:4:\d+/);
  });
});
