// The engine state on disk: `${DATA_DIR}/alerts/state.json`, written atomically (temp file, fsync,
// rename — a crash leaves the old file or the new one, never half of one) and debounced, so a burst
// of readings costs one write. Format: { version: 1, saved_at, engine: EngineState, pending_writes }.
import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../infra/logger.js";
import type { SavedNotify } from "./notify/index.js";
import type { EngineState } from "./types.js";

export interface SavedState {
  version: 1;
  saved_at: string;
  engine: EngineState;
  /** Alert points InfluxDB has not accepted yet (line protocol), retried after a restart. */
  pending_writes: string[];
  /** The webhook notifier: its durable outbox and reminder clocks (absent without a webhook). */
  notify?: SavedNotify;
}

export interface StateStore {
  load(): SavedState | null;
  /** Saves `snapshot()` after `debounceMs` (one write per burst). */
  schedule(): void;
  /** Saves now and waits for it (and for any save in flight). */
  saveNow(): Promise<void>;
  /** Cancels a scheduled save (stop() calls saveNow() right after). */
  cancel(): void;
}

export function createStateStore(file: string, snapshot: () => SavedState, log: Logger, debounceMs = 250): StateStore {
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const write = async () => {
    const text = JSON.stringify(snapshot());
    const temp = `${file}.tmp-${process.pid}`;
    mkdirSync(dirname(file), { recursive: true });
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  };
  // Saves run one after another, so two renames never race and the last snapshot wins.
  const enqueue = () => {
    chain = chain.then(write).catch((error) => log.error({ err: error, file }, "could not save the alert state"));
    return chain;
  };

  return {
    load() {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
      try {
        const saved = JSON.parse(text) as SavedState;
        if (saved?.version !== 1 || typeof saved.engine?.devices !== "object") throw new Error("unknown format");
        return { ...saved, pending_writes: Array.isArray(saved.pending_writes) ? saved.pending_writes : [] };
      } catch (error) {
        // Keep the unreadable file for a human and start empty rather than refuse to run.
        const aside = `${file}.corrupt-${Date.now()}`;
        renameSync(file, aside);
        log.error({ err: error, file, movedTo: aside }, "alert state file unreadable; starting with an empty state");
        return null;
      }
    },
    schedule() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void enqueue();
      }, debounceMs);
      timer.unref();
    },
    saveNow() {
      if (timer) clearTimeout(timer);
      timer = null;
      return enqueue();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
