// The one wait of the test suite: poll a condition until it holds or a deadline passes.
// A negative check ("nothing else arrived") does not sleep a fixed time: it sends a marker after the
// thing that must not arrive, waits for the marker with this, then looks at what came before it.

export interface WaitOptions {
  /** How often to look, ms (default 100). */
  intervalMs?: number;
  /** When set, a timeout throws `${what}: not within N ms` instead of returning the last falsy value. */
  what?: string;
}

/**
 * Polls until `check` returns a truthy value or `timeoutMs` passes; returns the last value (falsy on a
 * timeout, unless `what` asks for a throw).
 */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000, options: WaitOptions | number = {}): Promise<T> {
  const { intervalMs = 100, what } = typeof options === "number" ? { intervalMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let last: T = await check();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await check();
  }
  if (!last && what !== undefined) throw new Error(`${what}: not within ${timeoutMs} ms`);
  return last;
}
