// The TypeBox schemas of GET /api/reports/energy (CONTRACT §11): fastify validates the query with them,
// serializes the JSON answer with them, and @fastify/swagger documents them.
import { Type as T } from "@sinclair/typebox";
import { ID_PATTERN } from "../../domain/campus/schema.js";
import { literalUnion } from "../../domain/schema.js";
import { ErrorBodySchema } from "../errors.js";
import { REPORT_EVERY, REPORT_GROUPS } from "./periods.js";

export const REPORT_FORMATS = ["json", "csv", "xlsx"] as const;
export const XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const INSTANT = "ISO 8601 with an offset (2026-11-01T00:00:00+08:00) or epoch milliseconds";
const LOCAL_ISO = "ISO 8601 with the site's offset at that instant, e.g. `2026-11-01T00:00:00+08:00`";

export const ReportQuerySchema = T.Object({
  from: T.Optional(T.String({ description: `${INSTANT}; default 24 h before \`to\`. The report holds every whole period that overlaps [from, to)` })),
  to: T.Optional(T.String({ description: `${INSTANT}; default now` })),
  every: T.Optional(literalUnion(REPORT_EVERY, { default: "month", description: "day; week (ISO, from Monday); calendar month; each starting at local midnight in its site's time zone. every=day spans at most 2 years, week and month 10" })),
  by: T.Optional(literalUnion(REPORT_GROUPS, { default: "building", description: "site (the sum of its buildings), building, or room" })),
  site: T.Optional(T.String({ pattern: ID_PATTERN, description: "only this site; a site outside your scope answers 404 as an unknown one" })),
  format: T.Optional(literalUnion(REPORT_FORMATS, { description: "json (default), csv (also with `Accept: text/csv`), or xlsx (an Excel workbook)" })),
});

export const ReportRowSchema = T.Object({
  key: T.String({ description: "site id, building id, or `building/room`" }),
  name: T.String({ description: "the site's or building's name; a room: its building's name and its number" }),
  site: T.String({ description: "the site the group belongs to (extension)" }),
  period_start: T.String({ description: `start of the period, local midnight: ${LOCAL_ISO}` }),
  kwh: T.Number({ description: "kWh from positive counter deltas (a counter reset is never negative consumption), of each branch's topmost device that reports energy_kwh" }),
  after_hours_kwh: T.Number({ description: "kWh outside the occupied schedule of the building kind on its site's school days (CONTRACT §11 calendar), as /api/energy counts it" }),
  after_hours_share: T.Union([T.Number(), T.Null()], { description: "after_hours_kwh / kwh, a fraction (0.25 = 25 %); null when kwh is 0" }),
  peak_kw: T.Union([T.Number(), T.Null()], { description: "maximum demand: the largest 15-minute mean power of the group in the period, kW (each branch's topmost device that reports power_w); null without power data" }),
  peak_at: T.Union([T.String(), T.Null()], { description: `start of the peak's 15-minute window: ${LOCAL_ISO}` }),
  baseline_kwh: T.Union([T.Number(), T.Null()], { description: "the same group's kWh in the period just before (the previous day, week or calendar month); null without data" }),
  change_pct: T.Union([T.Number(), T.Null()], { description: "(kwh − baseline_kwh) / baseline_kwh × 100; null when the baseline is 0 or missing" }),
  time_zone: T.String({ description: "the IANA zone its periods start in: its site's (extension)" }),
});

export const ReportSchema = T.Object(
  {
    every: T.String(),
    by: T.String(),
    from: T.Integer({ description: "the asked range's start, epoch ms (extension)" }),
    to: T.Integer({ description: "the asked range's end, epoch ms (extension)" }),
    rows: T.Array(ReportRowSchema, { description: "per group and period with data, by key then period; periods that have not started are left out (a month in the future: no rows)" }),
    counted_devices: T.Array(T.String(), { description: "the devices whose counters were summed (extension)" }),
  },
  { $id: "EnergyReport" },
);

/** The route's whole schema: the query, and the answer in each format with the errors it may give. */
export const ReportRouteSchema = {
  summary: "Energy report: kWh, after-hours share, peak demand and change against the period before, per site, building or room and day, week or month",
  description:
    "CONTRACT §11. Instants (`period_start`, `peak_at`) are ISO 8601 with the site's offset, e.g. `2026-11-01T00:00:00+08:00`. `format=csv` (or `Accept: text/csv`) answers text/csv with a header row; `format=xlsx` an Excel workbook with the same columns. docs/reports.md.",
  tags: ["reports"],
  querystring: ReportQuerySchema,
  response: {
    200: {
      description: "the report as JSON, CSV or an Excel workbook",
      content: {
        "application/json": { schema: ReportSchema },
        "text/csv": { schema: T.String({ description: "UTF-8 with a byte order mark; a header row of the row field names, then one line per row (RFC 4180)" }) },
        [XLSX_MIME]: { schema: T.Unsafe<Buffer>({ type: "string", format: "binary", description: "one sheet, `energy`: the same columns" }) },
      },
    },
    400: ErrorBodySchema,
    401: ErrorBodySchema,
    403: ErrorBodySchema,
    404: ErrorBodySchema,
    503: ErrorBodySchema,
  },
};
