// The one retry policy of the product: every loop that waits for something to come back (InfluxDB, the
// broker for a simulated device, a webhook receiver) spaces its attempts with it.
// Exponential backoff with "equal jitter": half the capped exponential fixed, half random (AWS
// Architecture Blog, "Exponential Backoff And Jitter", 2015), so clients that lost a server together do
// not come back in lock-step (mqtt.js alone retries at one fixed period: reference/libraries.md §2), and a
// delay is never 0. Pure: the random number is passed in.

export interface BackoffPolicy {
  /** Ceiling of the first delay, ms. */
  baseMs: number;
  /** Ceiling of any delay, ms. */
  capMs: number;
}

/** InfluxDB writes and database set-up: a restarting influxd (~1–3 s) is caught quickly, a long outage costs one request per 15–30 s. */
export const INFLUX_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/**
 * Delay before retry number `retry` (0 = the first retry after the first failure), ms: between half and
 * all of min(capMs, baseMs × 2^retry). `random` is in [0, 1).
 */
export function backoffDelayMs(retry: number, random: number, policy: BackoffPolicy): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(0, retry), 30));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}
