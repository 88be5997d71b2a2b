// GET /api/devices, /api/devices/{id}/readings, /api/buildings (CONTRACT §6).
import { Type as T } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { type InfluxClient, quoteIdentifier, quoteString } from "../../infra/influx.js";
import type { AppDeps } from "../deps.js";
import { apiError, ErrorBodySchema, historyError } from "../errors.js";
import { BuildingSchema, DeviceSchema, IdParamsSchema, type ReadingsQuery, ReadingsQuerySchema, ReadingsSchema } from "../schemas.js";
import { EVERY_MS, type Every, groupByTime, parseEvery, resolveRange } from "../time.js";
import { buildingViews, deviceViews } from "../views.js";

const AGGREGATES = { mean: "MEAN", max: "MAX", min: "MIN", sum: "SUM", last: "LAST", count: "COUNT" } as const;
export type Aggregate = keyof typeof AGGREGATES;

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
 * The InfluxQL for one readings request. The field comes from the contract's list (the schema
 * rejects anything else) and is still quoted as an identifier; tag values are quoted as strings.
 * Device totals are the points without a `phase` tag (`"phase" = ''` matches series lacking it).
 */
export function readingsQuery(r: ReadingsRequest): string {
  const phase = r.phase === undefined ? `"phase" = ''` : `"phase" = ${quoteString(r.phase)}`;
  return (
    `SELECT ${AGGREGATES[r.agg]}(${quoteIdentifier(r.field)}) AS "value" FROM "electrical"` +
    ` WHERE "device" = ${quoteString(r.device)} AND ${phase} AND time >= ${Math.floor(r.fromMs)}ms AND time < ${Math.ceil(r.toMs)}ms` +
    ` GROUP BY ${groupByTime(r.every, r.timeZone, r.fromMs)} fill(none)`
  );
}

export async function queryReadings(influx: InfluxClient, r: ReadingsRequest): Promise<[number, number][]> {
  const series = await influx.query(readingsQuery(r)).catch(historyError);
  const points: [number, number][] = [];
  for (const s of series) {
    const timeIndex = s.columns.indexOf("time");
    const valueIndex = s.columns.indexOf("value");
    for (const row of s.values) {
      const value = row[valueIndex];
      if (typeof value === "number") points.push([row[timeIndex] as number, value]);
    }
  }
  return points.sort((a, b) => a[0] - b[0]);
}

export async function deviceRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema };

  app.get(
    "/api/devices",
    { schema: { summary: "Devices with live values", tags: ["live"], response: { 200: T.Array(DeviceSchema), ...errors } } },
    async () => deviceViews(deps.state),
  );

  app.get(
    "/api/buildings",
    { schema: { summary: "Buildings with live totals", tags: ["live"], response: { 200: T.Array(BuildingSchema), ...errors } } },
    async () => buildingViews(deps.state),
  );

  app.get<{ Params: { id: string }; Querystring: ReadingsQuery }>(
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
      if (!deps.campus.deviceById.has(id)) throw apiError("DEVICE_NOT_FOUND", `no device "${id}" in the campus`);
      const q = request.query;
      const every = parseEvery(q.every ?? "1m");
      const { fromMs, toMs } = resolveRange(q, now());
      if ((toMs - fromMs) / EVERY_MS[every] > MAX_BUCKETS) {
        throw apiError("TOO_MANY_POINTS", `${every} over this range is more than ${MAX_BUCKETS} intervals; use a longer "every" or a shorter range`);
      }
      const field = q.field ?? "power_w";
      const agg = (q.agg ?? "mean") as Aggregate;
      const r: ReadingsRequest = { device: id, field, every, agg, fromMs, toMs, timeZone: deps.campus.site.timezone };
      if (q.phase !== undefined) r.phase = q.phase;
      return { device: id, field, every, agg, points: await queryReadings(deps.influx, r) };
    },
  );
}
