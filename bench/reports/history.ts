// bench:reports's data: the campus's past written as `up --demo --history` writes it (cli/up.ts
// startDemoHistory): the simulator's history (simulator/history.ts, one reading per device per 5 min from the
// live model and seed, the calendar's weekends and holidays quiet) stored by simulator/history-writer.ts as
// the ingest's own points and energy deltas, through the one batch writer, with each day's rollups filled by
// the ingest's own SELECT … INTO (the continuous queries never look that far back). The retention policies and
// continuous queries are the ingest's (ingest/retention.ts ensureRetention), made first as the ingest makes
// them at start.
import type { Campus } from "../../domain/campus.js";
import { observeCounter } from "../../ingest/energy.js";
import { readingToPoints } from "../../ingest/points.js";
import { ensureRetention, rollupSelects } from "../../ingest/retention.js";
import type { InfluxClient } from "../../infra/influx.js";
import type { Logger } from "../../infra/logger.js";
import { startHistoryWriter } from "../../simulator/history-writer.js";

/** The demo's seed (cli/up.ts default): the same devices, loads and counters as a demo of this campus. */
const SEED = 1;
/** The raw retention the ingest would be given (RAW_RETENTION_DAYS default), days. */
const RAW_RETENTION_DAYS = 90;

/** Writes `days` of the campus's past ending at `toMs`; resolves with the points written. */
export async function writePast(campus: Campus, influx: InfluxClient, days: number, toMs: number, log: Logger, say: (line: string) => void): Promise<number> {
  await influx.ensureDatabase();
  if (!(await ensureRetention(influx, RAW_RETENTION_DAYS, log, campus))) throw new Error("InfluxDB refused the rollups' retention policies (not InfluxDB 1.x?)");
  const writer = startHistoryWriter({
    campus,
    seed: SEED,
    spanMs: days * 86_400_000,
    toMs,
    influx,
    log,
    readingToPoints,
    observeCounter,
    rollupSelects: (where) => rollupSelects(influx.config.db, where, campus),
    say,
  });
  return writer.done;
}
