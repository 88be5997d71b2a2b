// The one way a durable state file is written (the users and sessions files, the alerts service's state and
// command book): a temporary file beside it, fsynced, then renamed over it. rename(2) within one file system
// replaces the name atomically (POSIX), so a crash leaves the old file or the new one, never half of one.
import { mkdirSync, rmSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";

/** Owner read/write only: the default, since state files hold password or token hashes, or people's names. */
export const OWNER_ONLY_MODE = 0o600;

export interface AtomicWriteOptions {
  /** Permission bits of the new file (default OWNER_ONLY_MODE); the process's umask can only take bits away. */
  mode?: number;
}

/**
 * Writes `text` to `file` atomically, creating its folder if needed. The temporary file (`${file}.tmp-${pid}`)
 * is created afresh with `mode`, so the text is never readable by others, not even for a moment; one a crash
 * left behind (in a container the pid is the same every time) is removed first, never reused. Callers
 * serialise their own writes of one file: two at once in one process would share the temporary name.
 */
export async function writeFileAtomic(file: string, text: string, { mode = OWNER_ONLY_MODE }: AtomicWriteOptions = {}): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  rmSync(temp, { force: true });
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
