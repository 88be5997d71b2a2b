#!/usr/bin/env node
// Entry point of `npx campus-power`: runs the TypeScript CLI through tsx's loader,
// so the command always matches the source tree (no separate build step to forget).
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
