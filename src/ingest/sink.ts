// Where decoded points go. The ingest only knows `PointSink`; this first one batches in memory and
// writes to InfluxDB. The durable spool of a later issue is another PointSink (write-ahead to disk,
// replay on recovery) and replaces this one without touching the MQTT side.
import type { Point } from "../domain/line-protocol.js";
import { Batcher, type BatchOptions, DEFAULT_BATCH } from "./batcher.js";
import { type BatchOutcome, type RetryPolicy, type WriterDeps, writeBatch } from "./writer.js";

export interface PointSink {
  /** Queues points; `now` (epoch ms) starts their batch's wait clock. Never throws, never blocks. */
  push(points: readonly Point[], now: number): void;
  /** Resolves once every point pushed so far is stored, dead-lettered or dropped. */
  flush(): Promise<void>;
  /** Flushes until `deadline` (epoch ms), then gives up on what is left (counted as dropped). */
  close(deadline: number): Promise<void>;
  readonly bufferedPoints: number;
}

export interface InfluxSinkOptions {
  write: WriterDeps["write"];
  batch?: BatchOptions;
  retry?: RetryPolicy;
  /**
   * Memory bound while InfluxDB is away: beyond it the oldest waiting batches are dropped (and counted).
   * 200,000 points ≈ 8 min of a 1,000-device campus reporting 4 points every 10 s; the spool lifts this.
   */
  maxBufferedPoints?: number;
  now?: () => number;
  random?: () => number;
  onAttempt?: WriterDeps["onAttempt"];
  onRetry?: WriterDeps["onRetry"];
  onStored?: WriterDeps["onStored"];
  onDeadLetter?: WriterDeps["onDeadLetter"];
  onBatch?(points: number): void;
  onDropped?(count: number, reason: "buffer-full" | "shutdown"): void;
}

export class InfluxSink implements PointSink {
  private readonly batcher: Batcher;
  private readonly queue: Point[][] = [];
  private queuedPoints = 0;
  private inFlightPoints = 0;
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private deadline = Number.POSITIVE_INFINITY;
  private readonly now: () => number;
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: InfluxSinkOptions) {
    this.batcher = new Batcher(options.batch ?? DEFAULT_BATCH);
    this.now = options.now ?? Date.now;
  }

  get bufferedPoints(): number {
    return this.batcher.size + this.queuedPoints + this.inFlightPoints;
  }

  push(points: readonly Point[], now: number): void {
    if (points.length === 0) return;
    this.enqueue(this.batcher.add(points, now));
    this.schedule();
  }

  async flush(): Promise<void> {
    this.enqueue(this.batcher.takeAll());
    while (this.writing || this.queue.length > 0) {
      this.pump();
      await this.writing;
    }
  }

  async close(deadline: number): Promise<void> {
    this.deadline = deadline;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.wake(); // a retry sleeping for up to 30 s re-checks at once, and from now sleeps no later than the deadline
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, Math.max(0, deadline - this.now()));
    });
    // A write hanging on a dead socket must not hold the shutdown past its deadline.
    await Promise.race([this.flush(), expired]);
    clearTimeout(timeout);
    this.closed = true;
    this.wake();
    const left = this.bufferedPoints;
    if (left > 0) this.options.onDropped?.(left, "shutdown");
    this.queue.length = 0;
    this.queuedPoints = 0;
    this.inFlightPoints = 0; // a write still running past the deadline gives up on its own, uncounted
    this.batcher.takeAll();
  }

  private enqueue(batches: Point[][]): void {
    for (const batch of batches) {
      this.queue.push(batch);
      this.queuedPoints += batch.length;
      this.options.onBatch?.(batch.length);
    }
    const limit = this.options.maxBufferedPoints ?? 200_000;
    while (this.queue.length > 0 && this.bufferedPoints > limit) {
      const oldest = this.queue.shift()!;
      this.queuedPoints -= oldest.length;
      this.options.onDropped?.(oldest.length, "buffer-full");
    }
    this.pump();
  }

  private schedule(): void {
    const due = this.batcher.dueAt();
    if (due === null || this.timer || this.deadline !== Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.enqueue(this.batcher.takeDue(this.now()));
        this.schedule();
      },
      Math.max(0, due - this.now()),
    );
    this.timer.unref();
  }

  private pump(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.queuedPoints -= batch.length;
      this.inFlightPoints = batch.length;
      let outcome: BatchOutcome;
      try {
        outcome = await writeBatch(batch, this.writerDeps());
      } finally {
        this.inFlightPoints = 0;
      }
      // After close() the points still in flight were already counted as dropped there.
      if (outcome.dropped > 0 && !this.closed) this.options.onDropped?.(outcome.dropped, "shutdown");
    }
  }

  private writerDeps(): WriterDeps {
    const deps: WriterDeps = {
      write: this.options.write,
      random: this.options.random ?? Math.random,
      givingUp: () => this.now() >= this.deadline,
      sleep: (ms) => this.sleep(ms),
    };
    if (this.options.retry) deps.retry = this.options.retry;
    if (this.options.onAttempt) deps.onAttempt = this.options.onAttempt;
    if (this.options.onRetry) deps.onRetry = this.options.onRetry;
    if (this.options.onStored) deps.onStored = this.options.onStored;
    if (this.options.onDeadLetter) deps.onDeadLetter = this.options.onDeadLetter;
    return deps;
  }

  /** A backoff sleep that a shutdown cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = Math.min(ms, Math.max(0, this.deadline - this.now()));
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.sleepers.add(done);
    });
  }

  private wake(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}
