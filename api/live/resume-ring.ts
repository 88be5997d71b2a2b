// The last messages a live session sent, so that a client reconnecting within a short window can
// resume after the last `seq` it saw instead of taking a fresh snapshot. Bounded by count, bytes and
// age: a gap it cannot fill answers null (the caller then sends a snapshot). Pure: the clock is the caller's.
// A fixed circular buffer (seq and time in typed arrays, the message in a preallocated slot): a push
// allocates nothing. At 1,000 messages/s per session an entry object per push lived ~2 s — long enough to
// be promoted to V8's old space and die there, which is what grew the bench's heap to hundreds of MB.

export interface RingLimits {
  maxMessages: number;
  /** Sum of the messages' lengths (UTF-16 units; a shared string is counted for every session). */
  maxBytes: number;
  maxAgeMs: number;
}

export class ResumeRing {
  private readonly seqs: Float64Array;
  private readonly times: Float64Array;
  private readonly frames: (string | undefined)[];
  /** Slot of the oldest entry, and how many are held. */
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(private readonly limits: RingLimits) {
    const capacity = Math.max(1, limits.maxMessages);
    this.seqs = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.frames = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  push(seq: number, frame: string, now: number): void {
    const capacity = this.seqs.length;
    if (this.count === capacity) this.evictOldest();
    const slot = (this.head + this.count) % capacity;
    this.seqs[slot] = seq;
    this.times[slot] = now;
    this.frames[slot] = frame;
    this.count++;
    this.bytes += frame.length;
    while (this.count > 0 && (this.bytes > this.limits.maxBytes || now - this.times[this.head]! > this.limits.maxAgeMs)) this.evictOldest();
  }

  private evictOldest(): void {
    this.bytes -= this.frames[this.head]!.length;
    this.frames[this.head] = undefined;
    this.head = (this.head + 1) % this.seqs.length;
    this.count--;
  }

  /**
   * The [seq, message] entries after `afterSeq`, oldest first, when the ring still holds every one of them (`lastSeq`
   * is the session's newest seq); null when some are gone or `afterSeq` is not a seq of this session.
   */
  replay(afterSeq: number, lastSeq: number): [number, string][] | null {
    if (!Number.isInteger(afterSeq) || afterSeq < 1 || afterSeq > lastSeq) return null;
    if (afterSeq === lastSeq) return [];
    if (this.count === 0 || this.seqs[this.head]! > afterSeq + 1) return null;
    const out: [number, string][] = [];
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.seqs.length;
      if (this.seqs[slot]! > afterSeq) out.push([this.seqs[slot]!, this.frames[slot]!]);
    }
    return out;
  }
}
