// The one bounded wait of the product: stops, flushes, closes and probes that must not hold anything up.
// The work is never cancelled, only no longer waited for.

/**
 * Resolves with `work`'s value, or with `fallback` if `ms` pass first (the work goes on unwatched);
 * rejects if the work rejects in time.
 */
export async function resultWithin<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), Math.max(0, ms))));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true once `work` resolves, false if `ms` pass first; rejects if the work rejects in time. */
export function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return resultWithin(work.then(() => true), ms, false);
}

/** Sleeps that `wakeAll()` ends at once: a stop must not wait out a batching wait or a retry's backoff. */
export class WakeableSleeps {
  private readonly sleepers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}
