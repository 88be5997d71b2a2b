// Lets a log line through at most once per key per window, and says how many were held back meanwhile,
// so a misbehaving device cannot flood the log (CONTRACT §3: refusals "logged once per device per
// minute"). Used by the ingest (refusals per device) and the broker (refused connections, publishes,
// subscriptions). Time is passed in; no clock here.
export interface RateDecision {
  log: boolean;
  /** Events held back under this key since the last one logged (reported with the next logged one). */
  suppressed: number;
}

export class RateLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    readonly windowMs = 60_000,
    /** Bound on remembered keys, so a stream of unknown device ids cannot grow memory without end. */
    readonly maxKeys = 10_000,
  ) {}

  check(key: string, now: number): RateDecision {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.suppressed += 1;
      return { log: false, suppressed: entry.suppressed };
    }
    const suppressed = entry?.suppressed ?? 0;
    if (!entry && this.last.size >= this.maxKeys) this.prune(now);
    this.last.set(key, { at: now, suppressed: 0 });
    return { log: true, suppressed };
  }

  private prune(now: number): void {
    for (const [key, entry] of this.last) {
      if (now - entry.at >= this.windowMs) this.last.delete(key);
    }
    // Still full: every key is recent; forget the oldest (Map keeps insertion order).
    while (this.last.size >= this.maxKeys) this.last.delete(this.last.keys().next().value as string);
  }
}
