// A pure batcher: points collect until `maxPoints` (flush by size) or until the oldest has waited
// `maxWaitMs` (flush by time). Time is passed in and the caller owns the timer, so it needs no clock
// and no I/O. Defaults follow shared/reference/libraries.md §3.1: influxd 1.6 took 5,000-point batches
// in ~50 ms, and readings should reach the database within about a second (anchors.md §1.1).
import type { Point } from "../domain/line-protocol.js";

export interface BatchOptions {
  maxPoints: number;
  maxWaitMs: number;
}

export const DEFAULT_BATCH: BatchOptions = { maxPoints: 5_000, maxWaitMs: 1_000 };

export class Batcher {
  // A mutable array owned here: copying on every add would make a 5,000-point batch cost O(n²).
  private pending: Point[] = [];
  /** When the oldest pending point arrived, epoch ms; null when empty. */
  private since: number | null = null;

  constructor(readonly options: BatchOptions = DEFAULT_BATCH) {
    if (options.maxPoints < 1) throw new RangeError("maxPoints must be at least 1");
  }

  get size(): number {
    return this.pending.length;
  }

  /** Adds points; returns the batches ready now (full ones, and the rest if it is due), oldest first. */
  add(points: readonly Point[], now: number): Point[][] {
    const ready: Point[][] = [];
    for (const point of points) {
      if (this.since === null) this.since = now;
      this.pending.push(point);
      if (this.pending.length >= this.options.maxPoints) ready.push(this.takeAllPending());
    }
    return [...ready, ...this.takeDue(now)];
  }

  /** The pending points as one batch if the oldest has waited `maxWaitMs`, else nothing. */
  takeDue(now: number): Point[][] {
    if (this.since !== null && now - this.since >= this.options.maxWaitMs) return [this.takeAllPending()];
    return [];
  }

  /** Whatever is pending (flush on demand, shutdown). */
  takeAll(): Point[][] {
    return this.pending.length > 0 ? [this.takeAllPending()] : [];
  }

  /** When the pending points fall due, epoch ms; null when nothing is pending. */
  dueAt(): number | null {
    return this.since === null ? null : this.since + this.options.maxWaitMs;
  }

  private takeAllPending(): Point[] {
    const batch = this.pending;
    this.pending = [];
    this.since = null;
    return batch;
  }
}
