// The session announcements the API instances exchange through Redis (api/ha/redis-sessions.ts): decoded only
// when well-formed, and applied to a SessionStore's replica (api/sessions.ts, shared mode) idempotently: a
// repeated or late announcement never shortens a session nor brings an ended one back.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyChange, decodeChange } from "../../../api/ha/redis-sessions.js";
import { type SavedSession, type SessionReplica, SessionStore, type SharedSessions } from "../../../api/sessions.js";
import { hashPassword, SALT_BYTES } from "../../../domain/accounts.js";
import { sha256Hex } from "../../../domain/credentials.js";
import { createLogger } from "../../../infra/logger.js";
import { updateUsersFile } from "../../../infra/users-file.js";

const dir = mkdtempSync(join(tmpdir(), "redis-sessions-changes-"));
const usersFile = join(dir, "users.json");
const HOUR = 3_600_000;
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  const password_hash = await hashPassword(PASSWORD, randomBytes(SALT_BYTES), { logN: 14, r: 8, p: 1 });
  await updateUsersFile(usersFile, () => ({ version: 1, users: [{ name: "wang.li", role: "operator", sites: null, password_hash, created_at: "2026-01-01T00:00:00Z", password_changed_at: "2026-01-01T00:00:00Z" }] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A SessionStore in shared mode (sessions idle out after an hour) whose shared store does nothing: the test plays the other instances. */
function storeWithReplica(): { store: SessionStore; replica: SessionReplica; opened: SavedSession[] } {
  let replica: SessionReplica | null = null;
  const opened: SavedSession[] = [];
  const shared: SharedSessions = { loaded: true, open: async (session) => void opened.push({ ...session }), end: async () => undefined, slide: async () => true, close: async () => undefined };
  const store = new SessionStore({ usersFile, sessionsFile: null, idleMs: HOUR, log: createLogger("silent"), shared: (r) => ((replica = r), shared) });
  return { store, replica: replica!, opened };
}

describe("session announcements between API instances", () => {
  it("are decoded only when well-formed", () => {
    const a: SavedSession = { token_sha256: "a".repeat(64), name: "wang.li", password_stamp: "0123456789abcdef", created_at_ms: 0, expires_at_ms: 10 };
    expect(decodeChange(JSON.stringify({ open: [a], end: ["b".repeat(64)] }))).toEqual({ open: [a], end: ["b".repeat(64)] });
    expect(decodeChange(JSON.stringify({ slide: [["a", 5]] }))).toEqual({ slide: [["a", 5]] });
    for (const bad of ["", "null", "[]", '{"open": [{"token_sha256": "x"}]}', '{"end": [1]}', '{"slide": [["a"]]}', '{"slide": [["a", "5"]]}']) expect(decodeChange(bad), bad).toBeNull();
  });

  it("apply idempotently: a repeated or late announcement never shortens a session, nor revives an ended one", async () => {
    const { store, replica } = storeWithReplica();
    const outcome = await store.login("wang.li", PASSWORD, 0);
    if (!outcome.ok) throw new Error("the sign-in failed");
    const id = sha256Hex(outcome.token);
    const opened: SavedSession = { token_sha256: id, name: "wang.li", password_stamp: "as announced", created_at_ms: 0, expires_at_ms: HOUR };
    applyChange(replica, { slide: [[id, 3 * HOUR]] }); // used on another instance until 2 h
    applyChange(replica, { slide: [[id, HOUR / 2]] }); // late: an older slide
    applyChange(replica, { open: [opened] }); // repeated
    expect(store.principalOf(outcome.token, 3 * HOUR - 1)?.name).toBe("wang.li"); // slides it here to 4 h - 1
    expect(store.principalOf(outcome.token, 4 * HOUR - 2)?.name).toBe("wang.li");
    applyChange(replica, { end: [id] }); // a logout on another instance
    applyChange(replica, { slide: [[id, 9 * HOUR]] }); // a slide that crossed it
    expect(store.principalOf(outcome.token, 4 * HOUR)).toBeNull();
    await store.close();
  });

  it("a refill keeps a slide not carried yet, and drops what the shared store no longer holds", async () => {
    const { store, replica, opened } = storeWithReplica();
    const kept = await store.login("wang.li", PASSWORD, 0);
    const ended = await store.login("wang.li", PASSWORD, 0);
    if (!kept.ok || !ended.ok) throw new Error("the sign-in failed");
    expect(store.principalOf(kept.token, HOUR / 2)).not.toBeNull(); // slid here to 1.5 h, not carried yet
    // What Redis holds after a reconnection: the kept session as it was opened (expiring at 1 h), not the ended one.
    replica.replaceAll(opened.filter((session) => session.token_sha256 === sha256Hex(kept.token)));
    expect(store.principalOf(ended.token, HOUR / 2)).toBeNull();
    expect(store.principalOf(kept.token, HOUR + 1)).not.toBeNull();
    await store.close();
  });
});
