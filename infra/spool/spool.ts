// A durable, append-only spool of records on disk (the ingest's DATA_DIR/ingest/<client id>/, the
// broker's journal DATA_DIR/broker/journal/): segments of checksummed records (./record.ts) rotated at
// `segmentBytes`, and a checkpoint of how far the reader has committed plus the reader's own state
// (./layout.ts). Durability policy: append() resolves only after write + fdatasync of every record it
// holds; all the appends that arrive while one fsync runs share the next one (group commit). Writes and
// fsyncs run on libuv's thread pool, so the event loop goes on taking messages while the disk syncs; a
// record is visible to the reader only once it is fsynced. A record whose write was torn by a crash fails
// its CRC and is cut off at start (./disk-scan.ts); a damaged record in the middle is skipped.
// Fully committed segments are deleted once the checkpoint that passes them is on disk.
import { closeSync, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync, statSync, truncateSync, unlinkSync, writev } from "node:fs";
import { promisify } from "node:util";
import { scanSegments } from "./disk-scan.js";
import { type Checkpoint, type SpoolPosition, backlogStart, comparePositions, listSegments, readCheckpoint, readSegmentBytes, segmentName, segmentPath, segmentSize, writeCheckpoint } from "./layout.js";
import { encodeRecord, HEADER_BYTES, readTimedPayload, scanRecords, timedPayload } from "./record.js";

export type { SpoolPosition } from "./layout.js";

export interface SpoolOptions {
  dir: string;
  /** Backlog (uncommitted bytes) at which the spool counts as full and refuses appends. */
  maxBytes: number;
  segmentBytes?: number;
  onCorrupt?(bytes: number, where: string): void;
}

export interface SpoolRecord {
  /** When the record was appended, epoch ms. */
  appendedAt: number;
  body: Buffer;
  end: SpoolPosition;
}

interface Entry {
  segment: number;
  end: number;
  bytes: number;
  appendedAt: number;
}

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);

interface Pending {
  buffers: Buffer[];
  resolve: (ends: SpoolPosition[]) => void;
  reject: (e: unknown) => void;
}

export class Spool {
  private writeSegment = 0;
  private writeFd = -1;
  private writeOffset = 0;
  private pending: Pending[] = [];
  /** Bytes appended but not yet fsynced (pending or being written). */
  private incomingBytes = 0;
  /** The running group-commit loop, if any (close() waits for it). */
  private flushing: Promise<void> | null = null;
  private cursor: SpoolPosition;
  private committed: SpoolPosition;
  /**
   * Every record not yet committed, oldest first (from `head`): backlog counts and the oldest age come
   * from here. A head index instead of shift(), which is O(n) on a long array.
   */
  private entries: Entry[] = [];
  private head = 0;
  private backlog = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  readonly segmentBytes: number;
  /** The reader state saved with the last checkpoint (null on a fresh spool). */
  readonly savedState: unknown;

  private constructor(private readonly options: SpoolOptions, checkpoint: Checkpoint | null) {
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    this.committed = checkpoint ? { segment: checkpoint.segment, offset: checkpoint.offset } : { segment: 0, offset: 0 };
    this.cursor = { ...this.committed };
    this.savedState = checkpoint?.state ?? null;
  }

  static open(options: SpoolOptions): Spool {
    mkdirSync(options.dir, { recursive: true });
    // Unreadable: start from the oldest segment (replays are idempotent).
    const checkpoint = readCheckpoint(options.dir, () => options.onCorrupt?.(0, "checkpoint.json"));
    const spool = new Spool(options, checkpoint);
    spool.recover();
    return spool;
  }

  /** Scans what is on disk after the checkpoint: rebuilds the backlog, cuts a torn tail off the last segment. */
  private recover(): void {
    const { dir, onCorrupt } = this.options;
    const segments = listSegments(dir);
    this.committed = backlogStart(this.committed, segments);
    this.cursor = { ...this.committed };
    const last = scanSegments(dir, segments, this.committed, (record) => {
      this.entries.push({ segment: record.segment, end: record.end, bytes: record.end - record.offset, appendedAt: record.appendedAt });
      this.backlog += record.end - record.offset;
    }, onCorrupt ? { onCorrupt } : {});
    if (last && last.segment === segments.at(-1) && last.validEnd < last.size) truncateSync(segmentPath(dir, last.segment), last.validEnd); // a torn write
    this.openSegment(Math.max(segments.at(-1) ?? this.committed.segment, this.committed.segment));
  }

  /** Opens the next segment first and only then lets go of the current one (a failed open changes nothing). */
  private openSegment(segment: number): void {
    const path = segmentPath(this.options.dir, segment);
    const fd = openSync(path, "a");
    const size = statSync(path).size;
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = fd;
    this.writeSegment = segment;
    this.writeOffset = size;
  }

  get backlogBytes(): number {
    return this.backlog;
  }
  get backlogRecords(): number {
    return this.entries.length - this.head;
  }
  get oldestAppendedAt(): number | null {
    return this.entries[this.head]?.appendedAt ?? null;
  }
  /** The backlog plus what is on its way to disk: a slow disk must not let appends run past the bound. */
  get full(): boolean {
    return this.backlog + this.incomingBytes >= this.options.maxBytes;
  }

  /** Appends records (one per body) durably; resolves with where each ends, after they are fsynced. */
  append(bodies: readonly Buffer[], now: number): Promise<SpoolPosition[]> {
    if (this.closed) return Promise.reject(new Error("spool closed"));
    const buffers = bodies.map((body) => encodeRecord(timedPayload(body, now)));
    for (const buffer of buffers) this.incomingBytes += buffer.length;
    return new Promise((resolve, reject) => {
      this.pending.push({ buffers, resolve, reject });
      // The first append of a quiet spool waits one turn of the event loop for its companions.
      this.flushing ??= new Promise<void>((started) => setImmediate(started)).then(() => this.flushLoop());
    });
  }

  /** Group commit: everything pending is written, then one fdatasync for all of it; again while more came. */
  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const ends = await this.writeBatch(batch);
        batch.forEach((item, i) => item.resolve(ends[i]!));
      } catch (error) {
        for (const item of batch) item.reject(error);
        this.dropUnsynced();
      }
      for (const item of batch) for (const buffer of item.buffers) this.incomingBytes -= buffer.length;
      for (const wake of this.waiters.splice(0)) wake();
    }
    this.flushing = null;
  }

  private async writeBatch(batch: readonly Pending[]): Promise<SpoolPosition[][]> {
    const ends: SpoolPosition[][] = batch.map(() => []);
    let run: Buffer[] = [];
    let runEntries: Entry[] = [];
    let offset = this.writeOffset;
    // Writes a run of records to the current segment, fsyncs it, and only then shows it to the reader.
    const settle = async () => {
      if (run.length === 0) return;
      const bytes = runEntries.reduce((sum, entry) => sum + entry.bytes, 0);
      const { bytesWritten: written } = await writevAsync(this.writeFd, run);
      if (written !== bytes) throw new Error(`spool: short write (${written} of ${bytes} bytes)`);
      await fdatasyncAsync(this.writeFd);
      for (const entry of runEntries) this.entries.push(entry);
      this.backlog += bytes;
      this.writeOffset = offset;
      run = [];
      runEntries = [];
    };
    for (const [i, item] of batch.entries()) {
      for (const buffer of item.buffers) {
        if (offset > 0 && offset + buffer.length > this.segmentBytes) {
          await settle();
          this.openSegment(this.writeSegment + 1);
          offset = this.writeOffset;
        }
        offset += buffer.length;
        run.push(buffer);
        runEntries.push({ segment: this.writeSegment, end: offset, bytes: buffer.length, appendedAt: buffer.readDoubleBE(HEADER_BYTES) });
        ends[i]!.push({ segment: this.writeSegment, offset });
      }
    }
    await settle();
    return ends;
  }

  /**
   * After a failed write or fsync, what follows the last fsynced record is cut off: the appends were
   * refused (the caller sends them again), so none of it may reach the reader. If even that fails, the
   * spool goes on after whatever is there; the reader skips a partial record as damaged (CRC).
   */
  private dropUnsynced(): void {
    try {
      ftruncateSync(this.writeFd, this.writeOffset);
    } catch {
      try {
        this.writeOffset = fstatSync(this.writeFd).size;
      } catch {
        // The fd itself is gone: the next write fails too, and is refused the same way.
      }
    }
  }

  /** Resolves when there is something to read (or at once if there is). */
  waitForData(): Promise<void> {
    if (this.hasData() || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private hasData(): boolean {
    return comparePositions(this.cursor, { segment: this.writeSegment, offset: this.writeOffset }) < 0;
  }

  /** Reads committed-to-disk records after the read cursor, up to about `maxBytes`; advances the cursor. */
  read(maxBytes: number): SpoolRecord[] {
    const records: SpoolRecord[] = [];
    let budget = maxBytes;
    while (budget > 0 && this.hasData()) {
      const { segment, offset } = this.cursor;
      const end = segment === this.writeSegment ? this.writeOffset : segmentSize(this.options.dir, segment);
      if (offset >= end) {
        this.cursor = { segment: this.nextSegment(segment), offset: 0 };
        continue;
      }
      const length = Math.min(end - offset, Math.max(budget, 1024 * 1024));
      let advanced = offset;
      for (const item of scanRecords(readSegmentBytes(this.options.dir, segment, offset, length), 0, offset)) {
        if (item.kind === "partial") break;
        if (item.kind === "corrupt") this.options.onCorrupt?.(item.end - item.offset, `${segmentName(segment)}@${item.offset}`);
        else {
          records.push({ ...readTimedPayload(item.payload), end: { segment, offset: item.end } });
          budget -= item.end - item.offset;
        }
        advanced = item.end;
      }
      if (advanced === offset) {
        // A record longer than what we read: read it whole next time round.
        if (length >= end - offset) break;
        budget = end - offset;
        continue;
      }
      this.cursor = { segment, offset: advanced };
    }
    return records;
  }

  private nextSegment(segment: number): number {
    return listSegments(this.options.dir).find((n) => n > segment) ?? this.writeSegment;
  }

  /** Rewinds the read cursor to the last commit (a failed drain reads the same records again). */
  rewind(): void {
    this.cursor = { ...this.committed };
  }

  /** Everything up to `end` is stored elsewhere: drop it from the backlog (on disk at the next checkpoint). */
  commit(end: SpoolPosition): void {
    if (comparePositions(end, this.committed) <= 0) return;
    this.committed = { ...end };
    while (this.head < this.entries.length) {
      const first = this.entries[this.head]!;
      if (comparePositions({ segment: first.segment, offset: first.end }, end) > 0) break;
      this.backlog -= first.bytes;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Writes the checkpoint (position + the reader's state) atomically, then deletes passed segments. */
  saveCheckpoint(state: unknown): void {
    writeCheckpoint(this.options.dir, { ...this.committed, state });
    for (const segment of listSegments(this.options.dir)) {
      if (segment < this.committed.segment && segment !== this.writeSegment) unlinkSync(segmentPath(this.options.dir, segment));
    }
  }

  /** True while appends are on their way to disk. */
  get appending(): boolean {
    return this.flushing !== null;
  }

  /** Resolves once every append made so far is on disk (or refused). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Refuses new appends, waits for the ones already taken to be on disk, closes the segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled();
    for (const wake of this.waiters.splice(0)) wake();
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
  }
}
