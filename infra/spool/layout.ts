// The spool's folder on disk (./spool.ts writes it, ./disk-scan.ts reads it):
//   seg-<n>.log       segments of checksummed records (./record.ts), n zero-padded to 12 digits
//   checkpoint.json   {segment, offset, state}: how far the reader has committed, plus the reader's own
//                     state; written to a temporary file, fsynced and renamed (atomic on POSIX)
import { closeSync, existsSync, fdatasyncSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SpoolPosition {
  segment: number;
  offset: number;
}

export interface Checkpoint extends SpoolPosition {
  /** The reader's state saved with the position (the ingest's energy counters; null for the broker journal). */
  state?: unknown;
}

const CHECKPOINT_FILE = "checkpoint.json";

export const segmentName = (segment: number) => `seg-${String(segment).padStart(12, "0")}.log`;
export const segmentPath = (dir: string, segment: number) => join(dir, segmentName(segment));
export const comparePositions = (a: SpoolPosition, b: SpoolPosition) => a.segment - b.segment || a.offset - b.offset;

/** The segment numbers in the folder, oldest first. */
export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => /^seg-(\d+)\.log$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Where the uncommitted records start: the checkpoint's position, or the oldest segment's start when the
 * checkpoint is missing, unreadable or older than every segment left.
 */
export function backlogStart(checkpoint: SpoolPosition | null, segments: readonly number[]): SpoolPosition {
  const oldest = segments[0];
  // No segment at all: nothing to read; appends start a segment of the checkpoint's number at offset 0.
  if (oldest === undefined) return { segment: Math.max(checkpoint?.segment ?? 0, 0), offset: 0 };
  if (!checkpoint || checkpoint.segment < oldest) return { segment: oldest, offset: 0 };
  return { segment: checkpoint.segment, offset: checkpoint.offset };
}

/** A segment's size in bytes (0 once deleted). */
export function segmentSize(dir: string, segment: number): number {
  try {
    return statSync(segmentPath(dir, segment)).size;
  } catch {
    return 0;
  }
}

/** Up to `length` bytes of a segment from `offset` (fewer at its end). */
export function readSegmentBytes(dir: string, segment: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const fd = openSync(segmentPath(dir, segment), "r");
  try {
    return buf.subarray(0, readSync(fd, buf, 0, length, offset));
  } finally {
    closeSync(fd);
  }
}

/** The saved checkpoint; null when there is none, or when it cannot be read (then `onUnreadable` is told). */
export function readCheckpoint(dir: string, onUnreadable: () => void = () => undefined): Checkpoint | null {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Checkpoint;
  } catch {
    onUnreadable();
    return null;
  }
}

/** Writes the checkpoint atomically: a temporary file, fdatasync, rename. */
export function writeCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const file = join(dir, CHECKPOINT_FILE);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(checkpoint));
  const fd = openSync(tmp, "r+");
  fdatasyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}
