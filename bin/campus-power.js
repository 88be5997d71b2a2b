#!/usr/bin/env node
// Entry point of `npx campus-power`. It runs the CLI compiled to JavaScript (bin/compiled.js compiles the source
// tree again whenever it changed, so the command always matches the source: no build step to forget), or,
// when no build can be had or CAMPUS_POWER_TSX=1, the TypeScript source through tsx's loader.
// V8's default young generation (2 × 16 MB). Until 2026-12-07 the shebang asked for 2 × 64 MB, for about
// 10 % more ingest throughput measured with one thread; with the alerts service on a thread of its own (each
// isolate its own young generation) 64 MB cost `up` 190 MiB idle and 30–100 MiB under load, for a throughput
// difference within this machine's noise (docs/benchmarks.md "Memory": six runs of each, alternating).
import { setFlagsFromString } from "node:v8";
import { compiledMain } from "./compiled.js";

// V8 grows a heap's old generation by a factor it picks (up to 4× live when allocation is fast), and keeps
// what it grew to: under bench:e2e's burst of readings `up` peaked at 544–583 MiB for ~60 MB of live objects.
// At 1.2× every thread's old generation stays near what is live: peak 296–311 MiB, for about 10 % more CPU
// and a throughput within this machine's noise (docs/benchmarks.md "Memory": six pairs, alternating). A
// --heap-growing-percent given to node wins. Set before any service runs; V8's flags are the process's, so
// the alerts thread has it too.
if (!process.execArgv.some((flag) => flag.startsWith("--heap-growing-percent") || flag.startsWith("--heap_growing_percent"))) {
  setFlagsFromString("--heap-growing-percent=20");
}

const main = compiledMain();
if (main) {
  // Stack traces name the TypeScript source's files and lines; each map is read when a stack first needs it.
  const { mapStacksUnder } = await import("../infra/stack-maps.js");
  mapStacksUnder(new URL("..", main));
  await import(main);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
