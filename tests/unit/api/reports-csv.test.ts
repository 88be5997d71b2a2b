import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REPORT_COLUMNS, type ReportCells } from "../../../api/reports/columns.js";
import { csvField, reportCsv, UTF8_BOM } from "../../../api/reports/csv.js";

/** The one field of a line, read back by RFC 4180's grammar (escaped = DQUOTE *(TEXTDATA / COMMA / CR / LF / 2DQUOTE) DQUOTE). */
function readField(text: string): string {
  if (!text.startsWith('"')) {
    expect(text).not.toMatch(/[",\r\n]/);
    return text;
  }
  expect(text.endsWith('"')).toBe(true);
  const inner = text.slice(1, -1);
  expect(inner.replace(/""/g, "")).not.toContain('"');
  return inner.replace(/""/g, '"');
}

describe("CSV fields (RFC 4180)", () => {
  it("quote a field with a comma, a double quote or a line break, doubling inner quotes", () => {
    expect(csvField('东教学楼 "A", Classrooms')).toBe('"东教学楼 ""A"", Classrooms"');
    expect(csvField("line\r\nbreak")).toBe('"line\r\nbreak"');
    expect(csvField("宿舍楼")).toBe("宿舍楼");
    expect(csvField(12.5)).toBe("12.5");
    expect(csvField(null)).toBe("");
  });

  it("read back as the same text, whatever it holds", () => {
    const text = fc.array(fc.constantFrom("a", "楼", ",", '"', "\r", "\n", " ", "1")).map((chars) => chars.join(""));
    fc.assert(
      fc.property(text, (value) => {
        expect(readField(csvField(value))).toBe(value);
      }),
    );
  });
});

describe("a CSV report", () => {
  it("starts with the UTF-8 BOM and the header, and ends every line with CRLF", () => {
    const row = Object.fromEntries(REPORT_COLUMNS.map((c) => [c, c === "kwh" ? 1.5 : c === "peak_at" ? null : `x ${c}`])) as ReportCells;
    const text = reportCsv([row]);
    expect(text.startsWith(UTF8_BOM)).toBe(true);
    expect(Buffer.from(text, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = text.slice(1).split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(REPORT_COLUMNS.join(","));
    expect(lines[1]!.split(",")[REPORT_COLUMNS.indexOf("kwh")]).toBe("1.5");
    expect(lines[1]!.split(",")[REPORT_COLUMNS.indexOf("peak_at")]).toBe("");
    expect(lines[2]).toBe("");
  });
});
