// Today's energy of every site of the district, for GET /api/sites: kWh since local midnight in each
// site's own zone and its after-hours share, read as GET /api/energy?by=building reads them
// (./energy-report.ts). A wall screen polls the overview every few seconds while today's kWh moves slowly,
// so one reading serves every caller for `ttlMs` (each caller is then shown its own sites only); a new day
// in any zone, or a failed read, starts afresh.
import type { Campus } from "../domain/campus.js";
import { share } from "./energy-math.js";
import type { EnergyReader } from "./energy-report.js";
import { ApiError } from "./errors.js";
import { bucketStart } from "./time.js";

export interface SiteToday {
  kwh: number;
  /** after-hours kWh / kWh; null when no energy was used. */
  afterHoursShare: number | null;
}

/** How long one reading of today's energy serves, ms. */
export const TODAY_TTL_MS = 30_000;

export class TodayEnergy {
  private cached: { at: number; midnights: string; result: Promise<Map<string, SiteToday> | null> } | null = null;

  constructor(
    private readonly reader: EnergyReader,
    private readonly campus: Campus,
    private readonly ttlMs = TODAY_TTL_MS,
  ) {}

  /** Today's energy per site id at `at`; null while InfluxDB cannot be read. */
  bySite(at: number): Promise<Map<string, SiteToday> | null> {
    const zones = new Map<string, Campus[]>();
    for (const site of this.campus.sites) zones.set(site.site.timezone, [...(zones.get(site.site.timezone) ?? []), site]);
    const midnights = [...zones.keys()].map((zone) => bucketStart(at, "1d", zone)).join(",");
    const cached = this.cached;
    if (cached !== null && cached.midnights === midnights && at - cached.at < this.ttlMs) return cached.result;
    const result = this.read(zones, at);
    const entry = { at, midnights, result };
    this.cached = entry;
    const forget = () => {
      if (this.cached === entry) this.cached = null;
    };
    result.then((bySite) => bySite === null && forget(), forget);
    return result;
  }

  private async read(zones: ReadonlyMap<string, Campus[]>, at: number): Promise<Map<string, SiteToday> | null> {
    const totals = new Map<string, { kwh: number; after: number }>(this.campus.sites.map((s) => [s.site.id, { kwh: 0, after: 0 }]));
    try {
      for (const [zone, sites] of zones) {
        const fromMs = bucketStart(at, "1d", zone);
        if (fromMs >= at) continue; // the very first millisecond of the day: nothing used yet
        const read = await this.reader.read({ by: "building", every: "1d", fromMs, toMs: at, split: true, sites }, at);
        for (const series of read.series) {
          const total = totals.get(series.site)!;
          total.kwh += series.total_kwh;
          total.after += series.after_hours_kwh ?? 0;
        }
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === "HISTORY_UNAVAILABLE") return null;
      throw error;
    }
    const round = (kwh: number) => Math.round(kwh * 1e6) / 1e6;
    return new Map([...totals].map(([site, t]) => [site, { kwh: round(t.kwh), afterHoursShare: share(t.after, t.kwh) }]));
  }
}
