// The rows of GET /api/reports/energy (CONTRACT §11): per group and period, kWh with the after-hours split
// (api/energy-report.ts EnergyReader: counter deltas, a reset never negative, the school calendar, rollups
// where complete), peak demand (./peak-demand.ts) and the baseline (the same group's kWh in the period just
// before). Each zone's sites are read with that zone's periods; periods that start after `at` hold nothing
// yet and are not read, so a month in the future is an empty report.
import type { Campus } from "../../domain/campus.js";
import type { InfluxClient } from "../../infra/influx.js";
import { type EnergyGroup, type EnergySeries, share } from "../energy-math.js";
import { EnergyReader } from "../energy-report.js";
import { PeakDemandReader, type PeakRow } from "./peak-demand.js";
import { changePct, ENERGY_EVERY_OF, mapBounded, type Period, periodsOverlapping, previousPeriod, type ReportEvery, type ReportGroup } from "./periods.js";
import { sitesByZone } from "../../infra/device-energy-rollup.js";

export interface ReportAsk {
  by: ReportGroup;
  every: ReportEvery;
  fromMs: number;
  toMs: number;
  /** The site campuses in view. */
  sites: readonly Campus[];
}

export interface ReportRow {
  key: string;
  name: string;
  site: string;
  time_zone: string;
  /** Epoch ms: local midnight starting the period. */
  period_start: number;
  kwh: number;
  after_hours_kwh: number;
  after_hours_share: number | null;
  peak_kw: number | null;
  /** Epoch ms: the start of the peak's 15-minute window. */
  peak_at: number | null;
  baseline_kwh: number | null;
  change_pct: number | null;
}

export interface ReportAnswer {
  rows: ReportRow[];
  /** The devices whose counters were summed, sorted. */
  counted: string[];
}

/** Energy reads of one request in flight at once: each is a few InfluxDB queries; a 2-year daily report has 731. */
const PARALLEL_READS = 4;

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** kWh and after-hours kWh per group key in one period (by=site: its buildings summed). */
type PeriodEnergy = Map<string, { kwh: number; after: number }>;

export class ReportReader {
  private readonly energy: EnergyReader;
  private readonly peaks: PeakDemandReader;

  constructor(
    influx: InfluxClient,
    private readonly campus: Campus,
  ) {
    this.energy = new EnergyReader(influx, campus);
    this.peaks = new PeakDemandReader(influx, campus);
  }

  async read(ask: ReportAsk, at: number): Promise<ReportAnswer> {
    const parts = await Promise.all([...sitesByZone(ask.sites)].map(([timeZone, sites]) => this.readZone(ask, timeZone, sites, at)));
    return {
      rows: parts.flatMap((p) => p.rows).sort((a, b) => a.key.localeCompare(b.key) || a.period_start - b.period_start),
      counted: [...new Set(parts.flatMap((p) => p.counted))].sort(),
    };
  }

  private async readZone(ask: ReportAsk, timeZone: string, sites: readonly Campus[], at: number): Promise<ReportAnswer> {
    const periods = periodsOverlapping(ask.fromMs, ask.toMs, ask.every, timeZone).filter((p) => p.startMs <= at);
    if (periods.length === 0) return { rows: [], counted: [] };
    const by: EnergyGroup = ask.by === "site" ? "building" : ask.by;
    const every = ENERGY_EVERY_OF[ask.every];
    // A read per period, as /api/energy reads that period (its after-hours split is per read); the baseline of
    // the first period needs no split.
    const energyOf = (period: Period, split: boolean) => this.energy.read({ by, every, fromMs: period.startMs, toMs: period.endMs, split, sites }, at);
    const [baseline, reads, peaks] = await Promise.all([
      energyOf(previousPeriod(periods[0]!.startMs, ask.every, timeZone), false),
      mapBounded(periods, PARALLEL_READS, (period) => energyOf(period, true)),
      this.peaks.read({ by: ask.by, every: ask.every, fromMs: periods[0]!.startMs, toMs: periods.at(-1)!.endMs, sites }, at),
    ]);
    const energies = [baseline, ...reads].map((read) => this.byGroup(read.series, ask.by));
    const peaksOf = new Map<number, Map<string, PeakRow>>();
    for (const peak of peaks) peaksOf.set(peak.period_start, (peaksOf.get(peak.period_start) ?? new Map()).set(peak.key, peak));
    const rows: ReportRow[] = [];
    periods.forEach((period, i) => {
      const energy = energies[i + 1]!;
      const periodPeaks = peaksOf.get(period.startMs) ?? new Map<string, PeakRow>();
      for (const key of new Set([...energy.keys(), ...periodPeaks.keys()])) {
        const used = energy.get(key);
        const peak = periodPeaks.get(key);
        const kwh = round6(used?.kwh ?? 0);
        const before = energies[i]!.get(key);
        const baselineKwh = before === undefined ? null : round6(before.kwh);
        rows.push({
          key,
          name: this.nameOf(key, ask.by),
          site: this.siteOf(key, ask.by),
          time_zone: timeZone,
          period_start: period.startMs,
          kwh,
          after_hours_kwh: round6(used?.after ?? 0),
          after_hours_share: share(used?.after ?? 0, used?.kwh ?? 0),
          peak_kw: peak?.peak_kw ?? null,
          peak_at: peak?.peak_at ?? null,
          baseline_kwh: baselineKwh,
          change_pct: changePct(kwh, baselineKwh),
        });
      }
    });
    return { rows, counted: [...new Set(reads.flatMap((read) => read.counted))] };
  }

  /** kWh and after-hours kWh per report key: a site's are its buildings' summed. */
  private byGroup(series: readonly EnergySeries[], by: ReportGroup): PeriodEnergy {
    const out: PeriodEnergy = new Map();
    for (const s of series) {
      const key = by === "site" ? this.siteOf(s.key, "building") : s.key;
      const entry = out.get(key) ?? { kwh: 0, after: 0 };
      entry.kwh += s.total_kwh;
      entry.after += s.after_hours_kwh ?? 0;
      out.set(key, entry);
    }
    return out;
  }

  private siteOf(key: string, by: ReportGroup): string {
    if (by === "site") return key;
    return this.campus.siteOfBuilding.get(by === "room" ? key.slice(0, key.indexOf("/")) : key)?.site.id ?? "";
  }

  /** The site's or building's name from the campus file; a room is its building's name and its number. */
  private nameOf(key: string, by: ReportGroup): string {
    if (by === "site") return this.campus.sites.find((s) => s.site.id === key)?.site.name ?? key;
    if (by === "building") return this.campus.buildingById.get(key)?.name ?? key;
    const slash = key.indexOf("/");
    return `${this.campus.buildingById.get(key.slice(0, slash))?.name ?? key.slice(0, slash)} ${key.slice(slash + 1)}`;
  }
}
