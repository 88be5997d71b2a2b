// The engine state on disk: `${DATA_DIR}/alerts/state.json`, written atomically (temp file, fsync,
// rename — a crash leaves the old file or the new one, never half of one) and debounced, so a burst
// of readings costs one write. Format: saved-state.ts (SavedStateSchema), checked when read.
import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { Value } from "@sinclair/typebox/value";
import type { Logger } from "../infra/logger.js";
import { SavedStateSchema, type SavedState } from "./saved-state.js";

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
  // Saves run one after another, so two renames never race and the last snapshot wins. Group commit: a
  // save asked for while another is being written waits for the next one, which takes its snapshot when it
  // starts and so covers every change asked for until then (20 commands a second need a few saves a
  // second, not 20 whole-state writes each waiting for the one before: bench:commands).
  let next: Promise<void> | null = null;
  const enqueue = () => {
    if (next !== null) return next;
    const queued = chain
      .then(() => {
        next = null;
        return write();
      })
      .catch((error: unknown) => log.error({ err: error, file }, "could not save the alert state"));
    next = queued;
    chain = queued;
    return queued;
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
      const parsed = parseSavedState(text);
      if (parsed.ok) return parsed.saved;
      // Keep the unreadable file for a person to look at and start empty rather than refuse to run
      // (the alerts would otherwise stay down until someone deletes it by hand).
      const aside = `${file}.corrupt-${Date.now()}`;
      try {
        renameSync(file, aside);
        log.error({ file, movedTo: aside, reason: parsed.reason }, "alert state file unreadable; kept aside, starting with an empty state");
      } catch (error) {
        log.error({ err: error, file, reason: parsed.reason }, "alert state file unreadable and could not be moved aside; starting with an empty state");
      }
      return null;
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

/** The saved file's text as a SavedState, or why not (not JSON, or JSON of another shape: where and what). */
export function parseSavedState(text: string): { ok: true; saved: SavedState } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const saved = Value.Default(SavedStateSchema, raw); // files from before pending_writes existed
  if (Value.Check(SavedStateSchema, saved)) return { ok: true, saved };
  const first = Value.Errors(SavedStateSchema, saved).First();
  return { ok: false, reason: `not an alert state: ${first ? `${first.path || "(root)"}: ${first.message}` : "unknown shape"}` };
}
