#!/usr/bin/env node
// Entry point of `npx campus-power`. It runs the CLI compiled to JavaScript (bin/compiled.js compiles the source
// tree again whenever it changed, so the command always matches the source: no build step to forget), or,
// when no build can be had or CAMPUS_POWER_TSX=1, the TypeScript source through tsx's loader.
// V8's default young generation (2 × 16 MB). Until 2026-12-07 the shebang asked for 2 × 64 MB, for about
// 10 % more ingest throughput measured with one thread; with the alerts service on a thread of its own (each
// isolate its own young generation) 64 MB cost `up` 190 MiB idle and 30–100 MiB under load, for a throughput
// difference within this machine's noise (docs/benchmarks.md "Memory": six runs of each, alternating).
import { compiledMain } from "./compiled.js";

const main = compiledMain();
if (main) {
  process.setSourceMapsEnabled(true); // stack traces name the TypeScript source's files and lines
  await import(main);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
