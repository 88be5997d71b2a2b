// Reads kWh per building, room or device per interval for some sites of the district (GET /api/energy,
// and today's energy of GET /api/sites), summed from the ingest's `energy_delta_kwh` (positive counter
// deltas: a counter reset is a new cycle, never negative consumption), with the after-hours split. Days,
// weeks and months start at local midnight in each site's own time zone (CONTRACT §6, §9): the sites are
// read in groups of one zone each, every group with its own bucket boundaries. Hourly sums come from
// `rollup_1h` where it exists and is complete, raw points for the newest hours; by device or room per day or
// longer, whole days come from the per-device daily rollup the ingest writes (infra/device-energy-rollup.ts:
// each device's day already split, 60,000 rows for 30 days of 2,000 devices instead of 1.44 million hours),
// where it is complete and none of the day's hours is stale. A group's energy is its
// branches' topmost devices that report `energy_kwh` (infra/energy-rollup.ts countedDevices, from which
// devices InfluxDB holds counters of): the answer names them (`counted`).
import type { Campus, Device } from "../domain/campus.js";
import { type InfluxClient, quoteIdentifier } from "../infra/influx.js";
import { deviceDayMeasurement, nextLocalDay, readCompleteDays, readDeviceDays, sitesByZone, wholeDays } from "../infra/device-energy-rollup.js";
import { countedDevices, readEnergyReporters, readStaleHours } from "../infra/energy-rollup.js";
import { BuildingRollups, buildingRollupMeasurement, buildingRollupQuery, splitAtRollupCutoff } from "./energy-building-rollup.js";
import { type EnergyEvery, type EnergyGroup, type EnergySeries, groupKey, type HourlyKwh, schedulesByKey, summarise } from "./energy-math.js";
import { historyError } from "./errors.js";
import { fromClause, planSegments, type Range, RetentionPolicies, type Segment, splitAtStale } from "./history-source.js";
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
  /** The devices whose counters were summed (each group's topmost devices reporting energy_kwh), sorted. */
  counted: string[];
}

/**
 * How long the list of devices reporting energy serves, ms. It only grows (when a device first sends a
 * counter), and reading it costs InfluxDB a `last()` per device series (0.3–1.8 s at 2,000 devices × 30 days
 * of rollup_1h), so an expired list keeps serving while it is read again in the background.
 */
export const REPORTERS_TTL_MS = 60_000;

interface Counting {
  at: number;
  reporting: ReadonlySet<string> | null;
  byGroup: Map<EnergyGroup, readonly Device[]>;
  /** The building rollup's measurement for these counted devices (its name hashes them, as the ingest's query does). */
  buildingRollup: string;
}

/** The devices counted per group, from which devices report energy_kwh (infra/energy-rollup.ts countedDevices). */
class CountedDevices {
  private current: Counting | null = null;
  private refreshing: Promise<Counting> | null = null;

  constructor(
    private readonly influx: InfluxClient,
    private readonly campus: Campus,
    private readonly ttlMs = REPORTERS_TTL_MS,
  ) {}

  async at(now: number): Promise<{ devices(by: EnergyGroup): readonly Device[]; buildingRollup: string }> {
    if (this.current === null || now - this.current.at >= this.ttlMs) {
      this.refreshing ??= readEnergyReporters(this.influx)
        .then((reporting): Counting => ({ at: now, reporting, byGroup: new Map(), buildingRollup: buildingRollupMeasurement(this.campus, reporting) }))
        .then((counting) => (this.current = counting))
        .finally(() => (this.refreshing = null));
      if (this.current === null) await this.refreshing;
    }
    const { reporting, byGroup, buildingRollup } = this.current!;
    return {
      buildingRollup,
      devices: (by) => {
        let devices = byGroup.get(by);
        if (devices === undefined) byGroup.set(by, (devices = countedDevices(this.campus, by, reporting)));
        return devices;
      },
    };
  }
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
  private readonly counted: CountedDevices;
  private readonly names: ReadonlyMap<string, string>;

  constructor(
    private readonly influx: InfluxClient,
    private readonly campus: Campus,
  ) {
    this.rps = new RetentionPolicies(influx);
    this.buildingRollups = new BuildingRollups(influx);
    this.counted = new CountedDevices(influx, campus);
    this.names = new Map(campus.buildings.map((b) => [b.id, b.name]));
  }

  async read(ask: EnergyAsk, at: number): Promise<EnergyAnswer> {
    const zones = sitesByZone(ask.sites);
    // Hours whose rollups late points made stale, until the ingest rolled them up again: read from raw points.
    const [counted, stale] = await Promise.all([this.counted.at(at), readStaleHours(this.influx, ask.fromMs, ask.toMs).catch(() => [])]);
    const parts = await Promise.all([...zones].map(([timeZone, sites]) => this.readZone(ask, timeZone, sites, at, counted, stale)));
    return {
      series: parts.flatMap((p) => p.series).sort((a, b) => a.key.localeCompare(b.key)),
      sources: [...new Set(parts.flatMap((p) => p.sources))],
      timeZones: [...zones.keys()],
      counted: parts.flatMap((p) => p.counted).sort(),
    };
  }

  /** The site a series key belongs to (a building, `building/room`, or a device). */
  private siteOfKey(key: string, by: EnergyGroup): string | undefined {
    if (by === "device") return this.campus.siteOfDevice.get(key)?.site.id;
    return this.campus.siteOfBuilding.get(by === "room" ? key.slice(0, key.indexOf("/")) : key)?.site.id;
  }

  /**
   * The whole local days of the range that the per-device daily rollup holds (infra/device-energy-rollup.ts:
   * marked rolled up for every site asked, no hour of them stale): their day rows, already split, per device
   * or per room of the `counted` devices (a promise, read while the rest of the range is read hour by hour),
   * and that rest.
   */
  private async deviceDays(
    ask: EnergyAsk,
    timeZone: string,
    sites: readonly string[],
    staleHours: readonly number[],
    counted?: readonly string[],
  ): Promise<{ rows: Promise<HourlyKwh[]>; rest: Range[]; measurement: string | null }> {
    const measurement = deviceDayMeasurement(this.campus);
    const whole = wholeDays(ask.fromMs, ask.toMs, timeZone);
    // No rollup (yet): every hour from rollup_1h and raw points.
    const complete = whole.length === 0 ? new Set<number>() : await readCompleteDays(this.influx, measurement, sites, whole[0]!, nextLocalDay(whole.at(-1)!, timeZone)).catch(() => new Set<number>());
    const served = whole.filter((day) => complete.has(day) && !staleHours.some((hour) => hour >= day && hour < nextLocalDay(day, timeZone)));
    const rest: Range[] = [];
    let at = ask.fromMs;
    for (const day of served) {
      if (day > at) rest.push({ fromMs: at, toMs: day });
      at = nextLocalDay(day, timeZone);
    }
    if (at < ask.toMs) rest.push({ fromMs: at, toMs: ask.toMs });
    const only = { ...(ask.building === undefined ? {} : { building: ask.building }), ...(counted === undefined ? {} : { devices: counted }) };
    const keyOf = (id: string) => groupKey(this.campus.deviceById.get(id)!, ask.by) ?? id;
    const rows = readDeviceDays(this.influx, measurement, sites, served, timeZone, only)
      .catch(historyError)
      .then((days) => days.map((day): HourlyKwh => ({ key: keyOf(day.device), hourStartMs: day.dayStartMs, kwh: day.kwh, afterHoursKwh: day.afterHoursKwh })));
    return { rows, rest, measurement: served.length > 0 ? measurement : null };
  }

  /** The sites of one zone: their counted devices' kWh, summed into buckets that start in that zone. */
  private async readZone(
    ask: EnergyAsk,
    timeZone: string,
    sites: readonly Campus[],
    at: number,
    countedNow: { devices(by: EnergyGroup): readonly Device[]; buildingRollup: string },
    staleHours: readonly number[],
  ): Promise<{ series: SiteSeries[]; sources: string[]; counted: string[] }> {
    const { by, building, fromMs, toMs } = ask;
    const siteIds = new Set(sites.map((s) => s.site.id));
    // Only each branch's topmost counter counts (no double counting); filter on whichever list is shorter.
    const counted = countedNow.devices(by).filter((d) => siteIds.has(d.site) && (building === undefined || d.building === building)).map((d) => d.id);
    if (counted.length === 0) return { series: [], sources: [], counted };
    const countedSet = new Set(counted);
    const skipped = this.campus.devices.filter((d) => !countedSet.has(d.id)).map((d) => d.id);
    const deviceFilter = skipped.length === 0 ? "" : counted.length <= skipped.length ? ` AND "device" =~ ${idRegex(counted)}` : ` AND "device" !~ ${idRegex(skipped)}`;

    // Per hour (needed for the after-hours split), or per day/week straight from InfluxDB without it.
    const bucket: Every = ask.split || ask.every === "1h" ? "1h" : ask.every === "1w" ? "1w" : "1d";
    // by=building reads the per-building rollup (energy-building-rollup.ts) for the hours it holds, when the
    // ingest writes it; the rest, or everything without it, sums the counted devices.
    const buildingRollup = countedNow.buildingRollup;
    const useRollup = by === "building" && (await this.buildingRollups.available(buildingRollup, at));
    const parts = useRollup ? splitAtRollupCutoff({ fromMs, toMs }, at) : { rollup: null, rest: { fromMs, toMs } };
    // The building rollup's stale hours join the rest; the cutoffs stay on an hour: a day split across sources is summed back together.
    const rolled = parts.rollup === null ? { fresh: [], stale: [] } : splitAtStale(parts.rollup, staleHours, HOUR_MS);
    const available = await this.rps.available(at);
    // By device or room per day or longer with the split: the whole days the per-device daily rollup holds; the rest
    // hour by hour. Its rows are read alongside the hourly queries (no await comes between them: a failure is handled).
    const fromDays = (by === "device" || by === "room") && ask.split && ask.every !== "1h";
    const days = fromDays ? await this.deviceDays(ask, timeZone, [...siteIds], staleHours, by === "device" ? undefined : counted) : { rows: Promise.resolve([]), rest: parts.rest === null ? [] : [parts.rest], measurement: null };
    const segments = [...rolled.stale, ...days.rest].flatMap((range) => planSegments(range, HOUR_MS, available, at, undefined, staleHours));
    // Days and weeks of a zone with daylight-saving time: each part grouped with the offset of its start.
    const inZone = <R extends { fromMs: number; toMs: number }>(range: R) => partsInZone(range, bucket, timeZone);
    const queries = segments.flatMap(inZone).map((segment) => energyQuery(segment, by, deviceFilter));
    queries.push(...rolled.fresh.flatMap(inZone).map((part) => buildingRollupQuery(buildingRollup, part, building)));
    // The rollup holds every building of the district: keep this zone's sites' groups only.
    const hours = (await Promise.all([days.rows, ...queries.map((query) => hourlyKwh(this.influx, query, by))])).flat().filter((h) => siteIds.has(this.siteOfKey(h.key, by) ?? ""));
    const rollups = [...(rolled.fresh.length > 0 ? [buildingRollup] : []), ...(days.measurement === null ? [] : [days.measurement])];
    const sources = [...new Set([...rollups, ...segments.map((s) => s.rp)])];
    const series = summarise(hours, ask.every, timeZone, schedulesByKey(this.campus, by), ask.split).map((s): SiteSeries => {
      const named = by === "building" && this.names.has(s.key) ? { ...s, name: this.names.get(s.key)! } : s;
      return { ...named, site: this.siteOfKey(s.key, by)!, time_zone: timeZone };
    });
    return { series, sources, counted };
  }
}
