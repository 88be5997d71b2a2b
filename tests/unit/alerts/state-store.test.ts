// The alert state file's store (alerts/persistence.ts) on a real temp folder: saves asked for while one is
// being written share the next save (group commit), and the file on disk is always the newest snapshot.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createStateStore } from "../../../alerts/persistence.js";
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
});
