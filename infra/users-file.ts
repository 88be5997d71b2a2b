// USERS_FILE (CONTRACT §9, default DATA_DIR/users.json): the named accounts on disk. Mode 0600 (it holds
// password hashes), written atomically (./atomic-file.ts: a crash leaves the old file or the new one),
// changed under a lock file, so two `campus-power user` commands at once cannot lose one another's change.
// The API re-reads it when it changes (UsersFileWatch), so `user add` takes effect without a restart.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { type Account, EMPTY_USERS_FILE, parseUsersFile, type UsersFile } from "../domain/accounts.js";
import { CampusError, ErrorCodes } from "../domain/errors.js";
import { OWNER_ONLY_MODE, writeFileAtomic } from "./atomic-file.js";

/** The users file; a missing file is no users yet. Throws a CampusError listing every problem of a bad one. */
export function readUsersFile(file: string): UsersFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return EMPTY_USERS_FILE;
    throw new CampusError(ErrorCodes.CONFIG_INVALID, `cannot read the users file ${file}: ${(error as Error).message}`);
  }
  const parsed = parseUsersFile(text);
  if (!parsed.ok) throw new CampusError(ErrorCodes.CONFIG_INVALID, `the users file ${file} is invalid`, parsed.problems.map((p) => ({ path: `${file}: ${p.path}`, message: p.message })));
  return parsed.file;
}

/**
 * Reads the file, applies `change` and writes the result, holding `${file}.lock` (created exclusively) the
 * whole time. A lock left by a command that died is named in the error, for a person to remove.
 */
export async function updateUsersFile(file: string, change: (current: UsersFile) => UsersFile): Promise<UsersFile> {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  let descriptor: number;
  try {
    descriptor = openSync(lock, "wx", OWNER_ONLY_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new CampusError(ErrorCodes.CONFIG_INVALID, `another campus-power user command is changing ${file} (if none runs, remove ${lock})`);
  }
  try {
    const next = change(readUsersFile(file));
    await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
    return next;
  } finally {
    closeSync(descriptor);
    unlinkSync(lock);
  }
}

/** What identifies one version of the file: each atomic write is a new inode (rename), so edits in the same millisecond differ too. */
const versionOf = (file: string): string | null => {
  try {
    const stat = statSync(file);
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return null;
  }
};

/**
 * The accounts as the file says now, re-read when it changed: one stat(2) at most every `recheckMs` (of the
 * caller's clock), a read only when the file is another version. A file that became unreadable or invalid
 * counts as no accounts (nobody signs in, every session ends) until it is fixed: failing closed, told once
 * to `onProblem`.
 */
export class UsersFileWatch {
  private version: string | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private byName: ReadonlyMap<string, Account> = new Map();

  constructor(
    readonly file: string,
    private readonly onProblem: (error: Error) => void,
    private readonly recheckMs = 1_000,
  ) {
    // At start a bad file is an error for the person starting the API (thrown, every problem listed). The
    // version is taken before the read: a change in between is then seen at the next look.
    const version = versionOf(file);
    this.load(readUsersFile(file), version);
  }

  /** The accounts by name, re-read first when `recheckMs` has passed since the last look (`force`: look now). */
  accounts(now: number, force = false): ReadonlyMap<string, Account> {
    if (!force && now - this.checkedAt < this.recheckMs) return this.byName;
    this.checkedAt = now;
    const version = versionOf(this.file);
    if (version === this.version) return this.byName;
    try {
      this.load(readUsersFile(this.file), version);
    } catch (error) {
      this.load(EMPTY_USERS_FILE, version);
      this.onProblem(error as Error);
    }
    return this.byName;
  }

  private load(file: UsersFile, version: string | null): void {
    this.byName = new Map(file.users.map((account) => [account.name, account]));
    this.version = version;
  }
}
