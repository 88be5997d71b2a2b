// GET /api/reports/energy (CONTRACT §11): per site, building or room and per day, week or month, kWh with
// the after-hours share, peak demand and the change against the period before, of the caller's sites (§9),
// each site's periods at its own local midnight. JSON, CSV (`format=csv` or `Accept: text/csv`) or an Excel
// workbook (`format=xlsx`). docs/reports.md says what each figure means.
import type { Static } from "@sinclair/typebox";
import type { FastifySchemaValidationError } from "fastify";
import { localDateOf } from "../../domain/calendar.js";
import { apiError } from "../errors.js";
import { reportCsv } from "../reports/csv.js";
import { isoInZone } from "../../domain/time-zone.js";
import { REPORT_EVERY, REPORT_GROUPS, spansOverTwoYears } from "../reports/periods.js";
import { ReportReader, type ReportRow } from "../reports/report-reader.js";
import { REPORT_FORMATS, ReportRouteSchema, type ReportRowSchema, type ReportFormat, XLSX_MIME } from "../reports/schema.js";
import { reportWorkbook } from "../reports/xlsx.js";
import { routePlugin } from "../route-plugin.js";
import { resolveRange } from "../time.js";

const DAY_MS = 86_400_000;
/** Weeks and months: at most ten years per report (520 weekly reads; a bound on one request's work). */
const MAX_SPAN_MS = 3_653 * DAY_MS;

const ALLOWED: Record<string, readonly string[]> = { by: REPORT_GROUPS, every: REPORT_EVERY, format: REPORT_FORMATS };

/** Query errors in words: "by must be one of site, building, room" rather than the schema's anyOf branches. */
function queryError(errors: FastifySchemaValidationError[]): Error {
  const field = errors[0]?.instancePath.replace(/^\//, "") ?? "";
  if (ALLOWED[field]) return new Error(`"${field}" must be one of ${ALLOWED[field].join(", ")}`);
  return new Error(errors.map((e) => `querystring${e.instancePath} ${e.message ?? "is invalid"}`).join("; "));
}

/** The format asked for: `format=`, else CSV when the client's Accept names text/csv, else JSON. */
function formatOf(format: ReportFormat | undefined, accept: string | undefined): ReportFormat {
  if (format !== undefined) return format;
  return accept !== undefined && /(^|,)\s*text\/csv\s*(;|,|$)/i.test(accept) ? "csv" : "json";
}

/** A row as JSON, CSV and the header agree on: instants as ISO 8601 with the site's offset. */
const cellsOf = (row: ReportRow): Static<typeof ReportRowSchema> => ({
  ...row,
  period_start: isoInZone(row.period_start, row.time_zone),
  peak_at: row.peak_at === null ? null : isoInZone(row.peak_at, row.time_zone),
});

export const reportRoutes = routePlugin("campus-power-reports", async (app, deps) => {
  const reader = new ReportReader(deps.influx, deps.campus);
  const clock = deps.now ?? Date.now;

  app.get("/api/reports/energy", { schema: ReportRouteSchema, schemaErrorFormatter: queryError }, async (request, reply) => {
    const q = request.query;
    const by = q.by ?? "building";
    const every = q.every ?? "month";
    const at = clock();
    const { fromMs, toMs } = resolveRange(q, at);
    if (every === "day" && spansOverTwoYears(fromMs, toMs)) throw apiError("TOO_MANY_POINTS", "every=day spans at most 2 years; use every=week or every=month");
    if (toMs - fromMs > MAX_SPAN_MS) throw apiError("TOO_MANY_POINTS", "a report spans at most 10 years");
    const sites = request.scope!.narrow(q.site).siteCampuses();
    // Another site is, to a principal scoped elsewhere, what an unknown one is (CONTRACT §9): 404 alike.
    if (q.site !== undefined && sites.length === 0) throw apiError("NOT_FOUND", `no site "${q.site}"`);
    const read = await reader.read({ by, every, fromMs, toMs, sites }, at);
    const format = formatOf(q.format, request.headers.accept);
    if (format === "json") return { every, by, from: fromMs, to: toMs, rows: read.rows.map(cellsOf), counted_devices: read.counted };

    const zone = sites[0]?.site.timezone ?? "UTC";
    const label = sites.length === 1 ? sites[0]!.site.id : deps.campus.district.id;
    const name = `energy-${label}-${localDateOf(fromMs, zone)}-${localDateOf(toMs, zone)}`;
    if (format === "csv") {
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${name}.csv"`)
        .send(reportCsv(read.rows.map(cellsOf)));
    }
    return reply
      .type(XLSX_MIME)
      .header("content-disposition", `attachment; filename="${name}.xlsx"`)
      .send(await reportWorkbook(read.rows));
  });
});
