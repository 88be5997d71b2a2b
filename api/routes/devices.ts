// GET /api/devices, /api/devices/{id}/readings, /api/buildings (CONTRACT §6), of the caller's sites (§9).
import { Type as T } from "@sinclair/typebox";
import { type InfluxClient, quoteIdentifier, quoteString } from "../../infra/influx.js";
import { fromClause, planSegments, RAW, RetentionPolicies, type Segment } from "../history-source.js";
import { apiError, ErrorBodySchema, historyError } from "../errors.js";
import { routePlugin } from "../route-plugin.js";
import { type Aggregate, BuildingSchema, DeviceSchema, IdParamsSchema, ReadingsQuerySchema, ReadingsSchema, SiteQuerySchema } from "../schemas.js";
import { bucketStart, EVERY_MS, type Every, type Grouped, parseEvery, partsInZone, resolveRange } from "../time.js";
import { buildingViews, deviceViews } from "../views.js";
import { readStaleHours } from "../../infra/energy-rollup.js";

/** Most buckets one query may return (a year of 1 h buckets fits; a year of 1 m does not). */
export const MAX_BUCKETS = 20_000;

export interface ReadingsRequest {
  device: string;
  field: string;
  every: Every;
  agg: Aggregate;
  fromMs: number;
  toMs: number;
  phase?: string;
  timeZone: string;
}

/**
 * The rollup field that answers `agg` of `field` (the ingest's rollups keep power mean and max,
 * current max, voltage mean and the energy sum per bucket); null when only raw points can.
 */
export function rollupField(field: string, agg: Aggregate): string | null {
  const map: Record<string, Partial<Record<Aggregate, string>>> = {
    power_w: { mean: "power_w_mean", max: "power_w_max" },
    current_a: { max: "current_a_max" },
    voltage_v: { mean: "voltage_v_mean" },
  };
  return map[field]?.[agg] ?? null;
}

/**
 * The InfluxQL for one readings request on one part of a segment (raw points or a rollup) with its GROUP
 * BY clause (partsInZone). The field comes from the contract's list (the schema rejects anything else)
 * and is still quoted as an identifier; tag values are quoted as strings. Device totals are the points
 * without a `phase` tag (`"phase" = ''` matches series lacking it; rollups hold totals only).
 */
export function readingsQuery(r: ReadingsRequest, segment: Grouped<Segment>): string {
  const field = segment.rp === RAW ? r.field : (rollupField(r.field, r.agg) ?? r.field);
  const phase = r.phase === undefined ? `"phase" = ''` : `"phase" = ${quoteString(r.phase)}`;
  return (
    `SELECT ${r.agg.toUpperCase()}(${quoteIdentifier(field)}) AS "value" FROM ${fromClause(segment)}` +
    ` WHERE "device" = ${quoteString(r.device)} AND ${phase} AND time >= ${Math.floor(segment.fromMs)}ms AND time < ${Math.ceil(segment.toMs)}ms` +
    ` GROUP BY ${segment.groupBy} fill(none)`
  );
}

/** Reads raw points or rollups, whichever serves the bucket length, for each part of the range. */
export async function queryReadings(influx: InfluxClient, r: ReadingsRequest, rollups: ReadonlySet<string> = new Set(), now = Date.now()): Promise<{ points: [number, number][]; sources: string[] }> {
  const usable = r.phase === undefined && rollupField(r.field, r.agg) !== null ? rollups : new Set<string>();
  // Hours late readings made stale are read from raw points until the ingest has rolled them up again.
  const stale = usable.size > 0 ? await readStaleHours(influx, r.fromMs, r.toMs).catch(() => []) : [];
  const segments = planSegments(r, EVERY_MS[r.every], usable, now, (ms) => bucketStart(ms, r.every, r.timeZone), stale);
  const points: [number, number][] = [];
  for (const segment of segments.flatMap((s) => partsInZone(s, r.every, r.timeZone))) {
    const series = await influx.query(readingsQuery(r, segment)).catch(historyError);
    for (const s of series) {
      const timeIndex = s.columns.indexOf("time");
      const valueIndex = s.columns.indexOf("value");
      for (const row of s.values) {
        const value = row[valueIndex];
        if (typeof value === "number") points.push([row[timeIndex] as number, value]);
      }
    }
  }
  return { points: points.sort((a, b) => a[0] - b[0]), sources: segments.map((s) => s.rp) };
}

export const deviceRoutes = routePlugin("campus-power-devices", async (app, deps) => {
  const now = deps.now ?? Date.now;
  const rps = new RetentionPolicies(deps.influx);
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema };

  app.get(
    "/api/devices",
    { schema: { summary: "Devices with live values", tags: ["live"], querystring: SiteQuerySchema, response: { 200: T.Array(DeviceSchema), ...errors } } },
    async (request) => deviceViews(deps.state, request.scope!.narrow(request.query.site).devices()),
  );

  app.get(
    "/api/buildings",
    { schema: { summary: "Buildings with live totals", tags: ["live"], querystring: SiteQuerySchema, response: { 200: T.Array(BuildingSchema), ...errors } } },
    async (request) => buildingViews(deps.state, request.scope!.narrow(request.query.site).buildings()),
  );

  app.get(
    "/api/devices/:id/readings",
    {
      schema: {
        summary: "A device's history from InfluxDB, aggregated per interval",
        tags: ["history"],
        params: IdParamsSchema,
        querystring: ReadingsQuerySchema,
        response: { 200: ReadingsSchema, 404: ErrorBodySchema, 503: ErrorBodySchema, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      // Another site's device is, to a principal scoped elsewhere, an unknown one (CONTRACT §9).
      const device = request.scope!.device(id);
      if (device === undefined) throw apiError("DEVICE_NOT_FOUND", `no device "${id}" in the campus`);
      const q = request.query;
      const every = parseEvery(q.every ?? "1m");
      const { fromMs, toMs } = resolveRange(q, now());
      if ((toMs - fromMs) / EVERY_MS[every] > MAX_BUCKETS) {
        throw apiError("TOO_MANY_POINTS", `${every} over this range is more than ${MAX_BUCKETS} intervals; use a longer "every" or a shorter range`);
      }
      const field = q.field ?? "power_w";
      const agg = q.agg ?? "mean";
      // Days start at midnight where the device is: its own site's zone.
      const timeZone = deps.campus.siteOfDevice.get(device.id)!.site.timezone;
      const r: ReadingsRequest = { device: id, field, every, agg, fromMs, toMs, timeZone };
      if (q.phase !== undefined) r.phase = q.phase;
      const at = now();
      const { points, sources } = await queryReadings(deps.influx, r, await rps.available(at), at);
      return { device: id, field, every, agg, source: sources.join("+"), points };
    },
  );
});
