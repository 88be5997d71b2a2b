// Peak demand of a report (CONTRACT §11): per group (site, building or `building/room`) and period (day,
// ISO week, calendar month at local midnight in each site's zone), the largest 15-minute mean power and the
// start of its window. A group's power is the sum of its counted devices' power (each branch's topmost device
// that reports power_w, infra/power-rollup.ts). By building or room, whole complete days come from the ingest's
// daily peak rollup (infra/peak-day-rollup.ts: one query for the whole range; weeks and months fold from the
// days). Other complete windows come from the ingest's power rollup; the
// newest ones (not complete yet), the hours late points made stale (infra/energy-rollup.ts readStaleHours),
// and everything when the rollup is missing (InfluxDB 2.x/3.x, or a new set of counted devices being
// backfilled) are computed from rollup_1m or raw points the same way (./peak-queries.ts).
import type { Campus, Device } from "../../domain/campus.js";
import { nextLocalDay, readCompleteDays, wholeDays } from "../../infra/device-energy-rollup.js";
import { HOUR_MS, readStaleHours } from "../../infra/energy-rollup.js";
import type { InfluxClient } from "../../infra/influx.js";
import { peakDayMeasurement, rangesOutside, readPeakDays, servedDays } from "../../infra/peak-day-rollup.js";
import { DEMAND_WINDOW_MS, POWER_ROLLUP_LAG_MS, type PowerRollupGroup, powerRollupDevices, powerRollupMeasurement, readPowerReporters } from "../../infra/power-rollup.js";
import { BuildingRollups } from "../energy-building-rollup.js";
import { historyError } from "../errors.js";
import { planSegments, type Range, RetentionPolicies, splitAtStale } from "../history-source.js";
import { deviceFilter, foldPeaks, rollupPeakQuery, type WindowPower, windowPowerQuery, windowRange, windowsOf } from "./peak-queries.js";
import { mapBounded, periodsOverlapping, type ReportEvery, type ReportGroup } from "./periods.js";
import { sitesByZone } from "../../infra/device-energy-rollup.js";

export interface PeakAsk {
  by: ReportGroup;
  every: ReportEvery;
  fromMs: number;
  toMs: number;
  /** The site campuses to read, each in its own zone. */
  sites: readonly Campus[];
  /** Only this building's groups (already known to be in view). */
  building?: string;
}

export interface PeakRow {
  /** Site id, building id, or `building/room`. */
  key: string;
  site: string;
  /** Epoch ms, local midnight starting the period. */
  period_start: number;
  peak_kw: number;
  /** Epoch ms, start of the 15-minute window. */
  peak_at: number;
}

/** How long the list of devices reporting power serves, ms (as the energy reader's list of counters). */
const REPORTERS_TTL_MS = 60_000;

/** The devices reporting power_w, read at most once a minute; an expired list serves while it is read again. */
class PowerReporters {
  private current: { at: number; reporting: ReadonlySet<string> | null } | null = null;
  private refreshing: Promise<unknown> | null = null;

  constructor(private readonly influx: InfluxClient) {}

  async at(now: number): Promise<ReadonlySet<string> | null> {
    if (this.current === null || now - this.current.at >= REPORTERS_TTL_MS) {
      this.refreshing ??= readPowerReporters(this.influx)
        .then((reporting) => (this.current = { at: now, reporting }))
        .finally(() => (this.refreshing = null));
      if (this.current === null) await this.refreshing;
    }
    return this.current!.reporting;
  }
}

/** What one zone's read needs: the ask, its sites, what InfluxDB holds at `at`. */
interface ZonePlan {
  ask: PeakAsk;
  range: Range;
  timeZone: string;
  sites: readonly Campus[];
  counted: readonly Device[];
  /** The devices reporting power_w (they name the power rollup and the daily peak rollup). */
  reporting: ReadonlySet<string> | null;
  staleHours: readonly number[];
  available: ReadonlySet<string>;
  at: number;
  /** The power rollup's measurement, null when InfluxDB has none. */
  measurement: string | null;
}

const kw = (powerW: number) => Math.round(powerW) / 1000;
/** InfluxDB queries of one read in flight at once: a 2-year daily report asks 731 periods. */
const PARALLEL_QUERIES = 8;

export class PeakDemandReader {
  /** What InfluxDB holds, each answer kept a minute: the rollup RPs, who reports power, whether each grouping's rollup exists. */
  private readonly known: { rps: RetentionPolicies; reporters: PowerReporters; rollups: Record<PowerRollupGroup, BuildingRollups> };

  constructor(
    private readonly influx: InfluxClient,
    private readonly campus: Campus,
  ) {
    this.known = { rps: new RetentionPolicies(influx), reporters: new PowerReporters(influx), rollups: { building: new BuildingRollups(influx), room: new BuildingRollups(influx) } };
  }

  async read(ask: PeakAsk, at: number): Promise<PeakRow[]> {
    const zones = sitesByZone(ask.sites);
    const range = windowRange(ask.fromMs, ask.toMs);
    if (zones.size === 0 || range.fromMs >= range.toMs) return [];
    const grouping: PowerRollupGroup = ask.by === "room" ? "room" : "building";
    const [reporting, staleHours, available] = await Promise.all([
      this.known.reporters.at(at),
      readStaleHours(this.influx, range.fromMs, range.toMs).catch(() => []),
      this.known.rps.available(at),
    ]);
    const measurement = powerRollupMeasurement(this.campus, grouping, reporting);
    const hasRollup = await this.known.rollups[grouping].available(measurement, at);
    const counted = powerRollupDevices(this.campus, grouping, reporting);
    const parts = await Promise.all(
      [...zones].map(([timeZone, sites]) => {
        const plan = { ask, range, timeZone, sites, counted, reporting, staleHours, available, at, measurement: hasRollup ? measurement : null };
        return this.readZone(plan);
      }),
    );
    return parts.flat().sort((a, b) => a.key.localeCompare(b.key) || a.period_start - b.period_start);
  }

  /** The sites of one zone: each period's peak from the rollup where it is complete, computed windows elsewhere, folded per period. */
  private async readZone(plan: ZonePlan): Promise<PeakRow[]> {
    const { ask, range, timeZone, at, measurement } = plan;
    const siteIds = plan.sites.map((s) => s.site.id);
    const inZone = new Set(siteIds);
    const counted = plan.counted.filter((d) => inZone.has(d.site) && (ask.building === undefined || d.building === ask.building)).map((d) => d.id);
    if (counted.length === 0) return [];
    const countedSet = new Set(counted);
    const filter = deviceFilter(counted, this.campus.devices.filter((d) => !countedSet.has(d.id)).map((d) => d.id));

    // The rollup serves the complete windows but the stale hours; the rest is computed from the finest source that has it.
    // Whole days the daily peak rollup holds come from it (one query for them all); the power rollup serves the rest of its part.
    const cutoff = Math.floor((at - POWER_ROLLUP_LAG_MS) / DEMAND_WINDOW_MS) * DEMAND_WINDOW_MS;
    const trusted = measurement === null || cutoff <= range.fromMs ? null : { fromMs: range.fromMs, toMs: Math.min(range.toMs, cutoff) };
    const days = trusted === null || ask.by === "site" ? { served: [], rows: Promise.resolve([]) } : await this.peakDays(plan, ask.by, trusted);
    const parts = trusted === null ? [] : rangesOutside(trusted, days.served, timeZone).map((part) => splitAtStale(part, plan.staleHours, HOUR_MS));
    const rolled = { fresh: parts.flatMap((p) => p.fresh), stale: parts.flatMap((p) => p.stale) };
    const rest: Range[] = [...rolled.stale];
    const restFrom = measurement === null ? range.fromMs : Math.max(range.fromMs, cutoff);
    if (restFrom < range.toMs) rest.push({ fromMs: restFrom, toMs: range.toMs });
    // Aligned on windows: a window is never split between rollup_1m and raw points (each half would be a mean of its own).
    const align = (ms: number) => Math.floor(ms / DEMAND_WINDOW_MS) * DEMAND_WINDOW_MS;
    const segments = rest.flatMap((r) => planSegments(r, DEMAND_WINDOW_MS, plan.available, at, align, plan.staleHours));
    // The rollup: a query per period (./peak-queries.ts: max() answers its window's time only without GROUP BY time).
    const perPeriod = rolled.fresh.flatMap((part) =>
      periodsOverlapping(part.fromMs, part.toMs, ask.every, timeZone).map((p) => ({ fromMs: Math.max(p.startMs, part.fromMs), toMs: Math.min(p.endMs, part.toMs) })),
    );
    const queries = [
      ...perPeriod.map((part) => rollupPeakQuery(measurement!, ask.by, part, siteIds, ask.building)),
      ...segments.map((segment) => windowPowerQuery(segment, ask.by, filter, ask.building)),
    ];
    const [answers, dayPeaks] = await Promise.all([mapBounded(queries, PARALLEL_QUERIES, (query) => this.influx.query(query).catch(historyError)), days.rows]);
    const windows: WindowPower[] = [...dayPeaks, ...answers.flatMap((series) => windowsOf(series, ask.by))].filter((w) => inZone.has(this.siteOf(w, ask.by) ?? ""));
    return foldPeaks(windows, ask.every, timeZone, range.fromMs, range.toMs).map((peak) => ({
      key: peak.key,
      site: this.siteOf(peak, ask.by)!,
      period_start: peak.periodStartMs,
      peak_kw: kw(peak.powerW),
      peak_at: peak.atMs,
    }));
  }

  /**
   * The whole local days of `trusted` the daily peak rollup holds (infra/peak-day-rollup.ts: marked rolled up for
   * every site of the zone, no hour of them stale), and their peaks (a promise, read while the rest is read).
   */
  private async peakDays(plan: ZonePlan, by: PowerRollupGroup, trusted: Range): Promise<{ served: number[]; rows: Promise<WindowPower[]> }> {
    const { timeZone, ask } = plan;
    const siteIds = plan.sites.map((s) => s.site.id);
    const measurement = peakDayMeasurement(this.campus, by, plan.reporting);
    const whole = wholeDays(trusted.fromMs, trusted.toMs, timeZone);
    const complete = whole.length === 0 ? new Set<number>() : await readCompleteDays(this.influx, measurement, siteIds, whole[0]!, nextLocalDay(whole.at(-1)!, timeZone)).catch(() => new Set<number>());
    const served = servedDays(whole, complete, plan.staleHours, timeZone);
    return { served, rows: readPeakDays(this.influx, measurement, by, siteIds, served, timeZone, ask.building).catch(historyError) };
  }

  /** A group's site, from the campus file (the site tag of points written before §9 may be missing). */
  private siteOf(group: { key: string }, by: ReportGroup): string | undefined {
    if (by === "site") return this.campus.sites.some((s) => s.site.id === group.key) ? group.key : undefined;
    return this.campus.siteOfBuilding.get(by === "room" ? group.key.slice(0, group.key.indexOf("/")) : group.key)?.site.id;
  }
}
