// An energy report as CSV (RFC 4180): a header row of the row field names, one line per row, CRLF line
// ends (§2.1), fields holding a comma, a double quote or a line break enclosed in double quotes with inner
// quotes doubled (§2.6, §2.7); an empty field for null. Building and room names may hold any of these, and
// Chinese. Pure.
import { REPORT_COLUMNS, type ReportCells } from "./columns.js";

/**
 * The UTF-8 byte order mark. Excel opens a CSV file in the system's ANSI code page (GBK on a Chinese
 * Windows) unless the file starts with it, and Chinese names then turn into mojibake; with it, Excel reads
 * UTF-8. Other CSV readers skip it (RFC 3629 §6 allows it as a signature).
 */
export const UTF8_BOM = "\uFEFF";

const NEEDS_QUOTES = /[",\r\n]/;

/** One field: quoted when it must be (RFC 4180 §2.6), inner quotes doubled (§2.7). */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The whole document, BOM first. */
export function reportCsv(rows: readonly ReportCells[]): string {
  const lines = [REPORT_COLUMNS.join(","), ...rows.map((row) => REPORT_COLUMNS.map((column) => csvField(row[column])).join(","))];
  return `${UTF8_BOM}${lines.join("\r\n")}\r\n`;
}
