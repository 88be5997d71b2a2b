// Late points count in the rollups (docs/ingest.md "Late readings"). The continuous queries re-read only
// recent windows (rollup_1m the last 15 min, rollup_1h the last 2 h, the building rollup the last 3 h), and
// the readers trust a window a while after it ends (infra/energy-rollup.ts ROLLUPS), so a point stored
// later than that (a device flushing hours of buffered readings, CONTRACT §3; a spool draining after an
// outage) would stay out of every rollup-served view for ever. The ingest knows each stored point's
// timestamp: after InfluxDB accepted a batch, the hours of its late `electrical` totals are noted with
// their devices, and a single worker runs the rollups' own SELECT … INTO (./retention.ts rollupSelects,
// the text the CQs are made of) over those hours: coalesced (one round for what arrived meanwhile), bounded
// (at most MAX_RANGE_HOURS per statement, one statement at a time, only the touched devices' series),
// retried with the one backoff policy, counted in metrics and logged. Each round also re-reads which
// devices report energy_kwh and power_w and, when the counted devices change, replaces the building rollup's
// and the power rollups' queries (peak demand, infra/power-rollup.ts). Then the daily rollups of the days
// the late hours lie in are redone (energy per device, peak demand per building and room: infra/device-energy-rollup.ts,
// infra/peak-day-rollup.ts), and every complete day they lack is filled.
// Until its round, an hour is marked stale in InfluxDB, in the same request as its late points
// (infra/energy-rollup.ts ROLLUP_STALE_MEASUREMENT), so readers take it from raw points meanwhile; the mark is
// cleared after the round, and a worker's marks left by a stop or crash are taken up at its next start.
import type { Campus } from "../domain/campus.js";
import { type BackoffPolicy, INFLUX_BACKOFF, backoffDelayMs } from "../infra/backoff.js";
import { HOUR_MS, readEnergyReporters, readStaleHours, readStaleMarks, staleMarkLine, trustedBefore } from "../infra/energy-rollup.js";
import type { InfluxClient } from "../infra/influx.js";
import type { Logger } from "../infra/logger.js";
import { Counter, Gauge, type Registry, metric } from "../infra/metrics.js";
import { WakeableSleeps } from "../infra/timeout.js";
import { readPowerReporters } from "../infra/power-rollup.js";
import { fillDeviceDays, rollUpDeviceDays } from "../infra/device-energy-rollup.js";
import { fillPeakDays, rollUpPeakDays } from "../infra/peak-day-rollup.js";
import { ensureBuildingRollup, ensurePowerRollups, rollupSelects } from "./retention.js";
import { logsRetry } from "./sink-metrics.js";

/** Hour start → the devices whose late points it holds (null: too many to name, re-roll every series). */
export type LateHours = Map<number, Set<string> | null>;

/** Above this many devices in an hour, the hour is rolled up for every device (a regex of 200 ids is cheap, of 20,000 is not). */
export const MAX_NAMED_DEVICES = 200;
/** Hours per SELECT … INTO: a 6-hour statement over a whole campus reads ~2,000 × 2,160 raw points at most. */
export const MAX_RANGE_HOURS = 6;
/** Late points arriving within this long become one round, ms. */
export const COALESCE_MS = 1_000;
/** How often the counted devices are re-read when nothing is late, ms. */
export const REPORTERS_REFRESH_MS = 10 * 60_000;

const DEVICE_TAG = /,device=([a-z0-9-]+)(?=[, ])/;
const SITE_TAG = /,site=([a-z0-9-]+)(?=,|$)/; // on the series key: followed by another tag, or last

/**
 * Calls `late` with the hour start and series key of each late `electrical` total point among stored
 * line-protocol lines: those whose minute a reader may already serve from a rollup at `now`
 * (trustedBefore). Phase points are not rolled up, so they never make an hour late. Pure.
 */
function eachLate(lines: readonly string[], now: number, late: (hour: number, series: string) => void): void {
  const cutoff = trustedBefore(now);
  for (const line of lines) {
    if (!line.startsWith("electrical,")) continue;
    const ts = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (!(ts < cutoff)) continue;
    const series = line.slice(0, line.indexOf(" "));
    if (series.includes(",phase=")) continue;
    late(Math.floor(ts / HOUR_MS) * HOUR_MS, series);
  }
}

/** Adds to `into` the hours of the late points among stored lines, with their devices (eachLate). Pure. */
export function noteLateHours(lines: readonly string[], now: number, into: LateHours = new Map()): LateHours {
  eachLate(lines, now, (hour, series) => addHour(into, hour, DEVICE_TAG.exec(series)?.[1] ?? null));
  return into;
}

/** The (hour, school) pairs of the late points among stored lines: one stale mark each ("" for a line without `site`). Pure. */
export function lateSiteHours(lines: readonly string[], now: number): { hourMs: number; site: string }[] {
  const seen = new Map<string, { hourMs: number; site: string }>();
  eachLate(lines, now, (hourMs, series) => {
    const site = SITE_TAG.exec(series)?.[1] ?? "";
    seen.set(`${hourMs} ${site}`, { hourMs, site });
  });
  return [...seen.values()];
}

function addHour(hours: LateHours, hour: number, device: string | null): void {
  const devices = hours.get(hour);
  if (devices === null) return;
  if (device === null) return void hours.set(hour, null);
  if (devices === undefined) return void hours.set(hour, new Set([device]));
  devices.add(device);
  if (devices.size > MAX_NAMED_DEVICES) hours.set(hour, null);
}

/** Merges `from` into `into` (a failed round's hours go back to the pending ones). */
function mergeHours(into: LateHours, from: LateHours): void {
  for (const [hour, devices] of from) {
    if (devices === null) addHour(into, hour, null);
    else for (const device of devices) addHour(into, hour, device);
  }
}

export interface CatchUpRange {
  fromMs: number;
  toMs: number;
  /** Undefined: every device. */
  devices?: string[];
}

/** Contiguous hours as ranges of at most MAX_RANGE_HOURS, each with the union of its hours' devices. Pure. */
export function catchUpRanges(hours: LateHours): CatchUpRange[] {
  const ranges: { fromMs: number; toMs: number; devices: Set<string> | null }[] = [];
  for (const hour of [...hours.keys()].sort((a, b) => a - b)) {
    const devices = hours.get(hour)!;
    const last = ranges.at(-1);
    if (last && last.toMs === hour && hour - last.fromMs < MAX_RANGE_HOURS * HOUR_MS) {
      last.toMs = hour + HOUR_MS;
      last.devices = last.devices === null || devices === null ? null : new Set([...last.devices, ...devices]);
      if (last.devices !== null && last.devices.size > MAX_NAMED_DEVICES) last.devices = null;
    } else {
      ranges.push({ fromMs: hour, toMs: hour + HOUR_MS, devices: devices === null ? null : new Set(devices) });
    }
  }
  return ranges.map((r) => ({ fromMs: r.fromMs, toMs: r.toMs, ...(r.devices === null ? {} : { devices: [...r.devices].sort() }) }));
}

function catchUpMetrics(registry: Registry) {
  const P = "campus_power_ingest_rollup_catchup_";
  return {
    hours: metric(registry, `${P}hours_total`, () => new Counter({ name: `${P}hours_total`, help: "Hours rolled up again because late points touched them", registers: [registry] })),
    statements: metric(registry, `${P}statements_total`, () => new Counter({ name: `${P}statements_total`, help: "SELECT … INTO statements run to roll up late points", registers: [registry] })),
    failures: metric(registry, `${P}failures_total`, () => new Counter({ name: `${P}failures_total`, help: "Catch-up rounds that failed and were retried", registers: [registry] })),
    pending: metric(registry, `${P}pending_hours`, () => new Gauge({ name: `${P}pending_hours`, help: "Hours with late points waiting to be rolled up again", registers: [registry] })),
  };
}

export interface RollupCatchUpOptions {
  influx: InfluxClient;
  campus: Campus;
  log: Logger;
  metrics: Registry;
  /** Names this worker's stale marks (the ingest's MQTT client id: one per worker, kept across restarts). */
  worker: string;
  retry?: BackoffPolicy;
  /** Default COALESCE_MS. */
  coalesceMs?: number;
}

export class RollupCatchUp {
  private pending: LateHours = new Map();
  private stopped = false;
  private readonly sleeps = new WakeableSleeps();
  private readonly metrics: ReturnType<typeof catchUpMetrics>;
  private readonly worker: Promise<void>;
  /** The building rollup measurement whose query this worker last ensured. */
  private buildingRollup: string | null = null;
  private lastRefresh = Date.now();
  /** Power rollup backfills in flight (ensurePowerRollups). */
  private powerBackfills = 0;

  constructor(private readonly options: RollupCatchUpOptions) {
    this.metrics = catchUpMetrics(options.metrics);
    this.worker = this.run();
  }

  /** The stale marks to write with a batch of lines (the durable sink's extraLines): one per late hour and school. */
  staleMarks(lines: readonly string[], now = Date.now()): string[] {
    return lateSiteHours(lines, now).map((mark) => staleMarkLine(this.options.worker, mark.hourMs, true, mark.site));
  }

  /** Lines InfluxDB has just accepted (the durable sink's onStored): their late hours are rolled up again. */
  noteStored(lines: readonly string[], now = Date.now()): void {
    const before = this.pending.size;
    noteLateHours(lines, now, this.pending);
    if (this.pending.size === before) return;
    this.metrics.pending.set(this.pending.size);
    // Only the first late hour wakes the worker: a wake-up during its coalescing wait would cut it short.
    if (before === 0) this.sleeps.wakeAll();
  }

  /** Hours waiting for their round. */
  get pendingHours(): number {
    return this.pending.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeps.wakeAll();
    await this.worker;
  }

  /** Takes up the hours this worker marked stale and did not roll up again before a stop or crash (every device's series). */
  private async recover(): Promise<void> {
    for (let failures = 0; !this.stopped; failures++) {
      try {
        for (const hour of await readStaleHours(this.options.influx, 0, Date.now() + HOUR_MS, this.options.worker)) addHour(this.pending, hour, null);
        return;
      } catch {
        // No database yet (the ingest creates it when InfluxDB first answers), or InfluxDB away: try again.
        await this.sleeps.sleep(backoffDelayMs(failures, Math.random(), this.options.retry ?? INFLUX_BACKOFF));
      }
    }
  }

  private async run(): Promise<void> {
    await this.recover();
    for (let failures = 0; !this.stopped; ) {
      if (this.pending.size === 0) await this.sleeps.sleep(Math.max(0, this.lastRefresh + REPORTERS_REFRESH_MS - Date.now()));
      if (this.stopped) return;
      if (this.pending.size === 0 && Date.now() - this.lastRefresh < REPORTERS_REFRESH_MS) continue;
      await this.sleeps.sleep(this.options.coalesceMs ?? COALESCE_MS); // late points come in many batches: one round for them all
      if (this.stopped) return;
      const hours = this.pending;
      this.pending = new Map();
      try {
        await this.round(hours);
        failures = 0;
      } catch (error) {
        mergeHours(this.pending, hours);
        this.metrics.failures.inc();
        if (logsRetry(++failures)) this.options.log.warn({ err: error, hours: this.pending.size, attempt: failures }, "rolling up late points failed; retrying");
        await this.sleeps.sleep(backoffDelayMs(failures - 1, Math.random(), this.options.retry ?? INFLUX_BACKOFF));
      }
      this.metrics.pending.set(this.pending.size);
    }
  }

  /** The 1-minute and hourly rollups of the touched series, then the building rollup of the touched buildings. */
  private async round(hours: LateHours): Promise<void> {
    const { influx, campus, log, worker } = this.options;
    const started = Date.now();
    const db = influx.config.db;
    const ranges = catchUpRanges(hours);
    const where = (r: CatchUpRange) => `time >= ${r.fromMs}ms AND time < ${r.toMs}ms`;
    let statements = 0;
    for (const range of ranges) {
      for (const { select } of rollupSelects(db, where(range), undefined, range.devices ? { devices: range.devices } : {})) {
        await influx.query(select);
        statements++;
      }
    }
    // After the hourly rollup holds the late devices: whether they change which devices a building counts.
    const [reporting, powerReporting] = await Promise.all([readEnergyReporters(influx), readPowerReporters(influx)]);
    // Unknown is not "none": taking every device as reporting would swap the group rollups (and backfill them) for nothing.
    if (reporting === null || powerReporting === null) throw new Error("cannot read which devices report energy_kwh and power_w");
    this.lastRefresh = Date.now();
    const building = await ensureBuildingRollup(influx, campus, reporting, log);
    if (building !== this.buildingRollup && this.buildingRollup !== null) log.info({ measurement: building }, "the devices counted per building changed; building energy rollup replaced");
    this.buildingRollup = building;
    await ensurePowerRollups(influx, campus, powerReporting, log, (done) => this.noteBackfill(done));
    for (const range of ranges) {
      const buildings = range.devices ? [...new Set(range.devices.map((id) => campus.deviceById.get(id)?.building).filter((b) => b !== undefined))].sort() : undefined;
      if (buildings?.length === 0) continue;
      // The building energy rollup, then the power rollups (from rollup_1m, rolled up again above) of the touched buildings.
      const [, , ...groupSelects] = rollupSelects(db, where(range), campus, { reporting, powerReporting, ...(buildings ? { buildings } : {}) });
      for (const { select } of groupSelects) {
        await influx.query(select);
        statements++;
      }
    }
    // The daily rollups (energy per device, peak demand) of the complete days the late hours lie in, before their marks go.
    // A power rollup being backfilled holds part of its days: their peaks wait for a round after it (a day marked is never redone).
    for (const range of ranges) await rollUpDeviceDays(influx, campus, range, Date.now(), [...hours.keys()]);
    if (this.powerBackfills === 0) for (const range of ranges) await rollUpPeakDays(influx, campus, powerReporting, range, Date.now(), [...hours.keys()]);
    // Each school's mark of these hours cleared, unless late points came for the hour meanwhile (their mark
    // stands until the next round): filtered after reading the marks, so none written meanwhile is cleared.
    const rolled = [...hours.keys()];
    const marks = rolled.length === 0 ? [] : await readStaleMarks(influx, Math.min(...rolled), Math.max(...rolled) + HOUR_MS, worker);
    const done = marks.filter((mark) => hours.has(mark.hourMs) && !this.pending.has(mark.hourMs));
    if (done.length > 0) await influx.write(done.map((mark) => staleMarkLine(worker, mark.hourMs, false, mark.site)).join("\n"));
    this.metrics.hours.inc(hours.size);
    this.metrics.statements.inc(statements);
    if (hours.size > 0) log.info({ hours: hours.size, ranges: ranges.length, statements, ms: Date.now() - started }, "late points rolled up again");
    // Every complete day the daily rollup lacks (one that just ended; all of them after the campus file changed), yielding to late points.
    const givingUp = () => this.stopped || this.pending.size > 0;
    await fillDeviceDays(influx, campus, Date.now(), { givingUp });
    if (this.powerBackfills === 0) await fillPeakDays(influx, campus, powerReporting, Date.now(), { givingUp });
  }

  /** A rollup backfill in flight (started by this worker, or by the ingest's ensureRetention at start): the daily peaks wait until it has settled. */
  noteBackfill(done: Promise<void>): void {
    this.powerBackfills++;
    void done.finally(() => this.powerBackfills--);
  }
}
