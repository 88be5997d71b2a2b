// A service thread's first module (cli/service-thread.ts starts it): a worker thread does not inherit the
// TypeScript loader the bin registered on the main thread, so it registers tsx's own, then runs the thread's
// TypeScript body named in workerData.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
