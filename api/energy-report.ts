// Reads kWh per building, room or device per interval for some sites of the district (GET /api/energy,
// and today's energy of GET /api/sites), summed from the ingest's `energy_delta_kwh` (positive counter
// deltas: a counter reset is a new cycle, never negative consumption), with the after-hours split. Days,
// weeks and months start at local midnight in each site's own time zone (CONTRACT §6, §9): the sites are
// read in groups of one zone each, every group with its own bucket boundaries. Hourly sums come from
// `rollup_1h` where it exists and is complete, raw points for the newest hours.
import type { Campus, Device } from "../domain/campus.js";
import { type InfluxClient, quoteIdentifier } from "../infra/influx.js";
import { BuildingRollups, buildingRollupMeasurement, buildingRollupQuery, splitAtRollupCutoff } from "./energy-building-rollup.js";
import { type EnergyEvery, type EnergyGroup, type EnergySeries, type HourlyKwh, meteringDevices, schedulesByKey, summarise } from "./energy-math.js";
import { historyError } from "./errors.js";
import { fromClause, planSegments, RetentionPolicies, type Segment } from "./history-source.js";
import { type Every, type Grouped, partsInZone } from "./time.js";

const HOUR_MS = 3_600_000;

export interface EnergyAsk {
  by: EnergyGroup;
  every: EnergyEvery;
  fromMs: number;
  toMs: number;
  /** Only this building's groups (already known to be in view). */
  building?: string;
  /** With the after-hours split (hourly reads); without it, InfluxDB sums per day/week. */
  split: boolean;
  /** The site campuses to read, each in its own zone. */
  sites: readonly Campus[];
}

/** A series with the site it belongs to and the zone its buckets start in. */
export type SiteSeries = EnergySeries & { site: string; time_zone: string };

export interface EnergyAnswer {
  /** All sites' series, by key. */
  series: SiteSeries[];
  /** What answered, in order: the building rollup's measurement, rollup_1h, raw. */
  sources: string[];
  /** The zones of the sites read, each once. */
  timeZones: string[];
}

/** A regex over device ids (they are [a-z0-9-], CONTRACT §2, so nothing needs escaping). */
const idRegex = (ids: readonly string[]) => `/^(${ids.join("|")})$/`;

/**
 * The InfluxQL for kWh per bucket (1h, or 1d/1w without the after-hours split) of one part of a segment,
 * with its GROUP BY clause (partsInZone), per tag(s) of the group key.
 */
export function energyQuery(segment: Grouped<Segment>, by: EnergyGroup, deviceFilter: string): string {
  const tags = by === "room" ? `"building", "room"` : quoteIdentifier(by);
  return (
    `SELECT sum("energy_delta_kwh") AS "kwh" FROM ${fromClause(segment)}` +
    ` WHERE time >= ${Math.floor(segment.fromMs)}ms AND time < ${Math.ceil(segment.toMs)}ms${deviceFilter}` +
    ` GROUP BY ${segment.groupBy}, ${tags} fill(none)`
  );
}

async function hourlyKwh(influx: InfluxClient, query: string, by: EnergyGroup): Promise<HourlyKwh[]> {
  const series = await influx.query(query).catch(historyError);
  const out: HourlyKwh[] = [];
  for (const s of series) {
    const key = by === "room" ? (s.tags?.room ? `${s.tags.building}/${s.tags.room}` : null) : (s.tags?.[by] ?? null);
    if (!key) continue;
    const timeIndex = s.columns.indexOf("time");
    const kwhIndex = s.columns.indexOf("kwh");
    for (const row of s.values) if (typeof row[kwhIndex] === "number") out.push({ key, hourStartMs: row[timeIndex] as number, kwh: row[kwhIndex] as number });
  }
  return out;
}

export class EnergyReader {
  private readonly rps: RetentionPolicies;
  private readonly buildingRollups: BuildingRollups;
  private readonly buildingRollup: string;
  private readonly metering = new Map<EnergyGroup, readonly Device[]>();
  private readonly names: ReadonlyMap<string, string>;

  constructor(
    private readonly influx: InfluxClient,
    private readonly campus: Campus,
  ) {
    this.rps = new RetentionPolicies(influx);
    this.buildingRollups = new BuildingRollups(influx);
    this.buildingRollup = buildingRollupMeasurement(campus);
    this.names = new Map(campus.buildings.map((b) => [b.id, b.name]));
  }

  async read(ask: EnergyAsk, at: number): Promise<EnergyAnswer> {
    const zones = new Map<string, Campus[]>();
    for (const site of ask.sites) zones.set(site.site.timezone, [...(zones.get(site.site.timezone) ?? []), site]);
    const parts = await Promise.all([...zones].map(([timeZone, sites]) => this.readZone(ask, timeZone, sites, at)));
    return {
      series: parts.flatMap((p) => p.series).sort((a, b) => a.key.localeCompare(b.key)),
      sources: [...new Set(parts.flatMap((p) => p.sources))],
      timeZones: [...zones.keys()],
    };
  }

  /** The site a series key belongs to (a building, `building/room`, or a device). */
  private siteOfKey(key: string, by: EnergyGroup): string | undefined {
    if (by === "device") return this.campus.siteOfDevice.get(key)?.site.id;
    return this.campus.siteOfBuilding.get(by === "room" ? key.slice(0, key.indexOf("/")) : key)?.site.id;
  }

  private meteringDevices(by: EnergyGroup): readonly Device[] {
    let devices = this.metering.get(by);
    if (devices === undefined) this.metering.set(by, (devices = meteringDevices(this.campus, by)));
    return devices;
  }

  /** The sites of one zone: their counted devices' kWh, summed into buckets that start in that zone. */
  private async readZone(ask: EnergyAsk, timeZone: string, sites: readonly Campus[], at: number): Promise<{ series: SiteSeries[]; sources: string[] }> {
    const { by, building, fromMs, toMs } = ask;
    const siteIds = new Set(sites.map((s) => s.site.id));
    // Only each group's root devices count (no double counting); filter on whichever list is shorter.
    const counted = this.meteringDevices(by).filter((d) => siteIds.has(d.site) && (building === undefined || d.building === building)).map((d) => d.id);
    if (counted.length === 0) return { series: [], sources: [] };
    const countedSet = new Set(counted);
    const skipped = this.campus.devices.filter((d) => !countedSet.has(d.id)).map((d) => d.id);
    const deviceFilter = skipped.length === 0 ? "" : counted.length <= skipped.length ? ` AND "device" =~ ${idRegex(counted)}` : ` AND "device" !~ ${idRegex(skipped)}`;

    // Per hour (needed for the after-hours split), or per day/week straight from InfluxDB without it.
    const bucket: Every = ask.split || ask.every === "1h" ? "1h" : ask.every === "1w" ? "1w" : "1d";
    // by=building reads the per-building rollup (energy-building-rollup.ts) for the hours it holds, when the
    // ingest writes it; the rest, or everything without it, sums the counted devices.
    const useRollup = by === "building" && (await this.buildingRollups.available(this.buildingRollup, at));
    const parts = useRollup ? splitAtRollupCutoff({ fromMs, toMs }, at) : { rollup: null, rest: { fromMs, toMs } };
    // The cutoffs stay on an hour: a day split across sources is summed back together.
    const segments = parts.rest === null ? [] : planSegments(parts.rest, HOUR_MS, await this.rps.available(at), at);
    // Days and weeks of a zone with daylight-saving time: each part grouped with the offset of its start.
    const inZone = <R extends { fromMs: number; toMs: number }>(range: R) => partsInZone(range, bucket, timeZone);
    const queries = segments.flatMap(inZone).map((segment) => energyQuery(segment, by, deviceFilter));
    if (parts.rollup !== null) queries.push(...inZone(parts.rollup).map((part) => buildingRollupQuery(this.buildingRollup, part, building)));
    // The rollup holds every building of the district: keep this zone's sites' groups only.
    const hours = (await Promise.all(queries.map((query) => hourlyKwh(this.influx, query, by)))).flat().filter((h) => siteIds.has(this.siteOfKey(h.key, by) ?? ""));
    const sources = [...(parts.rollup !== null ? [this.buildingRollup] : []), ...segments.map((s) => s.rp)];
    const series = summarise(hours, ask.every, timeZone, schedulesByKey(this.campus, by), ask.split).map((s): SiteSeries => {
      const named = by === "building" && this.names.has(s.key) ? { ...s, name: this.names.get(s.key)! } : s;
      return { ...named, site: this.siteOfKey(s.key, by)!, time_zone: timeZone };
    });
    return { series, sources };
  }
}
