// An energy report as an Excel workbook (exceljs): the same columns as the JSON rows and the CSV, numbers as
// numbers with a display format (kWh and kW to 0.001, the after-hours share as a percentage), instants as
// real Excel dates shown in the site's local time, the header row frozen and bold, columns wide enough.
// exceljs is loaded at the first workbook asked for, not when the API starts: it and the zip and XML libraries
// under it were 638 of the 1,437 CommonJS modules `up`'s main thread loaded (2.8 of 6.7 MB of source), 8 MB
// of its heap idle, for the life of a process that may never write a workbook.
import { zoneOffsetMs } from "../../domain/time-zone.js";
import { REPORT_COLUMNS, type ReportColumn } from "./columns.js";
import type { ReportRow } from "./report-reader.js";

const DATE_FORMAT = "yyyy-mm-dd hh:mm";
const FORMATS: Partial<Record<ReportColumn, string>> = {
  kwh: "0.000",
  after_hours_kwh: "0.000",
  after_hours_share: "0.0%",
  peak_kw: "0.000",
  baseline_kwh: "0.000",
  change_pct: "0.00",
  period_start: DATE_FORMAT,
  peak_at: DATE_FORMAT,
};
/** Widths in characters: ids and names are long, figures short. */
const WIDTHS: Partial<Record<ReportColumn, number>> = { key: 24, name: 28, site: 16, period_start: 18, peak_at: 18, time_zone: 18 };

/**
 * An instant as an Excel date showing the site's wall clock. Excel dates have no time zone: exceljs stores a
 * Date as its UTC calendar time, so the instant is moved by the zone's offset at that instant first
 * (2026-11-01T00:00+08:00 shows as 2026-11-01 00:00, not 2026-10-31 16:00).
 */
export const excelLocalDate = (ms: number, timeZone: string) => new Date(ms + zoneOffsetMs(ms, timeZone));

/** The workbook's bytes: one sheet, `energy`, a row per report row. */
export async function reportWorkbook(rows: readonly ReportRow[]): Promise<Buffer> {
  const { default: ExcelJS } = await import("exceljs");
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "campus-power";
  const sheet = workbook.addWorksheet("energy", { views: [{ state: "frozen", ySplit: 1 }] });
  sheet.columns = REPORT_COLUMNS.map((column) => ({
    header: column,
    key: column,
    width: WIDTHS[column] ?? 14,
    ...(FORMATS[column] ? { style: { numFmt: FORMATS[column] } } : {}),
  }));
  sheet.getRow(1).font = { bold: true };
  for (const row of rows) {
    sheet.addRow({
      ...row,
      period_start: excelLocalDate(row.period_start, row.time_zone),
      peak_at: row.peak_at === null ? null : excelLocalDate(row.peak_at, row.time_zone),
    });
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
