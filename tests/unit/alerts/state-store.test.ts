// The alert state file's store (alerts/persistence.ts) on a real temp folder: saves asked for while one is
// being written share the next save (group commit), and the file on disk is always the newest snapshot.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createStateStore, type StoreBackend } from "../../../alerts/persistence.js";
import type { SavedState } from "../../../alerts/saved-state.js";
import { initialState } from "../../../alerts/engine.js";
import { createLogger } from "../../../infra/logger.js";

const dir = mkdtempSync(join(tmpdir(), "campus-state-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the alert state store", () => {
  it("writes once for every save asked for while another was being written, and keeps the newest snapshot", async () => {
    const file = join(dir, "state.json");
    let version = 0;
    let snapshots = 0;
    const snapshot = (): SavedState => {
      snapshots++;
      return { version: 1, saved_at: new Date(0).toISOString(), engine: initialState(), pending_writes: [`v${version}`] };
    };
    const store = createStateStore(file, snapshot, createLogger("silent"));
    version = 1;
    const first = store.saveNow();
    while (snapshots === 0) await new Promise((r) => setImmediate(r)); // the first save is being written
    const saves: Promise<void>[] = [];
    for (version = 2; version <= 20; version++) saves.push(store.saveNow());
    version = 20;
    await Promise.all([first, ...saves]);
    // The 19 saves asked for while the first was being written share one more, whose snapshot is the newest.
    expect(snapshots).toBe(2);
    expect(JSON.parse(readFileSync(file, "utf8")).pending_writes).toEqual(["v20"]);
  });

  it("runs afterSave's steps only once a snapshot taken after them is saved, in order, waiting out failed saves", async () => {
    let version = 0;
    const saved: number[] = [];
    const ran: string[] = [];
    const writes: { text: string; finish: (ok: boolean) => void }[] = [];
    const backend: StoreBackend = {
      where: { key: "test" },
      read: () => null,
      write: (text) => new Promise((resolve, reject) => writes.push({ text, finish: (ok) => (ok ? resolve() : reject(new Error("Redis away"))) })),
      setAside: () => "nowhere",
      retryAfter: () => true,
    };
    const snapshot = (): SavedState => ({ version: 1, saved_at: new Date(0).toISOString(), engine: initialState(), pending_writes: [`v${version}`] });
    const store = createStateStore(backend, snapshot, createLogger("silent"), { debounceMs: 1 });
    const nextWrite = async () => {
      while (writes.length === 0) await new Promise((r) => setTimeout(r, 1));
      return writes.shift()!;
    };
    const finish = async (ok: boolean) => {
      const write = await nextWrite();
      write.finish(ok);
      if (ok) saved.push(Number(JSON.parse(write.text).pending_writes[0].slice(1)));
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    };

    version = 1;
    store.afterSave(() => ran.push(`a after v${saved.at(-1)}`));
    const first = await nextWrite(); // the save of v1 is being written...
    version = 2;
    store.afterSave(() => ran.push(`b after v${saved.at(-1)}`)); // ...so b waits for the next one
    first.finish(true);
    saved.push(1);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(["a after v1"]);

    await finish(false); // the save of v2 fails: b waits
    expect(ran).toEqual(["a after v1"]);
    version = 3;
    store.afterSave(() => ran.push(`c after v${saved.at(-1)}`));
    // The retry may be under way already (snapshot v2, covering b) or not (v3, covering both): either way
    // each step runs after a save of a version at least its own, and in order.
    while (ran.length < 3) await finish(true);
    expect(ran.map((r) => r[0])).toEqual(["a", "b", "c"]);
    expect(Number(ran[1]!.at(-1))).toBeGreaterThanOrEqual(2);
    expect(Number(ran[2]!.at(-1))).toBe(3);
    expect(writes).toEqual([]);
  });
});
