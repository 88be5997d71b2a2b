// A service thread's first module (cli/service-thread.ts starts it). Run from the bin's compiled build
// (bin/compiled.js), the thread's body is JavaScript and is imported as it is. Run from the TypeScript source
// (tsx, vitest), it is TypeScript, and a worker thread does not inherit the loader the main thread registered:
// the thread registers tsx's own first.
import { workerData } from "node:worker_threads";

if (workerData.module.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
} else {
  // Per thread, as the bin does on the main thread: stacks name the .ts lines (the build is the folder above cli/).
  const { mapStacksUnder } = await import("../infra/stack-maps.js");
  mapStacksUnder(new URL("..", workerData.module));
}
await import(workerData.module);
