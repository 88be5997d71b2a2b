// The CLI compiled to JavaScript, once per change of the source tree, for bin/campus-power.js to run.
// Why: tsx's loader runs its hooks on a thread of their own, an extra V8 isolate in every thread that registers
// it (`up`'s main thread and its alerts thread), and transpiles every module at every start: `up` idle on a
// campus of 1,000 devices is ~60 MiB smaller compiled, and as much at its peak under load (docs/benchmarks.md
// "Memory"). The compiler is the esbuild tsx itself uses, with the same tsconfig, so the code that runs is the
// same code; source maps keep stack traces on the .ts files and lines (the bin reads a file's map when a stack
// first shows it: infra/stack-maps.js). The maps leave out the sources' text: a stack names a file and line, it
// does not quote it (1.6 MB of heap in each of `up`'s two threads while Node's own switch held every map).
// Each build is a folder of its own under node_modules/.cache/campus-power, named by a hash of the sources'
// paths, sizes and modification times, written elsewhere and renamed into place whole: processes starting
// together never see half a build, and a running process keeps the build it started with. The assets the code
// finds beside itself (config/, scenarios/, api/dashboard/) are links to the source tree's own.
// Anything in the way (an unwritable install without a build, esbuild missing, a syntax error) and the bin
// warns and falls back to tsx: never fatal.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const CACHE = join(ROOT, "node_modules", ".cache", "campus-power");
/** The folders of the program `campus-power` runs (not tests, bench or scripts). */
const SOURCES = ["alerts", "api", "broker", "cli", "domain", "infra", "ingest", "simulator"];
/** What the code reads beside itself, by `new URL(…, import.meta.url)`. */
const ASSETS = ["config", "scenarios", "api/dashboard"];
const KEEP = 3;
const STALE_MS = 7 * 24 * 60 * 60_000;
const ABANDONED_MS = 10 * 60_000;

/** Every .ts and .js file under the source folders, but the assets, with its stat. */
function sourceFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!ASSETS.includes(path)) walk(path);
      } else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        const stat = statSync(join(ROOT, path));
        files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
      }
    }
  };
  for (const dir of SOURCES) walk(dir);
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  // A new esbuild, or a change here, is a new build too.
  for (const path of [require.resolve("esbuild/package.json"), fileURLToPath(import.meta.url)]) {
    const stat = statSync(path);
    files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs, compiler: true });
  }
  return files;
}

/**
 * Compiles in a child process: esbuild's synchronous API keeps a worker thread and its service process alive for
 * the rest of the process that called it (an `up` 100 MiB larger, measured), so the CLI never loads it.
 */
function build(files, target) {
  const ts = files.filter((f) => !f.compiler && f.path.endsWith(".ts")).map((f) => join(ROOT, f.path));
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), target], { input: JSON.stringify(ts), encoding: "utf8" });
  if (child.status !== 0) throw new Error(`esbuild: ${child.error?.message ?? child.stderr.trim()}`);
  for (const file of files.filter((f) => !f.compiler && f.path.endsWith(".js"))) cpSync(join(ROOT, file.path), join(target, file.path));
  for (const asset of ASSETS) {
    const link = join(target, asset);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, asset), link);
  }
}

/** The child: `node bin/compiled.js TARGET`, the TypeScript files on stdin. */
async function compile(target) {
  const { build } = require("esbuild");
  const entryPoints = JSON.parse(readFileSync(0, "utf8"));
  await build({ entryPoints, outdir: target, outbase: ROOT, format: "esm", platform: "node", target: "node20", sourcemap: "linked", sourcesContent: false, logLevel: "error" });
}

/**
 * Builds not started for a week, but the newest KEEP, and halves of builds a crash left behind. A process
 * reads its build only while it starts (every module, and the source maps, are loaded by then; nothing in the
 * services imports later), so a build a running `up` started from may go.
 */
function prune(current) {
  const builds = readdirSync(CACHE)
    .filter((name) => name !== current)
    .map((name) => ({ name, age: Date.now() - statSync(join(CACHE, name)).mtimeMs }))
    .sort((a, b) => a.age - b.age);
  builds.forEach(({ name, age }, i) => {
    const done = name.startsWith("tmp-") ? age > ABANDONED_MS : i >= KEEP - 1 && age > STALE_MS;
    if (done) rmSync(join(CACHE, name), { recursive: true, force: true });
  });
}

/** Marks a build used (prune keeps the recently used); a build this user may not touch is still run. */
function touch(dir) {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // a read-only install (the Docker image's build belongs to root)
  }
}

/** The URL of cli/main.js in an up-to-date build, building it if needed; null when it cannot be had. */
export function compiledMain() {
  if (process.env.CAMPUS_POWER_TSX === "1") return null;
  try {
    const files = sourceFiles();
    // The root too: a tree copied elsewhere links its own assets.
    const hash = createHash("sha256").update(ROOT).update(JSON.stringify(files)).digest("hex").slice(0, 16);
    const dir = join(CACHE, hash);
    const main = join(dir, "cli", "main.js");
    if (!existsSync(main)) {
      const tmp = join(CACHE, `tmp-${hash}-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      build(files, tmp);
      try {
        renameSync(tmp, dir);
      } catch (error) {
        // Another process renamed the same build into place first: theirs is as good.
        rmSync(tmp, { recursive: true, force: true });
        if (!existsSync(main)) throw error;
      }
      prune(hash);
    } else {
      touch(dir);
    }
    return pathToFileURL(main).href;
  } catch (error) {
    const why = String(error instanceof Error ? error.message : error).split("\n")[0];
    process.emitWarning(`no compiled build (${why}): running the TypeScript source through tsx`, { code: "CAMPUS_POWER_NO_BUILD" });
    return null;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await compile(process.argv[2]);
