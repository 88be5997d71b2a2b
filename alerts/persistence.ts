// The alerts service's files: `${DATA_DIR}/alerts/state.json` (the engine state and the rest,
// saved-state.ts) and `commands.json` (the command book alone: small, so the save a command's send waits
// for is quick), each written atomically (infra/atomic-file.ts: a crash leaves the old file or the new
// one, never half of one; owner-only, as they hold people's names and notes) and debounced, so a burst
// of changes costs one write; checked when read. With REDIS_URL the same JSON lives in Redis instead
// (./redis-store.ts gives a `StoreBackend` to the same store: debouncing, group commit and checks unchanged;
// the alert state there is kept per device and a save writes what changed: ./redis-state.ts).
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
  /**
   * Calls `then` once a save begun after this call has succeeded, so what it does rests on state already
   * saved; schedules that save. After a failed save it waits for the next good one (callbacks in order).
   */
  afterSave(then: () => void): void;
}

export type StateStore = JsonStore<SavedState>;

/** Makes a file of an earlier version current before it is checked (./state-upgrade.ts). */
export type Upgrade = (raw: unknown) => unknown;

/** What a backend read: the JSON text saved, or the value itself when the backend assembles it from parts. */
export type Stored = string | { value: unknown };

/**
 * Where a store's JSON lives: a file (a path: the default) or something else (Redis: ./redis-store.ts, and
 * ./redis-state.ts for the alert state, kept per device). `read` is synchronous: a backend that must fetch its
 * text does so before the store is made.
 */
export interface StoreBackend<P = string> {
  /** Log fields naming where, e.g. `{ key: "campus:alerts:state" }`. */
  where: Record<string, string>;
  /** What was saved, or null when nothing was saved yet. */
  read(): Stored | null;
  /**
   * What a save of `value` writes (default: its JSON text). Synchronous, and timed by the store: it blocks the
   * event loop. A backend that writes only what changed since its last good write keeps that record itself.
   */
  encode?(value: unknown): P;
  /**
   * The same, a part a turn of the event loop, with the time it kept the loop busy; used instead of `encode`
   * when there. It must take what it saves from `value` at once: the caller goes on changing the state.
   */
  encodeInSlices?(value: unknown): Promise<{ payload: P; busyMs: number }>;
  write(payload: P): Promise<void>;
  /** The value the store loaded, checked (and upgraded): a backend writing what changed starts from it. */
  loaded?(value: unknown): void;
  /** Keeps an unreadable value for a person to look at; returns where it went (throws when it cannot). */
  setAside(stored: Stored): string;
  /** After a failed write: true to try again later (a store that is not a file: the change is saved nowhere else). */
  retryAfter?(error: unknown): boolean;
}

/** The alert state file (saved-state.ts). */
export const createStateStore = (target: string | StoreBackend<unknown>, snapshot: () => SavedState, log: Logger, options: { debounceMs?: number; upgrade?: Upgrade } = {}): StateStore =>
  createJsonStore(backendOf(target), snapshot, (stored) => parseSavedState(stored, options.upgrade), log, options.debounceMs ?? 250);

/** A file holding one value of `schema` (the command book: commands/book.ts). */
export const createSchemaStore = <S extends TSchema>(target: string | StoreBackend, schema: S, snapshot: () => Static<S>, log: Logger, debounceMs = 250): JsonStore<Static<S>> =>
  createJsonStore(backendOf(target), snapshot, (stored) => parseWith(schema, stored), log, debounceMs);

const backendOf = <P>(target: string | StoreBackend<P>): StoreBackend<P> | StoreBackend => (typeof target === "string" ? fileBackend(target) : target);

/** A file written atomically; an unreadable one is renamed aside (which may throw: the store logs it). */
function fileBackend(file: string): StoreBackend {
  return {
    where: { file },
    read() {
      try {
        return readFileSync(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    write: (text) => writeFileAtomic(file, text),
    setAside() {
      // The file itself is what was read: it is moved aside whole.
      const aside = `${file}.corrupt-${Date.now()}`;
      renameSync(file, aside);
      return aside;
    },
  };
}

type Parsed<T> = { ok: true; saved: T } | { ok: false; reason: string };
type Parse<T> = (stored: Stored) => Parsed<T>;

/** A save may block the event loop for at most 1 / this of the time. */
const SAVE_TIME_SHARE = 10;

function createJsonStore<T, P>(backend: StoreBackend<P>, snapshot: () => T, parse: Parse<T>, log: Logger, debounceMs: number): JsonStore<T> {
  const encode = backend.encode?.bind(backend) ?? ((value: unknown) => JSON.stringify(value) as P);
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  /** How long the last snapshot took to serialise, ms: the event loop is blocked meanwhile. */
  let serialiseMs = 0;
  /** afterSave's callbacks not yet covered by a snapshot. */
  let waiting: (() => void)[] = [];
  const encodeTimed = async (value: unknown): Promise<P> => {
    if (backend.encodeInSlices) {
      const { payload, busyMs } = await backend.encodeInSlices(value);
      serialiseMs = busyMs;
      return payload;
    }
    const started = performance.now();
    const payload = encode(value);
    serialiseMs = performance.now() - started;
    return payload;
  };
  const write = async () => {
    const value = snapshot();
    // This snapshot covers every change made before the callbacks waiting now were asked for.
    const covered = waiting;
    waiting = [];
    try {
      await backend.write(await encodeTimed(value));
    } catch (error) {
      waiting = [...covered, ...waiting];
      throw error;
    }
    for (const then of covered) {
      try {
        then();
      } catch (error) {
        log.error({ err: error }, "a step waiting for the alerts state to be saved failed");
      }
    }
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
      .catch((error: unknown) => {
        log.error({ err: error, ...backend.where }, "could not save the alerts service's state");
        if (backend.retryAfter?.(error)) schedule();
      });
    next = queued;
    chain = queued;
    return queued;
  };

  const schedule = () => {
    if (timer) return;
    // A large state (20,000 devices: tens of MB of JSON) is saved at most every 10 × its serialising time,
    // so saving never takes more than a tenth of the service's time; a small one every debounceMs as before.
    timer = setTimeout(() => {
      timer = null;
      void enqueue();
    }, Math.max(debounceMs, SAVE_TIME_SHARE * serialiseMs));
    timer.unref();
  };

  return {
    load() {
      const stored = backend.read();
      if (stored === null) return null;
      const parsed = parse(stored);
      if (parsed.ok) {
        backend.loaded?.(parsed.saved);
        return parsed.saved;
      }
      // Keep the unreadable file for a person to look at and start empty rather than refuse to run
      // (the alerts would otherwise stay down until someone deletes it by hand).
      try {
        const aside = backend.setAside(stored);
        log.error({ ...backend.where, movedTo: aside, reason: parsed.reason }, "alerts service file unreadable; kept aside, starting without it");
      } catch (error) {
        log.error({ err: error, ...backend.where, reason: parsed.reason }, "alerts service file unreadable and could not be moved aside; starting without it");
      }
      return null;
    },
    schedule,
    saveNow() {
      if (timer) clearTimeout(timer);
      timer = null;
      return enqueue();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    afterSave(then) {
      waiting.push(then);
      schedule();
    },
  };
}

/** The saved text (or value) as a SavedState, or why not (not JSON, or JSON of another shape: where and what). */
export const parseSavedState = (stored: Stored, upgrade?: Upgrade): Parsed<SavedState> => parseWith(SavedStateSchema, stored, "an alert state", upgrade);

function parseWith<S extends TSchema>(schema: S, stored: Stored, what = "the expected shape", upgrade: Upgrade = (raw) => raw): Parsed<Static<S>> {
  let raw: unknown;
  if (typeof stored === "string") {
    try {
      raw = JSON.parse(stored);
    } catch (error) {
      return { ok: false, reason: `not JSON: ${(error as Error).message}` };
    }
  } else raw = stored.value;
  const saved = Value.Default(schema, upgrade(raw)); // files from before a field with a default existed
  if (Value.Check(schema, saved)) return { ok: true, saved };
  const first = Value.Errors(schema, saved).First();
  return { ok: false, reason: `not ${what}: ${first ? `${first.path || "(root)"}: ${first.message}` : "unknown shape"}` };
}
