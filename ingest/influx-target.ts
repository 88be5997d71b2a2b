// The ingest's InfluxDB: the database (and its retention policies and rollups) created when InfluxDB first
// answers, and whether it is reachable now. The ingest never crashes for want of InfluxDB: the live stream
// works without it and readings wait in the spool, so the database is created in the background, retried
// with the one backoff policy (infra/backoff.ts), and created again if it is dropped behind our back.
import type { Campus } from "../domain/campus.js";
import { type BackoffPolicy, INFLUX_BACKOFF, backoffDelayMs } from "../infra/backoff.js";
import { type InfluxClient, InfluxWriteError, redactUrl } from "../infra/influx.js";
import type { Logger } from "../infra/logger.js";
import { finishesWithin, WakeableSleeps } from "../infra/timeout.js";
import { ensureRetention } from "./retention.js";

export interface InfluxTargetOptions {
  influx: InfluxClient;
  campus: Campus;
  /** The `raw` retention policy, days. */
  rawRetentionDays: number;
  retry?: BackoffPolicy;
  log: Logger;
  /** Every outcome of a contact with InfluxDB (for the `influx_reachable` gauge). */
  onReachable(reachable: boolean): void;
  /** A rollup backfill ensureRetention started in the background (the catch-up waits for it before marking days complete). */
  onBackfill?(done: Promise<void>): void;
}

/** How often InfluxDB's /ping is asked while nothing else tells us whether it answers, ms. */
const PING_INTERVAL_MS = 10_000;

/**
 * What a failed write says about InfluxDB, from its HTTP status (0 = no answer): a 400 came from a
 * running InfluxDB (bad data, the server is fine); a 404 means the database is gone (dropped behind our
 * back) and must be created again before the retry; anything else counts as unreachable.
 */
export function afterWriteFailure(status: number): { reachable: boolean; databaseGone: boolean } {
  return { reachable: status === 400, databaseGone: status === 404 };
}

export class InfluxTarget {
  private databaseReady = false;
  private reachableNow = false;
  private stopped = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly sleeps = new WakeableSleeps();

  constructor(private readonly options: InfluxTargetOptions) {}

  /** The outcome of the last contact with InfluxDB. */
  get reachable(): boolean {
    return this.reachableNow;
  }

  /**
   * Creates the database if InfluxDB answers within `waitMs`; otherwise goes on trying in the background
   * (until it succeeds or `stop()`), and returns. Starts the periodic ping.
   */
  async start(waitMs: number): Promise<void> {
    await finishesWithin(this.ensureLoop(), waitMs);
    this.pingTimer = setInterval(() => void this.options.influx.ping().then((ok) => this.setReachable(ok)), PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  /** One InfluxDB write of line protocol (the spool's drainer calls it); creates the database first if needed. */
  async write(lines: string): Promise<void> {
    const { influx } = this.options;
    try {
      if (!this.databaseReady) {
        await this.ensureDatabase().catch((error: Error) => {
          throw new InfluxWriteError(`cannot create the database: ${error.message}`, 0, true);
        });
      }
      await influx.write(lines);
      this.setReachable(true);
    } catch (error) {
      const verdict = afterWriteFailure(error instanceof InfluxWriteError ? error.status : 0);
      if (verdict.databaseGone) this.databaseReady = false;
      this.setReachable(verdict.reachable);
      throw error;
    }
  }

  /** Ends the background set-up and the ping. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.pingTimer);
    this.sleeps.wakeAll();
  }

  private async ensureLoop(): Promise<void> {
    const { influx, log, retry = INFLUX_BACKOFF } = this.options;
    for (let attempt = 0; !this.stopped && !this.databaseReady; attempt++) {
      try {
        await this.ensureDatabase();
      } catch (error) {
        this.setReachable(false);
        if (attempt === 0) log.warn({ err: error, url: redactUrl(influx.config.url) }, "InfluxDB not reachable; will keep retrying");
        await this.sleeps.sleep(backoffDelayMs(attempt, Math.random(), retry));
      }
    }
  }

  private async ensureDatabase(): Promise<void> {
    const { influx, rawRetentionDays, log, campus, onBackfill } = this.options;
    await influx.ensureDatabase();
    await ensureRetention(influx, rawRetentionDays, log, campus, onBackfill);
    this.databaseReady = true;
    this.setReachable(true);
  }

  private setReachable(value: boolean): void {
    this.reachableNow = value;
    this.options.onReachable(value);
  }
}
