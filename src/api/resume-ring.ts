// The last messages a live session sent, so that a client reconnecting within a short window can
// resume after the last `seq` it saw instead of taking a fresh snapshot. Bounded by count, bytes and
// age: a gap it cannot fill answers null (the caller then sends a snapshot). Pure: the clock is the caller's.

export interface RingLimits {
  maxMessages: number;
  /** Sum of the messages' lengths (UTF-16 units; a shared string is counted for every session). */
  maxBytes: number;
  maxAgeMs: number;
}

interface Entry {
  seq: number;
  frame: string;
  at: number;
}

export class ResumeRing {
  private entries: Entry[] = [];
  private start = 0;
  private bytes = 0;

  constructor(private readonly limits: RingLimits) {}

  get size(): number {
    return this.entries.length - this.start;
  }

  push(seq: number, frame: string, now: number): void {
    this.entries.push({ seq, frame, at: now });
    this.bytes += frame.length;
    while (this.size > 0) {
      const oldest = this.entries[this.start]!;
      const over = this.size > this.limits.maxMessages || this.bytes > this.limits.maxBytes || now - oldest.at > this.limits.maxAgeMs;
      if (!over) break;
      this.bytes -= oldest.frame.length;
      this.start++;
    }
    // Compact now and then instead of shifting on every eviction.
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  /**
   * The [seq, message] entries after `afterSeq`, oldest first, when the ring still holds every one of them (`lastSeq`
   * is the session's newest seq); null when some are gone or `afterSeq` is not a seq of this session.
   */
  replay(afterSeq: number, lastSeq: number): [number, string][] | null {
    if (!Number.isInteger(afterSeq) || afterSeq < 1 || afterSeq > lastSeq) return null;
    if (afterSeq === lastSeq) return [];
    const first = this.entries[this.start];
    if (first === undefined || first.seq > afterSeq + 1) return null;
    const out: [number, string][] = [];
    for (let i = this.start; i < this.entries.length; i++) if (this.entries[i]!.seq > afterSeq) out.push([this.entries[i]!.seq, this.entries[i]!.frame]);
    return out;
  }
}
