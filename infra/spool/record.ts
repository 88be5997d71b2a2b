// The spool's on-disk record: a 12-byte header (magic, payload length, CRC-32 of the payload, all
// big-endian u32) then the payload. The magic lets a reader find the next record after a damaged one;
// the CRC tells a torn or corrupted record from a good one, so garbage is skipped, never replayed.
// Pure: encodes and scans buffers, no I/O.
import { crc32 } from "node:zlib";

export const RECORD_MAGIC = 0x43505331; // "CPS1"
export const HEADER_BYTES = 12;
/** A record larger than this is not one of ours: its header is damaged. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export function encodeRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32BE(RECORD_MAGIC, 0);
  out.writeUInt32BE(payload.length, 4);
  out.writeUInt32BE(crc32(payload), 8);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** A spool record's payload: the append time (float64 epoch ms, big-endian), then the body. */
export function timedPayload(body: Buffer, appendedAt: number): Buffer {
  const payload = Buffer.allocUnsafe(8 + body.length);
  payload.writeDoubleBE(appendedAt, 0);
  body.copy(payload, 8);
  return payload;
}

export function readTimedPayload(payload: Buffer): { appendedAt: number; body: Buffer } {
  return { appendedAt: payload.readDoubleBE(0), body: payload.subarray(8) };
}

export type ScanItem =
  | { kind: "record"; offset: number; end: number; payload: Buffer }
  /** Bytes that are not a valid record, skipped up to the next magic that starts a valid record. */
  | { kind: "corrupt"; offset: number; end: number }
  /** An incomplete record at the end of the buffer: more bytes may follow (or it is a torn write). */
  | { kind: "partial"; offset: number };

/** Scans `buf` from `start`; `base` is the file offset of buf[0]. Stops at the first partial record. */
export function scanRecords(buf: Buffer, start = 0, base = 0): ScanItem[] {
  const items: ScanItem[] = [];
  let at = start;
  while (at < buf.length) {
    const item = recordAt(buf, at);
    if (item === "partial") {
      items.push({ kind: "partial", offset: base + at });
      break;
    }
    if (item !== null) {
      items.push({ kind: "record", offset: base + at, end: base + item.end, payload: item.payload });
      at = item.end;
      continue;
    }
    // Damaged: resynchronise on the next magic that starts a complete, valid record (or a partial one at the end).
    let next = at + 1;
    for (; next < buf.length; next++) {
      if (buf.length - next >= 4 && buf.readUInt32BE(next) !== RECORD_MAGIC) continue;
      if (recordAt(buf, next) !== null) break;
    }
    items.push({ kind: "corrupt", offset: base + at, end: base + next });
    at = next;
  }
  return items;
}

function recordAt(buf: Buffer, at: number): { end: number; payload: Buffer } | "partial" | null {
  if (buf.length - at < HEADER_BYTES) {
    // A short tail is partial only if what there is could be the start of a header.
    const magic = Buffer.alloc(4);
    magic.writeUInt32BE(RECORD_MAGIC);
    return magic.subarray(0, Math.min(4, buf.length - at)).equals(buf.subarray(at, Math.min(at + 4, buf.length))) ? "partial" : null;
  }
  if (buf.readUInt32BE(at) !== RECORD_MAGIC) return null;
  const length = buf.readUInt32BE(at + 4);
  if (length > MAX_RECORD_BYTES) return null;
  const end = at + HEADER_BYTES + length;
  if (end > buf.length) return "partial";
  const payload = buf.subarray(at + HEADER_BYTES, end);
  if (crc32(payload) !== buf.readUInt32BE(at + 8)) return null;
  return { end, payload };
}
