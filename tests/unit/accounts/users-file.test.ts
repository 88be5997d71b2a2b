// infra/users-file.ts on a real temporary directory: mode 0600, the lock, and the watch
// that re-reads the file when it changes.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { type Account, hashPassword, SALT_BYTES } from "../../../domain/accounts.js";
import { CampusError } from "../../../domain/errors.js";
import { writeFileAtomic } from "../../../infra/atomic-file.js";
import { readUsersFile, updateUsersFile, UsersFileWatch } from "../../../infra/users-file.js";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "users-file-"));
  file = join(dir, "nested", "users.json");
});

async function account(name: string): Promise<Account> {
  const at = new Date(0).toISOString();
  return { name, role: "viewer", sites: null, password_hash: await hashPassword("correct horse battery", randomBytes(SALT_BYTES), { logN: 10, r: 8, p: 1 }), created_at: at, password_changed_at: at };
}
const add = (extra: Account) => updateUsersFile(file, (current) => ({ ...current, users: [...current.users, extra] }));

describe("writing", () => {
  it("writes the file mode 0600 even under a umask that lets everyone read (infra/atomic-file.ts)", async () => {
    const umask = process.umask(0);
    try {
      await add(await account("wang"));
    } finally {
      process.umask(umask);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "nested"))).toEqual(["users.json"]);
  });
});

describe("changing the file", () => {
  it("reads a missing file as no users, and keeps each change", async () => {
    expect(readUsersFile(file).users).toEqual([]);
    await add(await account("wang"));
    await add(await account("li"));
    expect(readUsersFile(file).users.map((u) => u.name)).toEqual(["wang", "li"]);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("refuses to change the file while another command holds the lock, naming the lock", async () => {
    await add(await account("wang"));
    writeFileSync(`${file}.lock`, "");
    await expect(add(await account("li"))).rejects.toThrow(`another campus-power user command is changing ${file} (if none runs, remove ${file}.lock)`);
    expect(readUsersFile(file).users.map((u) => u.name)).toEqual(["wang"]);
  });

  it("releases the lock when the change throws", async () => {
    await expect(updateUsersFile(file, () => { throw new Error("refused"); })).rejects.toThrow("refused");
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("lists every problem of a broken file with the file's name", () => {
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ version: 1, users: [{ name: "Wang" }] }));
    let error: unknown;
    try {
      readUsersFile(join(dir, "bad.json"));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(CampusError);
    expect((error as CampusError).problems.every((p) => p.path.startsWith(join(dir, "bad.json")))).toBe(true);
  });
});

describe("watching the file", () => {
  it("sees an added account at the next look after recheckMs, or at once when forced", async () => {
    await add(await account("wang"));
    const watch = new UsersFileWatch(file, () => undefined, 1_000);
    expect([...watch.accounts(0).keys()]).toEqual(["wang"]);
    await add(await account("li"));
    expect([...watch.accounts(500).keys()]).toEqual(["wang"]);
    expect([...watch.accounts(1_000).keys()]).toEqual(["wang", "li"]);
    await add(await account("zhao"));
    expect([...watch.accounts(1_001, true).keys()]).toEqual(["wang", "li", "zhao"]);
  });

  it("fails closed on a file broken while running (no accounts, told once), and recovers when it is fixed", async () => {
    await add(await account("wang"));
    const problems: Error[] = [];
    const watch = new UsersFileWatch(file, (error) => problems.push(error), 0);
    writeFileSync(file, "{ not json");
    expect(watch.accounts(1).size).toBe(0);
    expect(watch.accounts(2).size).toBe(0);
    expect(problems).toHaveLength(1);
    await writeFileAtomic(file, JSON.stringify({ version: 1, users: [await account("li")] }));
    expect([...watch.accounts(3).keys()]).toEqual(["li"]);
  });

  it("refuses to start on a broken file", () => {
    writeFileSync(join(dir, "broken.json"), "[]");
    expect(() => new UsersFileWatch(join(dir, "broken.json"), () => undefined)).toThrow(CampusError);
  });
});
