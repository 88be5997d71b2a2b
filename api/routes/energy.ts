// GET /api/energy (CONTRACT §6): kWh per building, room or device per hour/day/week/month, summed
// from the ingest's `energy_delta_kwh` (positive counter deltas: a counter reset is a new cycle, never
// negative consumption), with the after-hours share. Reads hourly sums from `rollup_1h` where it
// exists and is complete, raw points for the newest hours, and sums them into the interval here.
import { Type as T } from "@sinclair/typebox";
import { literalUnion } from "../../domain/schema.js";
import { type InfluxClient, quoteIdentifier } from "../../infra/influx.js";
import { ENERGY_EVERY, ENERGY_GROUPS, type EnergyGroup, type HourlyKwh, meteringDevices, schedulesByKey, share, summarise } from "../energy-math.js";
import { BuildingRollups, buildingRollupMeasurement, buildingRollupQuery, splitAtRollupCutoff } from "../energy-building-rollup.js";
import { apiError, ErrorBodySchema, historyError } from "../errors.js";
import { fromClause, planSegments, RetentionPolicies, type Segment } from "../history-source.js";
import { routePlugin } from "../route-plugin.js";
import { type Every, type Grouped, partsInZone, resolveRange } from "../time.js";

const HOUR_MS = 3_600_000;
/** Most hourly buckets per query (a bit more than a year). */
export const MAX_HOURS = 9_000;

export const EnergyQuerySchema = T.Object({
  by: T.Optional(literalUnion(ENERGY_GROUPS, { default: "building" })),
  every: T.Optional(literalUnion(ENERGY_EVERY, { default: "1d", description: "1d, 1w (Monday) and 1mo start at local midnight in the site's time zone" })),
  from: T.Optional(T.String({ description: "ISO 8601 with an offset or epoch ms; default 24 h before `to`" })),
  to: T.Optional(T.String({ description: "ISO 8601 with an offset or epoch ms; default now" })),
  building: T.Optional(T.String({ maxLength: 64, description: "only this building's groups (rooms, devices)" })),
  after_hours: T.Optional(T.Boolean({ default: true, description: "false: skip the after-hours split; daily and weekly sums are then grouped by InfluxDB per day/week instead of per hour (much faster over many devices)" })),
});

const SeriesSchema = T.Object({
  key: T.String({ description: "building id, `building/room`, or device id" }),
  name: T.Optional(T.String()),
  points: T.Array(T.Tuple([T.Integer(), T.Number()]), { description: "[interval start epoch ms, kWh], oldest first; intervals without data are left out" }),
  total_kwh: T.Number(),
  after_hours_kwh: T.Union([T.Number(), T.Null()], { description: "kWh outside the occupied schedule of the series' building kind (as the after-hours rule judges it; Mon–Fri 07:00–18:00 local for a kind without one); null with after_hours=false" }),
  after_hours_share: T.Union([T.Number(), T.Null()], { description: "after_hours_kwh / total_kwh, null when total is 0" }),
});

export const EnergySchema = T.Object(
  {
    by: T.String(),
    every: T.String(),
    from: T.Integer(),
    to: T.Integer(),
    source: T.String({ description: "rollup_1h, raw, or rollup_1h+raw; by=building may start with energy_building_<hash>+ (the per-building rollup)" }),
    time_zone: T.String({ description: "the site's IANA time zone, in which days, weeks and months start" }),
    series: T.Array(SeriesSchema),
    total_kwh: T.Number(),
    after_hours_kwh: T.Union([T.Number(), T.Null()]),
    after_hours_share: T.Union([T.Number(), T.Null()]),
  },
  { $id: "Energy" },
);

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

export const energyRoutes = routePlugin("campus-power-energy", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const rps = new RetentionPolicies(deps.influx);
  const buildingRollups = new BuildingRollups(deps.influx);
  const buildingRollup = buildingRollupMeasurement(deps.campus);
  const { campus } = deps;
  const timeZone = campus.site.timezone;
  const names = new Map<string, string>(campus.buildings.map((b) => [b.id, b.name]));

  app.get(
    "/api/energy",
    {
      schema: {
        summary: "kWh per building, room or device per interval, with the after-hours share",
        tags: ["history"],
        querystring: EnergyQuerySchema,
        response: { 200: EnergySchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 503: ErrorBodySchema },
      },
    },
    async (request) => {
      const q = request.query;
      const by = q.by ?? "building";
      const every = q.every ?? "1d";
      const at = now();
      const { fromMs, toMs } = resolveRange(q, at);
      if ((toMs - fromMs) / HOUR_MS > MAX_HOURS) throw apiError("TOO_MANY_POINTS", `at most ${MAX_HOURS} hours per query`);
      if (q.building !== undefined && !campus.buildingById.has(q.building)) throw apiError("VALIDATION_FAILED", `no building "${q.building}" in the campus`);

      // Only each group's root devices count (no double counting); filter on whichever list is shorter.
      const counted = meteringDevices(campus, by).filter((d) => q.building === undefined || d.building === q.building).map((d) => d.id);
      if (counted.length === 0) return { ...empty(by, every, fromMs, toMs), time_zone: timeZone };
      const countedSet = new Set(counted);
      const skipped = campus.devices.filter((d) => !countedSet.has(d.id)).map((d) => d.id);
      const deviceFilter = skipped.length === 0 ? "" : counted.length <= skipped.length ? ` AND "device" =~ ${idRegex(counted)}` : ` AND "device" !~ ${idRegex(skipped)}`;

      // Per hour (needed for the after-hours split), or per day/week straight from InfluxDB without it.
      const split = q.after_hours !== false;
      const bucket: Every = split || every === "1h" ? "1h" : every === "1w" ? "1w" : "1d";
      // by=building reads the per-building rollup (energy-building-rollup.ts) for the hours it holds, when the
      // ingest writes it; the rest, or everything without it, sums the counted devices.
      const parts = by === "building" && (await buildingRollups.available(buildingRollup, at)) ? splitAtRollupCutoff({ fromMs, toMs }, at) : { rollup: null, rest: { fromMs, toMs } };
      // The cutoffs stay on an hour: a day split across sources is summed back together.
      const segments = parts.rest === null ? [] : planSegments(parts.rest, HOUR_MS, await rps.available(at), at);
      // Days and weeks of a zone with daylight-saving time: each part grouped with the offset of its start.
      const inZone = <R extends { fromMs: number; toMs: number }>(range: R) => partsInZone(range, bucket, timeZone);
      const queries = segments.flatMap(inZone).map((segment) => energyQuery(segment, by, deviceFilter));
      if (parts.rollup !== null) queries.push(...inZone(parts.rollup).map((part) => buildingRollupQuery(buildingRollup, part, q.building)));
      const hours = (await Promise.all(queries.map((query) => hourlyKwh(deps.influx, query, by)))).flat();
      const sources = [...(parts.rollup !== null ? [buildingRollup] : []), ...segments.map((s) => s.rp)];
      const series = summarise(hours, every, timeZone, schedulesByKey(campus, by), split).map((s) => (by === "building" && names.has(s.key) ? { ...s, name: names.get(s.key)! } : s));
      const total = series.reduce((sum, s) => sum + s.total_kwh, 0);
      const after = series.reduce((sum, s) => sum + (s.after_hours_kwh ?? 0), 0);
      const r6 = (n: number) => Math.round(n * 1e6) / 1e6;
      return { by, every, from: fromMs, to: toMs, source: sources.join("+"), time_zone: timeZone, series, total_kwh: r6(total), after_hours_kwh: split ? r6(after) : null, after_hours_share: split ? share(after, total) : null };
    },
  );
});

function empty(by: string, every: string, fromMs: number, toMs: number) {
  return { by, every, from: fromMs, to: toMs, source: "raw", series: [], total_kwh: 0, after_hours_kwh: 0, after_hours_share: null };
}
