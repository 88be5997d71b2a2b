#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point of `npx campus-power`: runs the TypeScript CLI through tsx's loader,
// so the command always matches the source tree (no separate build step to forget).
// --max-semi-space-size=64: a young generation of up to 2 × 64 MB instead of 2 × 16 MB. The broker and
// the ingest allocate a few short-lived objects per message; with the default, V8 scavenges so often
// that end-to-end ingest throughput is about 10 % lower (docs/benchmarks.md). It only grows under load.
// V8 reads it at start only, hence the shebang; `node bin/campus-power.js …` runs with V8's default.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
