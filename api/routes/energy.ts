// GET /api/energy (CONTRACT §6): kWh per building, room or device per hour/day/week/month with the
// after-hours share, of the caller's sites (§9), each site's days in its own time zone (../energy-report.ts).
import { Type as T } from "@sinclair/typebox";
import { literalUnion } from "../../domain/schema.js";
import { ENERGY_EVERY, ENERGY_GROUPS, share } from "../energy-math.js";
import { EnergyReader } from "../energy-report.js";
import { apiError, ErrorBodySchema } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import { SiteFilter } from "../schemas.js";
import { resolveRange } from "../time.js";

const HOUR_MS = 3_600_000;
/** Most hourly buckets per query (a bit more than a year). */
export const MAX_HOURS = 9_000;

export const EnergyQuerySchema = T.Object({
  ...SiteFilter,
  by: T.Optional(literalUnion(ENERGY_GROUPS, { default: "building" })),
  every: T.Optional(literalUnion(ENERGY_EVERY, { default: "1d", description: "1d, 1w (Monday) and 1mo start at local midnight in each site's time zone" })),
  from: T.Optional(T.String({ description: "ISO 8601 with an offset or epoch ms; default 24 h before `to`" })),
  to: T.Optional(T.String({ description: "ISO 8601 with an offset or epoch ms; default now" })),
  building: T.Optional(T.String({ maxLength: 64, description: "only this building's groups (rooms, devices)" })),
  after_hours: T.Optional(T.Boolean({ default: true, description: "false: skip the after-hours split; daily and weekly sums are then grouped by InfluxDB per day/week instead of per hour (much faster over many devices)" })),
});

const SeriesSchema = T.Object({
  key: T.String({ description: "building id, `building/room`, or device id" }),
  name: T.Optional(T.String()),
  site: T.String({ description: "the site the group belongs to (extension)" }),
  time_zone: T.String({ description: "the zone its intervals start in: its site's (extension)" }),
  points: T.Array(T.Tuple([T.Integer(), T.Number()]), { description: "[interval start epoch ms, kWh], oldest first; intervals without data are left out" }),
  total_kwh: T.Number(),
  after_hours_kwh: T.Union([T.Number(), T.Null()], { description: "kWh outside the occupied schedule of the series' building kind on its site's school days (as the after-hours rule judges it; Mon–Fri 07:00–18:00 local for a kind without one; with a school calendar, CONTRACT §11, all of a holiday or vacation day); null with after_hours=false" }),
  after_hours_share: T.Union([T.Number(), T.Null()], { description: "after_hours_kwh / total_kwh, null when total is 0" }),
});

export const EnergySchema = T.Object(
  {
    by: T.String(),
    every: T.String(),
    from: T.Integer(),
    to: T.Integer(),
    source: T.String({ description: "rollup_1h, raw, or rollup_1h+raw; by=building may start with energy_building_<hash>+ (the per-building rollup), by=device and by=room per day or longer with energy_device_day_<hash>+ (the per-device daily rollup)" }),
    time_zone: T.Union([T.String(), T.Null()], {
      description: "the IANA time zone in which days, weeks and months start: the sites' in view; null when they lie in different zones (each series then says its own) or no site is in view",
    }),
    series: T.Array(SeriesSchema),
    counted_devices: T.Array(T.String(), {
      description: "the devices whose counters were summed: in each group, each branch's topmost device that reports energy_kwh (docs/ingest.md)",
    }),
    total_kwh: T.Number(),
    after_hours_kwh: T.Union([T.Number(), T.Null()]),
    after_hours_share: T.Union([T.Number(), T.Null()]),
  },
  { $id: "Energy" },
);

const sixDecimals = (n: number) => Math.round(n * 1e6) / 1e6;

export const energyRoutes = routePlugin("campus-power-energy", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const reader = new EnergyReader(deps.influx, deps.campus);

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
      const scope = request.scope!.narrow(q.site);
      // Another site's building is, to a principal scoped elsewhere, an unknown one (CONTRACT §9).
      if (q.building !== undefined && scope.building(q.building) === undefined) throw apiError("VALIDATION_FAILED", `no building "${q.building}" in the campus`);
      const split = q.after_hours !== false;
      const read = await reader.read({ by, every, fromMs, toMs, split, sites: scope.siteCampuses(), ...(q.building !== undefined ? { building: q.building } : {}) }, at);
      const total = read.series.reduce((sum, s) => sum + s.total_kwh, 0);
      const after = read.series.reduce((sum, s) => sum + (s.after_hours_kwh ?? 0), 0);
      return {
        by,
        every,
        from: fromMs,
        to: toMs,
        source: read.sources.length === 0 ? "raw" : read.sources.join("+"),
        time_zone: read.timeZones.length === 1 ? read.timeZones[0]! : null,
        series: read.series,
        counted_devices: read.counted,
        total_kwh: sixDecimals(total),
        after_hours_kwh: split ? sixDecimals(after) : null,
        after_hours_share: split ? share(after, total) : null,
      };
    },
  );
});
