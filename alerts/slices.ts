// Work done in order, a slice per turn of the event loop. An alert storm (20,000 devices of a district falling
// silent at once: 20,000 alerts opened by one watchdog tick) is 20,000 publications, points, notifications and
// log lines; done in one go it held the event loop for seconds on a loaded machine, the lease's renewal with
// it, and the active alerts service lost its lease in the middle (docs/benchmarks.md, run D9). A small batch
// (at most a slice, nothing queued before it) is still done at once, as before.
export interface Slicer<T> {
  /** Queues `items` behind whatever is queued; the first slice is done now when nothing was waiting. */
  run(items: readonly T[]): void;
  /** Items queued and not done yet. */
  waiting(): number;
  /** Does every item still queued now, in one go (a stop: what was decided goes out before the connection closes). */
  finish(): void;
}

/** Does `each` for every item in order, at most `size` a turn (setImmediate between slices); a throw is `failed`'s. */
export function createSlicer<T>(each: (item: T) => void, failed: (error: unknown) => void, size = 500): Slicer<T> {
  let queue: T[] = [];
  let head = 0;
  let scheduled = false;
  const drain = (all = false) => {
    scheduled = false;
    const end = all ? queue.length : Math.min(queue.length, head + size);
    for (; head < end; head++) {
      try {
        each(queue[head]!);
      } catch (error) {
        failed(error);
      }
    }
    if (head < queue.length) {
      scheduled = true;
      setImmediate(() => scheduled && drain());
    } else {
      queue = [];
      head = 0;
    }
  };
  return {
    run(items) {
      if (items.length === 0) return;
      const idle = queue.length === 0;
      for (const item of items) queue.push(item);
      if (idle && !scheduled) drain();
    },
    waiting: () => queue.length - head,
    finish: () => drain(true),
  };
}
