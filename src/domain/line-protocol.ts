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

/** One point as a line; null when it has no field (InfluxDB would reject the whole batch). */
export function toLine(point: Point): string | null {
  const tagPart = Object.keys(point.tags)
    .filter((k) => point.tags[k] !== undefined && point.tags[k] !== null && point.tags[k] !== "")
    .sort() // InfluxDB's canonical tag order; cheaper for the server to parse
    .map((k) => `,${escapeKey(k)}=${escapeKey(point.tags[k] as string)}`)
    .join("");
  const fieldPart = Object.keys(point.fields)
    .filter((k) => point.fields[k] !== undefined && !(typeof point.fields[k] === "number" && !Number.isFinite(point.fields[k])))
    .map((k) => `${escapeKey(k)}=${formatField(point.fields[k] as FieldValue)}`)
    .join(",");
  if (fieldPart === "") return null;
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
