// Per-device rate limit of the live stream (anchors §1.4/§4.5: coalesce instead of "Too many updates!"):
// at most one update per key per interval, the latest value wins. Leading edge: an update of a key
// that has not been emitted for `intervalMs` goes out at once; otherwise the newest one is held. A
// held update goes out `graceMs` after its interval has passed unless a newer one arrives first (which
// then goes out at once): a device reporting faster than the interval is shown with its freshest
// value, not one already up to a report period old; a device that went quiet still shows its last
// value, at most interval + grace late. Pure: the clock is the caller's.

export class Coalescer<T> {
  private readonly lastEmittedAt = new Map<string, number>();
  private readonly held = new Map<string, T>();
  /** Items replaced by a newer one before they went out. */
  replaced = 0;

  constructor(
    readonly intervalMs: number,
    readonly graceMs = 0,
  ) {}

  get heldCount(): number {
    return this.held.size;
  }

  /** The item if it may go out now, else null (it is held, replacing any older held item of its key). */
  offer(key: string, item: T, now: number): T | null {
    const last = this.lastEmittedAt.get(key);
    if (last === undefined || now - last >= this.intervalMs) {
      if (this.held.delete(key)) this.replaced++;
      this.lastEmittedAt.set(key, now);
      return item;
    }
    if (this.held.has(key)) this.replaced++;
    this.held.set(key, item);
    return null;
  }

  /** Held items whose interval has passed at `now`, in the order their keys were first held. */
  due(now: number): T[] {
    if (this.held.size === 0) return [];
    const out: T[] = [];
    for (const [key, item] of this.held) {
      if (now - this.lastEmittedAt.get(key)! < this.intervalMs + this.graceMs) continue;
      this.held.delete(key);
      this.lastEmittedAt.set(key, now);
      out.push(item);
    }
    return out;
  }
}

/** The grace of an interval: a quarter of it, at most 250 ms. */
export const graceFor = (intervalMs: number) => Math.min(250, Math.floor(intervalMs / 4));

/** A client's requested interval, rounded to 100 ms and clamped, so few distinct coalescers exist. */
export function normaliseInterval(requestedMs: unknown, fallbackMs: number, minMs: number, maxMs = 60_000): number {
  if (typeof requestedMs !== "number" || !Number.isFinite(requestedMs)) return fallbackMs;
  return Math.min(maxMs, Math.max(minMs, Math.round(requestedMs / 100) * 100));
}
