// A service of `campus-power up` on a worker thread of its own, so `up` uses a second core while it stays one
// program: one process to start, stop and signal, one log (the thread writes its pino lines to the same
// stdout), one /metrics (the API appends the thread's metrics to the process's). docs/architecture.md says
// why the alerts service is the one that moves (docs/benchmarks.md: what it measured).
// Protocol: the thread says `started` (or `failed`, and ends), answers `metrics` requests, and on `stop`
// stops its service and ends. A thread that dies otherwise takes the process with it, as an
// uncaught exception on the main thread would.
import { Worker } from "node:worker_threads";
import { CampusError, type ErrorCode, type Problem } from "../domain/errors.js";
import type { Logger } from "../infra/logger.js";
import type { RunningService } from "../infra/service.js";
import { finishesWithin, resultWithin } from "../infra/timeout.js";

export interface ThreadData {
  /** The TypeScript body the thread runs (./thread-entry.js imports it). */
  module: string;
  /** The environment `up` resolved (demo secrets included). */
  source: NodeJS.ProcessEnv;
  /** The broker on the main thread. */
  mqttUrl: string;
}

export interface ThrownError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  problems?: Problem[];
}

export type ToThread = { type: "metrics"; id: number } | { type: "stop" };
export type FromThread =
  | { type: "started" }
  | { type: "failed"; error: ThrownError }
  | { type: "metrics"; id: number; text: string };

export interface ServiceThread extends RunningService {
  /** The thread's metrics in Prometheus' text format (empty once it stopped). */
  metrics(): Promise<string>;
}

/** What crosses the thread boundary of an error: a CampusError keeps its code and problems (printed at exit). */
export function describeError(error: unknown): ThrownError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const described: ThrownError = { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return error instanceof CampusError ? { ...described, code: error.code, problems: error.problems } : described;
}

function rebuild(error: ThrownError): Error {
  const rebuilt = error.code ? new CampusError(error.code, error.message, error.problems ?? []) : new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

const STOP_GRACE_MS = 10_000;
const METRICS_TIMEOUT_MS = 5_000;

/**
 * Starts `data.module` on a thread; resolves once its service started, rejects with the error it failed with.
 * `youngGenerationMb` bounds the thread's young generation (./alerts-heap.ts); unset, V8's default.
 */
export function startServiceThread(name: string, data: Omit<ThreadData, "module"> & { module: URL }, log: Logger, youngGenerationMb?: number): Promise<ServiceThread> {
  const worker = new Worker(new URL("./thread-entry.js", import.meta.url), {
    workerData: { ...data, module: data.module.href } satisfies ThreadData,
    ...(youngGenerationMb === undefined ? {} : { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } }),
  });
  let state: "starting" | "running" | "stopping" | "ended" = "starting";
  const scrapes = new Map<number, (text: string) => void>();
  let nextScrape = 0;
  const ended = new Promise<void>((done) => worker.once("exit", () => done()));

  return new Promise((resolve, reject) => {
    const die = (why: string, error?: unknown) => {
      if (state === "starting") return reject(error instanceof Error ? error : new Error(`the ${name} thread ${why}`));
      if (state === "stopping" || state === "ended") return;
      log.fatal({ err: error, thread: name }, `the ${name} thread ${why}; campus-power exits`);
      process.exit(1);
    };
    worker.on("error", (error) => die("failed", error));
    worker.on("exit", (code) => {
      for (const answer of scrapes.values()) answer("");
      scrapes.clear();
      if (state !== "stopping" && state !== "ended") die(`ended (exit code ${code})`);
      state = "ended";
    });
    worker.on("message", (message: FromThread) => {
      switch (message.type) {
        case "started":
          state = "running";
          resolve(service);
          return;
        case "failed":
          state = "ended";
          return reject(rebuild(message.error));
        case "metrics":
          scrapes.get(message.id)?.(message.text);
          scrapes.delete(message.id);
          return;
      }
    });

    const service: ServiceThread = {
      metrics() {
        if (state !== "running") return Promise.resolve("");
        const id = nextScrape++;
        const answer = new Promise<string>((answered) => scrapes.set(id, answered));
        worker.postMessage({ type: "metrics", id } satisfies ToThread);
        // A thread too busy to answer in time leaves its lines out of this scrape rather than hang it.
        return resultWithin(answer, METRICS_TIMEOUT_MS, null).then((text) => {
          if (text !== null) return text;
          scrapes.delete(id);
          log.warn({ thread: name }, `the ${name} thread did not answer a metrics scrape in time`);
          return "";
        });
      },
      async stop() {
        if (state === "ended") return;
        if (state === "running") {
          state = "stopping";
          worker.postMessage({ type: "stop" } satisfies ToThread);
        }
        if (!(await finishesWithin(ended, STOP_GRACE_MS))) {
          log.warn({ thread: name }, `the ${name} thread did not stop in ${STOP_GRACE_MS / 1000} s; ending it`);
          await worker.terminate();
        }
      },
    };
  });
}
