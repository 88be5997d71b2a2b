// InfluxDB line protocol, pure. Millisecond precision (CONTRACT §4). Same series + same timestamp
// overwrite each other in InfluxDB, which is what makes redelivered readings idempotent.

export type FieldValue = number | boolean | string;
export interface Point {
  measurement: string;
  tags: Record<string, string | null | undefined>;
  fields: Record<string, FieldValue | undefined>;
  /** Epoch milliseconds. */
  ts: number;
}

const escapeMeasurement = (s: string) => s.replace(/[,\s\\]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
const escapeKey = (s: string) => s.replace(/[,=\s\\]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
const escapeString = (s: string) => s.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");

function formatField(value: FieldValue): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return `"${escapeString(value)}"`;
  // A bare number is a float in line protocol; never write the `i` suffix, so a field keeps one type
  // forever (CONTRACT §4) even when a device sends 220 once and 220.5 the next time.
  return String(value);
}

// Tag keys and values, field keys and measurements repeat on every point: escape each once. Bounded, so a
// stream of unique tag values (there should be none) cannot grow it without limit.
const NEEDS_ESCAPE = /[,=\s\\]/;
const escaped = new Map<string, string>();
function escapeKeyCached(s: string): string {
  let out = escaped.get(s);
  if (out === undefined) {
    out = NEEDS_ESCAPE.test(s) ? escapeKey(s) : s;
    if (escaped.size >= 10_000) escaped.clear();
    escaped.set(s, out);
  }
  return out;
}

/** One point as a line; null when it has no field (InfluxDB would reject the whole batch). */
export function toLine(point: Point): string | null {
  let fieldPart = "";
  for (const key of Object.keys(point.fields)) {
    const value = point.fields[key];
    if (value === undefined || (typeof value === "number" && !Number.isFinite(value))) continue;
    fieldPart += `${fieldPart === "" ? "" : ","}${escapeKeyCached(key)}=${formatField(value)}`;
  }
  if (fieldPart === "") return null;
  let tagPart = "";
  // InfluxDB's canonical tag order; cheaper for the server to parse.
  for (const key of Object.keys(point.tags).sort()) {
    const value = point.tags[key];
    if (value === undefined || value === null || value === "") continue;
    tagPart += `,${escapeKeyCached(key)}=${escapeKeyCached(value)}`;
  }
  return `${escapeMeasurement(point.measurement)}${tagPart} ${fieldPart} ${Math.round(point.ts)}`;
}

export function toLines(points: readonly Point[]): string {
  const lines: string[] = [];
  for (const p of points) {
    const line = toLine(p);
    if (line !== null) lines.push(line);
  }
  return lines.join("\n");
}
