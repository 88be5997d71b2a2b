// The alerts service's files: `${DATA_DIR}/alerts/state.json` (the engine state and the rest,
// saved-state.ts) and `commands.json` (the command book alone: small, so the save a command's send waits
// for is quick), each written atomically (infra/atomic-file.ts: a crash leaves the old file or the new
// one, never half of one; owner-only, as they hold people's names and notes) and debounced, so a burst
// of changes costs one write; checked when read.
import { readFileSync, renameSync } from "node:fs";
import type { TSchema, Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { writeFileAtomic } from "../infra/atomic-file.js";
import type { Logger } from "../infra/logger.js";
import { SavedStateSchema, type SavedState } from "./saved-state.js";

export interface JsonStore<T> {
  load(): T | null;
  /** Saves `snapshot()` after `debounceMs` (one write per burst). */
  schedule(): void;
  /** Saves now and waits for it (and for any save in flight). */
  saveNow(): Promise<void>;
  /** Cancels a scheduled save (stop() calls saveNow() right after). */
  cancel(): void;
}

export type StateStore = JsonStore<SavedState>;

/** Makes a file of an earlier version current before it is checked (./state-upgrade.ts). */
export type Upgrade = (raw: unknown) => unknown;

/** The alert state file (saved-state.ts). */
export const createStateStore = (file: string, snapshot: () => SavedState, log: Logger, options: { debounceMs?: number; upgrade?: Upgrade } = {}): StateStore =>
  createJsonStore(file, snapshot, (text) => parseSavedState(text, options.upgrade), log, options.debounceMs ?? 250);

/** A file holding one value of `schema` (the command book: commands/book.ts). */
export const createSchemaStore = <S extends TSchema>(file: string, schema: S, snapshot: () => Static<S>, log: Logger, debounceMs = 250): JsonStore<Static<S>> =>
  createJsonStore(file, snapshot, (text) => parseWith(schema, text), log, debounceMs);

type Parsed<T> = { ok: true; saved: T } | { ok: false; reason: string };

/** A save may block the event loop for at most 1 / this of the time. */
const SAVE_TIME_SHARE = 10;

function createJsonStore<T>(file: string, snapshot: () => T, parse: (text: string) => Parsed<T>, log: Logger, debounceMs: number): JsonStore<T> {
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  /** How long the last snapshot took to serialise, ms: the event loop is blocked meanwhile. */
  let serialiseMs = 0;
  const write = () => {
    const started = performance.now();
    const text = JSON.stringify(snapshot());
    serialiseMs = performance.now() - started;
    return writeFileAtomic(file, text);
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
      .catch((error: unknown) => log.error({ err: error, file }, "could not save the alerts service's state"));
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
      const parsed = parse(text);
      if (parsed.ok) return parsed.saved;
      // Keep the unreadable file for a person to look at and start empty rather than refuse to run
      // (the alerts would otherwise stay down until someone deletes it by hand).
      const aside = `${file}.corrupt-${Date.now()}`;
      try {
        renameSync(file, aside);
        log.error({ file, movedTo: aside, reason: parsed.reason }, "alerts service file unreadable; kept aside, starting without it");
      } catch (error) {
        log.error({ err: error, file, reason: parsed.reason }, "alerts service file unreadable and could not be moved aside; starting without it");
      }
      return null;
    },
    schedule() {
      if (timer) return;
      // A large state (20,000 devices: tens of MB of JSON) is saved at most every 10 × its serialising time,
      // so saving never takes more than a tenth of the service's time; a small one every debounceMs as before.
      timer = setTimeout(() => {
        timer = null;
        void enqueue();
      }, Math.max(debounceMs, SAVE_TIME_SHARE * serialiseMs));
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
export const parseSavedState = (text: string, upgrade?: Upgrade): Parsed<SavedState> => parseWith(SavedStateSchema, text, "an alert state", upgrade);

function parseWith<S extends TSchema>(schema: S, text: string, what = "the expected shape", upgrade: Upgrade = (raw) => raw): Parsed<Static<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const saved = Value.Default(schema, upgrade(raw)); // files from before a field with a default existed
  if (Value.Check(schema, saved)) return { ok: true, saved };
  const first = Value.Errors(schema, saved).First();
  return { ok: false, reason: `not ${what}: ${first ? `${first.path || "(root)"}: ${first.message}` : "unknown shape"}` };
}
