// The columns of an energy report, in order: the JSON row's fields (CONTRACT §11 and the extensions `site`
// and `time_zone`), the CSV header and the workbook's header, so the three formats always agree.
export const REPORT_COLUMNS = [
  "key",
  "name",
  "site",
  "period_start",
  "kwh",
  "after_hours_kwh",
  "after_hours_share",
  "peak_kw",
  "peak_at",
  "baseline_kwh",
  "change_pct",
  "time_zone",
] as const;
export type ReportColumn = (typeof REPORT_COLUMNS)[number];

/** A row as the formats see it: ISO text for instants, null for a figure that has no value. */
export type ReportCells = Record<ReportColumn, string | number | null>;
