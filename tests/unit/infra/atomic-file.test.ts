// infra/atomic-file.ts on a real temporary directory: the mode of the new file, whatever the umask, and no
// temporary file reused or left behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../../infra/atomic-file.js";

let dir: string;
let file: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "atomic-file-"));
  file = join(dir, "nested", "state.json");
  umask = process.umask(0);
});
afterEach(() => process.umask(umask));

describe("writing a file atomically", () => {
  it("writes mode 0600 even under a umask that lets everyone read, creating the folder and leaving no temporary file", async () => {
    await writeFileAtomic(file, "secret");
    expect(readFileSync(file, "utf8")).toBe("secret");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "nested"))).toEqual(["state.json"]);
  });

  it("writes the mode it is given", async () => {
    await writeFileAtomic(file, "for everyone to read", { mode: 0o644 });
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("replaces an existing file of a looser mode with a 0600 one", async () => {
    await writeFileAtomic(file, "old");
    writeFileSync(file, "old", { mode: 0o644 });
    await writeFileAtomic(file, "new");
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("never reuses a temporary file a crash left behind, whatever its mode", async () => {
    const leftover = `${file}.tmp-${process.pid}`;
    await writeFileAtomic(file, "first");
    writeFileSync(leftover, "half a write", { mode: 0o644 });
    await writeFileAtomic(file, "second");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe("second");
    expect(existsSync(leftover)).toBe(false);
  });
});
