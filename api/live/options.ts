// Tuning of the live stream (docs/api.md "Live stream"): sizes in bytes, times in ms. Tests and
// benches pass their own through `startApi(ctx, { live })` / `buildApp({ live })`.

export interface LiveOptions {
  /** Close with 4401 when no valid token arrived within this time. */
  authTimeoutMs: number;
  /** Above this many buffered bytes, readings are coalesced instead of sent. */
  softLimitBytes: number;
  /** Above this, the client is terminated if it stays there for hardStuckMs. */
  hardLimitBytes: number;
  hardStuckMs: number;
  /** A client that stays above the soft limit this long has stopped reading: terminated. */
  softStuckMs: number;
  /** The live tick: held readings go out, batches are sent, a held outbox re-checks the socket's buffer. */
  flushIntervalMs: number;
  /** A socket's token is looked at again this often: an ended session or changed sites close it (CONTRACT §9). */
  recheckAccessMs: number;
  /** A ping every this often; a client that has not answered the previous one by the next is terminated (no_pong). */
  pingIntervalMs: number;
  /** Device events an outbox keeps at most while a client is slow (the oldest are dropped). */
  maxEvents: number;
  /** At most one reading per device per this interval reaches a client (latest wins); 0 = every reading. */
  coalesceMs: number;
  /** Smallest interval a client may ask for in `subscribe` (`interval_ms`). */
  minCoalesceMs: number;
  /** A closed session can be resumed this long; also the age limit of its resume ring. */
  resumeWindowMs: number;
  resumeMaxMessages: number;
  resumeMaxBytes: number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = {
  authTimeoutMs: 5_000,
  softLimitBytes: 256 * 1024,
  hardLimitBytes: 1024 * 1024,
  hardStuckMs: 5_000,
  softStuckMs: 60_000,
  flushIntervalMs: 25,
  // A client that stopped reading is found by its missing pong within 1–2 intervals: its bufferedAmount
  // alone reveals it only after the kernel's socket buffers are full (up to tcp_rmem + tcp_wmem: here
  // 32 + 4 MB, i.e. minutes at ~150 KB/s), so the byte limits below catch floods, the pong catches stalls.
  pingIntervalMs: 10_000,
  // As often as the API looks at the users file (infra/users-file.ts): an account narrowed or removed stops
  // seeing what it lost on the live stream as soon as on REST. A lookup is one SHA-256 and a map read.
  recheckAccessMs: 1_000,
  maxEvents: 100,
  coalesceMs: 1_000,
  minCoalesceMs: 100,
  resumeWindowMs: 30_000,
  resumeMaxMessages: 2_048,
  resumeMaxBytes: 512 * 1024,
};
