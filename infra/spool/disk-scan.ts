// Reading a spool's records straight from its folder (./layout.ts): the spool's own recovery at start,
// and anyone who wants to know what a spool holds without opening it — a bench measuring the backlog of
// a running ingest, a test looking into a killed one's. Never writes: safe beside a live spool, whose
// record being written shows up here as a partial tail and is left out.
import { readFileSync } from "node:fs";
import { type SpoolPosition, backlogStart, listSegments, readCheckpoint, segmentName, segmentPath } from "./layout.js";
import { readTimedPayload, scanRecords } from "./record.js";

export interface DiskRecord {
  segment: number;
  /** Where the record starts and ends in its segment, bytes. */
  offset: number;
  end: number;
  /** When it was appended, epoch ms. */
  appendedAt: number;
  body: Buffer;
}

export interface ScanOptions {
  /** Bytes that are not a valid record (damaged, or a torn tail), and where. */
  onCorrupt?(bytes: number, where: string): void;
}

/** Where the whole records of the last segment scanned end, and its size: more bytes than that are a torn tail. */
export interface LastSegment {
  segment: number;
  validEnd: number;
  size: number;
}

/**
 * Visits every whole record of `segments` from position `from` on, oldest first; damaged records are
 * skipped (and reported). Each segment is read whole (≤ its rotation size, 16 MiB by default) and let go.
 */
export function scanSegments(dir: string, segments: readonly number[], from: SpoolPosition, visit: (record: DiskRecord) => void, options: ScanOptions = {}): LastSegment | null {
  let last: LastSegment | null = null;
  for (const segment of segments) {
    if (segment < from.segment) continue;
    const data = readFileSync(segmentPath(dir, segment));
    const start = segment === from.segment ? Math.min(from.offset, data.length) : 0;
    let validEnd = start;
    for (const item of scanRecords(data, start)) {
      if (item.kind === "record") {
        visit({ segment, offset: item.offset, end: item.end, ...readTimedPayload(item.payload) });
        validEnd = item.end;
      } else if (item.kind === "corrupt") {
        options.onCorrupt?.(item.end - item.offset, `${segmentName(segment)}@${item.offset}`);
        validEnd = item.end;
      } else {
        options.onCorrupt?.(data.length - item.offset, `${segmentName(segment)}@${item.offset} (torn tail)`);
      }
    }
    last = { segment, validEnd, size: data.length };
  }
  return last;
}

/** The records a spool folder holds after its checkpoint (not yet committed by its reader), oldest first. */
export function visitBacklog(dir: string, visit: (record: DiskRecord) => void): void {
  const segments = listSegments(dir);
  scanSegments(dir, segments, backlogStart(readCheckpoint(dir), segments), visit);
}
