import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeRecord, scanRecords } from "../../../infra/spool/record.js";
import { visitBacklog } from "../../../infra/spool/disk-scan.js";
import { Spool } from "../../../infra/spool/spool.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "campus-spool-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const bodies = (records: { body: Buffer }[]) => records.map((r) => r.body.toString());

/** A closed spool in a new folder holding one record; the path of its segment. */
async function spoolHolding(body: string): Promise<{ dir: string; path: string }> {
  const dir = tempDir();
  const spool = Spool.open({ dir, maxBytes: 1e9 });
  await spool.append([Buffer.from(body)], 1);
  await spool.close();
  const [segment] = readdirSync(dir).filter((f) => f.endsWith(".log"));
  return { dir, path: join(dir, segment!) };
}

describe("spool records", () => {
  it("reads back what it encoded", () => {
    const buf = Buffer.concat([encodeRecord(Buffer.from("a")), encodeRecord(Buffer.from("bb"))]);
    expect(scanRecords(buf).map((i) => (i.kind === "record" ? i.payload.toString() : i.kind))).toEqual(["a", "bb"]);
  });

  it("reports a torn record at the end as partial, and a damaged one in the middle as corrupt, then resynchronises", () => {
    const good = encodeRecord(Buffer.from("good"));
    const damaged = encodeRecord(Buffer.from("damaged"));
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 0xff, damaged.length - 1);
    const torn = encodeRecord(Buffer.from("torn record")).subarray(0, 15);
    const kinds = scanRecords(Buffer.concat([good, damaged, good, torn])).map((i) => i.kind);
    expect(kinds).toEqual(["record", "corrupt", "record", "partial"]);
  });
});

describe("the spool", () => {
  it("appends durably, reads in order, and forgets what was committed", async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir, maxBytes: 1e9 });
    await spool.append([Buffer.from("one"), Buffer.from("two")], 1_000);
    await spool.append([Buffer.from("three")], 2_000);
    expect(spool.backlogRecords).toBe(3);
    expect(spool.oldestAppendedAt).toBe(1_000);
    const records = spool.read(1e6);
    expect(bodies(records)).toEqual(["one", "two", "three"]);
    spool.commit(records[1]!.end);
    expect(spool.backlogRecords).toBe(1);
    spool.saveCheckpoint({ counters: 1 });
    await spool.close();

    const reopened = Spool.open({ dir, maxBytes: 1e9 });
    expect(reopened.savedState).toEqual({ counters: 1 });
    expect(bodies(reopened.read(1e6))).toEqual(["three"]);
    await reopened.close();
  });

  it("cuts a torn record off the end at start and never replays it", async () => {
    const { dir, path } = await spoolHolding("whole");
    const size = statSync(path).size;
    appendFileSync(path, encodeRecord(Buffer.alloc(100, 7)).subarray(0, 40)); // a crash in the middle of a write
    const corrupt: number[] = [];
    const reopened = Spool.open({ dir, maxBytes: 1e9, onCorrupt: (bytes) => corrupt.push(bytes) });
    expect(statSync(path).size).toBe(size);
    expect(corrupt).toEqual([40]);
    await reopened.append([Buffer.from("after")], 2);
    expect(bodies(reopened.read(1e6))).toEqual(["whole", "after"]);
    await reopened.close();
  });

  it("skips a damaged record in the middle of a segment", async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir, maxBytes: 1e9 });
    await spool.append([Buffer.from("first"), Buffer.from("second"), Buffer.from("third")], 1);
    await spool.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith(".log"));
    const path = join(dir, segment!);
    const data = readFileSync(path);
    const at = data.indexOf("second");
    data[at] = "S".charCodeAt(0); // flipped bits: the CRC no longer matches
    writeFileSync(path, data);
    const corrupt: number[] = [];
    const reopened = Spool.open({ dir, maxBytes: 1e9, onCorrupt: (bytes) => corrupt.push(bytes) });
    expect(bodies(reopened.read(1e6))).toEqual(["first", "third"]);
    expect(corrupt.length).toBeGreaterThan(0);
    await reopened.close();
  });

  it("rotates segments, deletes the committed ones, and says when it is full", async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir, maxBytes: 3_000, segmentBytes: 1_000 });
    for (let i = 0; i < 10; i++) await spool.append([Buffer.alloc(300, 65 + i)], i);
    expect(spool.full).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".log")).length).toBeGreaterThan(3);
    const records = spool.read(1e6);
    expect(records).toHaveLength(10);
    spool.commit(records.at(-1)!.end);
    expect(spool.full).toBe(false);
    spool.saveCheckpoint(null);
    expect(readdirSync(dir).filter((f) => f.endsWith(".log"))).toHaveLength(1);
    await spool.close();
  });

  it("commits appends made together as one group, across segment boundaries, in order", async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir, maxBytes: 1e9, segmentBytes: 1_000 });
    const appends = Array.from({ length: 12 }, (_, i) => spool.append([Buffer.alloc(300, 65 + i)], i));
    // Not on disk yet: the reader sees nothing until the group is fsynced.
    expect(spool.read(1e6)).toHaveLength(0);
    expect(spool.appending).toBe(true);
    const ends = await Promise.all(appends);
    expect(ends.map(([end]) => end!.segment)).toEqual([...ends.map(([end]) => end!.segment)].sort((a, b) => a - b));
    expect(new Set(ends.map(([end]) => end!.segment)).size).toBeGreaterThan(3);
    const records = spool.read(1e6);
    expect(records.map((r) => r.body[0])).toEqual(Array.from({ length: 12 }, (_, i) => 65 + i));
    expect(records.map((r) => r.end)).toEqual(ends.map(([end]) => end));
    await spool.close();
  });

  it("counts appends still on their way to disk towards the bound", async () => {
    const spool = Spool.open({ dir: tempDir(), maxBytes: 2_000 });
    const appended = spool.append([Buffer.alloc(2_500)], 1);
    expect(spool.full).toBe(true); // not fsynced yet, already counted
    await appended;
    expect(spool.full).toBe(true);
    spool.commit(spool.read(1e6).at(-1)!.end);
    expect(spool.full).toBe(false);
    await spool.close();
  });

  it("waits for appends in flight when closed, refuses new ones, and finds them after a restart", async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir, maxBytes: 1e9 });
    const inFlight = spool.append([Buffer.from("last words")], 5);
    await spool.close();
    await expect(inFlight).resolves.toHaveLength(1);
    await expect(spool.append([Buffer.from("too late")], 6)).rejects.toThrow(/closed/);
    const reopened = Spool.open({ dir, maxBytes: 1e9 });
    expect(bodies(reopened.read(1e6))).toEqual(["last words"]);
    await reopened.close();
  });
});

describe("a spool's backlog read from its folder", () => {
  const backlogOf = (dir: string) => {
    const found: { body: string; appendedAt: number }[] = [];
    visitBacklog(dir, (record) => found.push({ body: record.body.toString(), appendedAt: record.appendedAt }));
    return found;
  };

  it("lists the records after the checkpoint, across segments, with their append times", async () => {
    const dir = tempDir();
    const spool = Spool.open({ dir, maxBytes: 1e9, segmentBytes: 1_000 });
    for (let i = 0; i < 6; i++) await spool.append([Buffer.from(`r${i}`.padEnd(300, "."))], 1_000 + i);
    spool.commit(spool.read(1e6)[1]!.end);
    spool.saveCheckpoint(null);
    expect(backlogOf(dir).map((r) => [r.body.slice(0, 2), r.appendedAt])).toEqual([["r2", 1_002], ["r3", 1_003], ["r4", 1_004], ["r5", 1_005]]);
    await spool.close();
  });

  it("leaves out a record still being written, and changes nothing on disk", async () => {
    const { dir, path } = await spoolHolding("whole");
    appendFileSync(path, encodeRecord(Buffer.alloc(100, 7)).subarray(0, 40)); // a writer in the middle of an append
    const size = statSync(path).size;
    expect(backlogOf(dir).map((r) => r.body)).toEqual(["whole"]);
    expect(statSync(path).size).toBe(size);
  });
});
