#!/usr/bin/env node
// Entry point of `npx campus-power`: runs the TypeScript CLI through tsx's loader,
// so the command always matches the source tree (no separate build step to forget).
// V8's default young generation (2 × 16 MB). Until 2026-12-07 the shebang asked for 2 × 64 MB, for about
// 10 % more ingest throughput measured with one thread; with the alerts service on a thread of its own (each
// isolate its own young generation) 64 MB cost `up` 190 MiB idle and 30–100 MiB under load, for a throughput
// difference within this machine's noise (docs/benchmarks.md "Memory": six runs of each, alternating).
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
