// One TypeBox schema per shape: fastify validates requests with it, serializes responses with it,
// @fastify/swagger documents it, and the TypeBox type provider gives the handlers their types from it
// (./route-plugin.ts). The alert object's schema is the domain's (domain/alert.ts).
import { type Static, Type as T } from "@sinclair/typebox";
import { SEVERITIES } from "../domain/alert.js";
import { ID_PATTERN } from "../domain/campus/schema.js";
import { literalUnion } from "../domain/schema.js";
import { MEASUREMENT_FIELDS } from "../domain/reading.js";
import { EVERY_VALUES } from "./time.js";

const TIME_DESCRIPTION = "ISO 8601 with an offset (2026-11-29T08:00:00+08:00) or epoch milliseconds";

/**
 * `site=` of every list route (CONTRACT §9): only that site's items. A site outside the caller's scope
 * gives what an unknown site gives, an empty list: neither tells whether the site exists.
 */
export const SiteFilter = {
  site: T.Optional(T.String({ pattern: ID_PATTERN, description: "only this site's items; a site outside your scope, like an unknown one, gives an empty list" })),
};
export const SiteQuerySchema = T.Object(SiteFilter);

const SITE_DESCRIPTION = "the id of its site (school) in the district (CONTRACT §9)";

export const DeviceSchema = T.Object(
  {
    id: T.String(),
    site: T.String({ description: SITE_DESCRIPTION }),
    kind: T.String(),
    building: T.String(),
    room: T.Union([T.String(), T.Null()]),
    parent: T.Union([T.String(), T.Null()]),
    rating_a: T.Union([T.Number(), T.Null()]),
    switchable: T.Boolean({ description: "has a relay the product may drive (CONTRACT §10): breakers and sockets unless the campus file says otherwise" }),
    protected: T.Boolean({ description: "must stay on: neither it nor anything upstream of it can be switched remotely (CONTRACT §10)" }),
    online: T.Boolean({ description: "from the device's retained status; false for a device never heard of" }),
    last_seen: T.Union([T.Integer(), T.Null()], { description: "epoch ms of the newest reading or online status" }),
    latest: T.Object({}, {
      additionalProperties: true,
      description: "latest value of each field (power_w, current_a, ..., switch_on), phases as `phases: {L1: {...}}`",
    }),
    open_alerts: T.Integer(),
  },
  { $id: "Device" },
);

export const BuildingSchema = T.Object(
  {
    id: T.String(),
    site: T.String({ description: SITE_DESCRIPTION }),
    name: T.String(),
    kind: T.String(),
    power_w: T.Number({
      description:
        "live power: per branch, the highest device that is online and reports power (top level = no parent or a parent in another building); an offline or silent device is replaced by its children",
    }),
    devices_online: T.Integer(),
    devices_total: T.Integer(),
    open_alerts: T.Integer(),
  },
  { $id: "Building" },
);

/** The aggregates of a readings query; InfluxQL's function of each is its name in capitals. */
export const AGGREGATES = ["mean", "max", "min", "sum", "last", "count"] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export const ReadingsQuerySchema = T.Object({
  field: T.Optional(literalUnion(MEASUREMENT_FIELDS, { default: "power_w" })),
  from: T.Optional(T.String({ description: `${TIME_DESCRIPTION}; default: 24 h before \`to\`` })),
  to: T.Optional(T.String({ description: `${TIME_DESCRIPTION}; default: now` })),
  every: T.Optional(
    T.String({
      default: "1m",
      description: `one of ${EVERY_VALUES.join(", ")}; 1d and 1w start at midnight (weeks on Monday) in the site's time zone; 1mo answers 400 NOT_SUPPORTED (not supported yet)`,
    }),
  ),
  agg: T.Optional(literalUnion(AGGREGATES, { default: "mean" })),
  phase: T.Optional(literalUnion(["L1", "L2", "L3"] as const, { description: "a phase's own points instead of the device totals" })),
});
export type ReadingsQuery = Static<typeof ReadingsQuerySchema>;

export const ReadingsSchema = T.Object(
  {
    device: T.String(),
    field: T.String(),
    every: T.String(),
    agg: T.String(),
    source: T.Optional(T.String({ description: "what answered (extension): raw, rollup_1m or rollup_1h, joined by + when the newest part came from raw points" })),
    points: T.Array(T.Tuple([T.Integer(), T.Number()]), {
      description: "[bucket start epoch ms, value], oldest first; buckets without data are left out",
    }),
  },
  { $id: "Readings" },
);

export const AlertsQuerySchema = T.Object({
  ...SiteFilter,
  state: T.Optional(literalUnion(["open", "all"] as const, { default: "open" })),
  from: T.Optional(T.String({ description: `${TIME_DESCRIPTION}; state=all: default 24 h before \`to\`; state=open: no limit unless given` })),
  to: T.Optional(T.String({ description: `${TIME_DESCRIPTION}; default: now` })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, description: "page size; with limit or cursor the answer is {items, next}" })),
  cursor: T.Optional(T.String({ maxLength: 500, description: "`next` of the previous page" })),
});
export type AlertsQuery = Static<typeof AlertsQuerySchema>;

const count = (description: string) => T.Integer({ minimum: 0, description });

export const SiteSchema = T.Object(
  {
    id: T.String(),
    name: T.String(),
    timezone: T.String({ description: "the site's IANA time zone, in which its days start" }),
    devices_total: count("devices in the site's campus file"),
    devices_online: count("of them online now"),
    power_w: T.Number({ description: "live power: its buildings' totals added up (as GET /api/buildings counts them)" }),
    open_alerts: count("open alerts (firing or acknowledged)"),
    energy_today_kwh: T.Union([T.Number(), T.Null()], { description: "kWh since local midnight in the site's zone, as GET /api/energy?by=building counts it; null while InfluxDB cannot be read" }),
    // Extensions for the dashboard's school tiles
    open_alerts_by_severity: T.Object(Object.fromEntries(SEVERITIES.map((s) => [s, T.Integer({ minimum: 0 })])), { description: "open alerts per severity (extension)" }),
    after_hours_share_today: T.Union([T.Number(), T.Null()], { description: "the share of energy_today_kwh used outside each building's occupied hours (extension); null when none was used or InfluxDB cannot be read" }),
  },
  { $id: "Site" },
);

export const AckBodySchema = T.Union([T.Object({ note: T.Optional(T.String({ maxLength: 1000 })) }), T.Null()]);
export type AckBody = Static<typeof AckBodySchema>;

export const IdParamsSchema = T.Object({ id: T.String({ maxLength: 200 }) });

export const ReadySchema = T.Object({
  status: literalUnion(["ready", "not_ready"] as const),
  checks: T.Object({ mqtt: T.Boolean(), influxdb: T.Boolean(), ingest: T.Optional(T.Boolean()) }),
  /** The ingest's last health payload, when one was heard of (docs/ingest.md "Health topic"). */
  ingest: T.Optional(T.Object({ ok: T.Boolean(), reason: T.Optional(T.String()), spool_full: T.Optional(T.Boolean()), backlog_records: T.Optional(T.Number()), oldest_ms: T.Optional(T.Union([T.Number(), T.Null()])), influx_reachable: T.Optional(T.Boolean()), ts: T.Optional(T.Number()) })),
});
