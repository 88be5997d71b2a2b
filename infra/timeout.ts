// Bounding a wait without cancelling the work: stops, flushes and closes that must not hold a shutdown.

/**
 * Resolves true once `work` resolves, false if `ms` pass first (the work goes on unwatched); rejects
 * if the work rejects in time.
 */
export async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
