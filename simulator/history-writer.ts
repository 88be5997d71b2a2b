// Writes the demo's past (./history.ts) into InfluxDB in the background, as the ingest would have stored
// it: the ingest's own points (ingest/points.ts readingToPoints) with the ingest's own energy deltas
// (ingest/energy.ts observeCounter), through the one batch writer (infra/influx-batch.ts), then the
// rollups' own SELECT … INTO (ingest/retention.ts rollupSelects) over each day written, since the
// continuous queries only re-read the last minutes and hours. Services never import each other, so the
// CLI hands the ingest's functions in.
// The live view never waits for it: it starts after the services serve, writes one batch at a time, and
// yields to the event loop between batches. Instants that already hold readings of the site (an earlier
// run's history or live data) are left as they are, so a restarted demo fills only the gaps and no
// kilowatt-hour is counted twice.
import type { Campus, Device } from "../domain/campus.js";
import type { Point } from "../domain/line-protocol.js";
import type { Reading } from "../domain/reading.js";
import { backoffDelayMs, INFLUX_BACKOFF } from "../infra/backoff.js";
import { type InfluxClient, quoteIdentifier } from "../infra/influx.js";
import { writeBatch } from "../infra/influx-batch.js";
import type { Logger } from "../infra/logger.js";
import type { RunningService } from "../infra/service.js";
import { finishesWithin, WakeableSleeps } from "../infra/timeout.js";
import { DAY_MS, HISTORY_STEP_MS, type HistoryStep, historyOfSite } from "./history.js";

export interface HistoryWriterOptions {
  campus: Campus;
  seed: number;
  /** How far back, ms; the past ends at `toMs` (when the live simulator started). */
  spanMs: number;
  toMs: number;
  influx: InfluxClient;
  log: Logger;
  /** The ingest's point building (ingest/points.ts readingToPoints). */
  readingToPoints(reading: Reading, device: Device): Point[];
  /** The ingest's counter rule (ingest/energy.ts observeCounter): the deltas a counter reading yields. */
  observeCounter(state: Record<string, unknown[]>, key: string, ts: number, kwh: number): readonly { ts: number; delta: number }[];
  /** The ingest's rollups over a time range, in the order they must run (ingest/retention.ts rollupSelects). */
  rollupSelects(where: string): readonly { name: string; select: string }[];
  /** A line people can read, for each day written and at the end. */
  say(line: string): void;
}

export interface RunningHistory extends RunningService {
  /** Resolves when the past is written (or the writer was stopped): points written. */
  done: Promise<number>;
}

/**
 * Points per InfluxDB request: large enough to be cheap for InfluxDB, small enough that making one
 * (~30 µs a point) holds the event loop, and with it the live view, for well under 100 ms.
 */
const BATCH_POINTS = 2_500;
/** InfluxDB requests at once: two keep both of its cores busy (measured: 2,500-point batches, ~40 % faster than one). */
const WRITES_IN_FLIGHT = 2;
const HOUR_MS = 3_600_000;
const RAW_RP = "raw";
const ROLLUP_RPS = ["rollup_1m", "rollup_1h"];

export function startHistoryWriter(options: HistoryWriterOptions): RunningHistory {
  const sleeps = new WakeableSleeps();
  let stopping = false;
  const done = writeHistory(options, sleeps, () => stopping).catch((error: unknown) => {
    options.log.warn({ err: error }, "the demo's history could not be written");
    options.say(`history: not written (${(error as Error).message})`);
    return 0;
  });
  return {
    done,
    async stop() {
      stopping = true;
      sleeps.wakeAll();
      // A rollup or write in flight is not waited out: InfluxDB finishes it, and a rerun rewrites it alike.
      await finishesWithin(done, 1_000);
    },
  };
}

async function writeHistory(options: HistoryWriterOptions, sleeps: WakeableSleeps, givingUp: () => boolean): Promise<number> {
  const { campus, influx, log, say, spanMs, toMs } = options;
  const fromMs = toMs - spanMs;
  const started = performance.now();
  const elapsedS = () => ((performance.now() - started) / 1000).toFixed(1);
  await untilRetentionPolicies(influx, sleeps, givingUp, () => say("history: waiting for the ingest's retention policies in InfluxDB (rollups need InfluxDB 1.x)"));
  const filled = await filledInstants(influx, campus, fromMs, toMs);
  const days = Math.ceil(spanMs / DAY_MS);
  say(`history: writing ${days} days of the past for ${campus.devices.length} devices in the background (the live view is already up)`);
  const sites: SitePast[] = campus.sites.map((site) => ({ site: site.site.id, steps: historyOfSite(site, { seed: options.seed, fromMs, toMs }), next: undefined }));
  const counters: Record<string, unknown[]> = {};
  // Several things at once, so both cores work: the next batch is made while InfluxDB stores the last ones,
  // and a day's rollups run while the next day's raw points are written (a day's rollups wait for its points).
  let written = 0;
  const storing: Promise<number>[] = [];
  let rollups: Promise<void> = Promise.resolve();
  let rollupFailure: unknown;
  const store = async (points: readonly Point[]) => {
    if (storing.length >= WRITES_IN_FLIGHT) written += await storing.shift()!;
    storing.push(write(points, influx, sleeps, givingUp));
  };
  for (let day = 0; day < days && !givingUp() && rollupFailure === undefined; day++) {
    const dayStart = fromMs + day * DAY_MS;
    const dayEnd = Math.min(dayStart + DAY_MS, toMs);
    let points: Point[] = [];
    for (const past of sites) {
      for (let step = await nextBefore(past, dayEnd); step; step = await nextBefore(past, dayEnd)) {
        if (filled.has(`${past.site}@${step.ts}`)) {
          // Readings are there already: the next past reading must not claim the energy in between.
          for (const { device } of step.readings) delete counters[device.id];
          continue;
        }
        points.push(...pointsOf(step, options, counters));
        if (points.length >= BATCH_POINTS) {
          await store(points);
          points = [];
        }
      }
    }
    await store(points);
    while (storing.length > 0) written += await storing.shift()!;
    const hours = `time >= ${Math.floor(dayStart / HOUR_MS) * HOUR_MS}ms AND time < ${Math.ceil(dayEnd / HOUR_MS) * HOUR_MS}ms`;
    const through = day + 1;
    rollups = rollups
      .then(() => rollUp(options, hours, givingUp))
      .then(() => {
        if (givingUp()) return;
        log.info({ day: through, days, points: written, elapsed_s: Number(elapsedS()) }, "history: a day of the past written and rolled up");
        say(`history: ${through}/${days} days written and rolled up (${written.toLocaleString("en")} points, ${elapsedS()} s)`);
      })
      .catch((error: unknown) => {
        rollupFailure ??= error;
      });
  }
  await rollups;
  if (rollupFailure !== undefined) throw rollupFailure;
  if (!givingUp()) say(`history: done, ${days} days for ${campus.devices.length} devices in ${elapsedS()} s`);
  return written;
}

/**
 * The rollups' SELECT … INTO over whole hours (so the hourly rollups of the first and last hour are
 * complete), in their order: 1-minute from raw, hourly from those, per building from those.
 */
async function rollUp(options: HistoryWriterOptions, hours: string, givingUp: () => boolean): Promise<void> {
  for (const { select } of options.rollupSelects(hours)) {
    if (givingUp()) return;
    await options.influx.query(select);
  }
}

/** A site's lazy past, read a day at a time: the first step of the next day waits in `next`. */
interface SitePast {
  site: string;
  steps: Iterator<HistoryStep | null>;
  next: HistoryStep | undefined;
}

/** The site's next step before `endMs`, or null; lets the event loop run while the site's counters are reckoned. */
async function nextBefore(past: SitePast, endMs: number): Promise<HistoryStep | null> {
  while (past.next === undefined) {
    const { value, done } = past.steps.next();
    if (done) return null;
    if (value === null) await new Promise((resolve) => setImmediate(resolve));
    else past.next = value;
  }
  if (past.next.ts >= endMs) return null;
  const step = past.next;
  past.next = undefined;
  return step;
}

/** The ingest's points of one step, each total with the energy delta the ingest would have given it. */
function pointsOf(step: HistoryStep, options: HistoryWriterOptions, counters: Record<string, unknown[]>): Point[] {
  const points: Point[] = [];
  for (const { device, reading } of step.readings) {
    for (const point of options.readingToPoints(reading, device)) {
      const kwh = point.fields.energy_kwh;
      if (!point.tags.phase && typeof kwh === "number") {
        const own = options.observeCounter(counters, device.id, point.ts, kwh).find((out) => out.ts === point.ts);
        if (own) point.fields.energy_delta_kwh = own.delta;
      }
      points.push(point);
    }
  }
  return points;
}

async function write(points: readonly Point[], influx: InfluxClient, sleeps: WakeableSleeps, givingUp: () => boolean): Promise<number> {
  if (points.length === 0) return 0;
  const outcome = await writeBatch(points, { write: (lines) => influx.write(lines, RAW_RP), sleep: (ms) => sleeps.sleep(ms), random: Math.random, givingUp });
  // Let the live view's messages through between batches.
  await new Promise((resolve) => setImmediate(resolve));
  return outcome.stored;
}

/** Waits (with the one backoff policy) until the ingest has made `raw` and the rollups' retention policies. */
async function untilRetentionPolicies(influx: InfluxClient, sleeps: WakeableSleeps, givingUp: () => boolean, onWait: () => void): Promise<void> {
  for (let attempt = 0; !givingUp(); attempt++) {
    if (attempt === 8) onWait(); // after ~45 s of backoff: far longer than the ingest needs when InfluxDB answers
    const present = await influx.query(`SHOW RETENTION POLICIES ON ${quoteIdentifier(influx.config.db)}`).then(
      (series) => new Set((series[0]?.values ?? []).map((row) => String(row[0]))),
      () => new Set<string>(),
    );
    if ([RAW_RP, ...ROLLUP_RPS].every((rp) => present.has(rp))) return;
    await sleeps.sleep(backoffDelayMs(attempt, Math.random(), INFLUX_BACKOFF));
  }
}

/** `site@ts` of every history instant in [from, to) whose 5-minute slot already holds readings of that site. */
async function filledInstants(influx: InfluxClient, campus: Campus, fromMs: number, toMs: number): Promise<Set<string>> {
  const sites = campus.sites.map((s) => s.site.id).join("|");
  const series = await influx.query(
    `SELECT count("power_w") FROM ${quoteIdentifier(influx.config.db)}."${RAW_RP}"."electrical" WHERE "site" =~ /^(${sites})$/ AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY time(${HISTORY_STEP_MS / 60_000}m), "site"`,
  );
  const filled = new Set<string>();
  for (const one of series) {
    for (const [time, count] of one.values ?? []) {
      if (Number(count) > 0) filled.add(`${one.tags?.site}@${typeof time === "number" ? time : Date.parse(String(time))}`);
    }
  }
  return filled;
}
