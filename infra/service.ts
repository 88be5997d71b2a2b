// What every service receives from the composition root (the CLI), and what it hands back.
import type { Campus } from "../domain/campus.js";
import type { Env } from "../domain/env.js";
import type { Logger } from "./logger.js";
import type { Registry } from "./metrics.js";

export interface ServiceContext {
  env: Env;
  campus: Campus;
  log: Logger;
  metrics: Registry;
}

export interface RunningService {
  /** Stops accepting work, flushes what is buffered, closes connections. Idempotent. */
  stop(): Promise<void>;
}
