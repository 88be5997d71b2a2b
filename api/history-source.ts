// Where a history query reads from: raw points, or the ingest's rollups (retention policies
// `rollup_1m`, `rollup_1h`, see docs/api.md) when the bucket is at least that long, so that a 30-day
// query reads 720 hourly points per series instead of every reading. A rollup is complete only some
// time after its bucket ends, so the newest part of a range always comes from raw points. Without
// rollup RPs (InfluxDB 2.x/3.x, or before the ingest created them) everything reads raw.
// When a rollup is complete is the ingest's word as much as ours (infra/energy-rollup.ts ROLLUPS): a point
// stored after its window is trusted is rolled up again by the ingest within seconds
// (ingest/rollup-catchup.ts), and until then its hour is marked stale and read from raw points here.
import { HOUR_MS, ROLLUPS } from "../infra/energy-rollup.js";
import { type InfluxClient, quoteIdentifier } from "../infra/influx.js";

export { ROLLUPS } from "../infra/energy-rollup.js";
export const RAW = "raw";

export interface Segment {
  /** The retention policy to read, or RAW for the database's default one. */
  rp: string;
  fromMs: number;
  toMs: number;
}

export interface Range {
  fromMs: number;
  toMs: number;
}

/**
 * [fromMs, toMs) less the hours whose rollups are stale (infra/energy-rollup.ts readStaleHours), each widened
 * to whole buckets by `align` (so no bucket is split between a rollup and raw points): the parts the rollups
 * serve, and the stale parts, which raw points serve. Pure.
 */
export function splitAtStale(
  range: Range,
  staleHours: readonly number[],
  bucketMs: number,
  align: (ms: number) => number = (ms) => Math.floor(ms / bucketMs) * bucketMs,
): { fresh: Range[]; stale: Range[] } {
  const stale: Range[] = [];
  for (const hour of staleHours) {
    // The next bucket's start, from the one holding the hour's last millisecond (1.5 buckets on: days of 23 or 25 h).
    const from = Math.max(range.fromMs, align(hour));
    const to = Math.min(range.toMs, align(align(hour + HOUR_MS - 1) + 1.5 * bucketMs));
    if (from >= to) continue;
    const last = stale.at(-1);
    if (last && from <= last.toMs) last.toMs = Math.max(last.toMs, to);
    else stale.push({ fromMs: from, toMs: to });
  }
  const fresh: Range[] = [];
  let at = range.fromMs;
  for (const part of stale) {
    if (part.fromMs > at) fresh.push({ fromMs: at, toMs: part.fromMs });
    at = part.toMs;
  }
  if (at < range.toMs) fresh.push({ fromMs: at, toMs: range.toMs });
  return { fresh, stale };
}

/**
 * Splits [fromMs, toMs) into segments: the coarsest rollup whose bucket divides `bucketMs` for the part
 * older than its cutoff (aligned down by `align`, so no bucket is split between the two) except the hours
 * late points made stale (`staleHours`, ascending), and raw points for the rest, in time order.
 */
export function planSegments(
  range: Range,
  bucketMs: number,
  available: ReadonlySet<string>,
  now: number,
  align?: (ms: number) => number,
  staleHours: readonly number[] = [],
): Segment[] {
  const rollup = ROLLUPS.find((r) => available.has(r.rp) && bucketMs >= r.bucketMs && bucketMs % r.bucketMs === 0);
  if (!rollup) return [{ rp: RAW, fromMs: range.fromMs, toMs: range.toMs }];
  const cutoff = Math.min(range.toMs, (align ?? ((ms) => ms))(Math.floor((now - rollup.lagMs) / rollup.bucketMs) * rollup.bucketMs));
  if (cutoff <= range.fromMs) return [{ rp: RAW, fromMs: range.fromMs, toMs: range.toMs }];
  const { fresh, stale } = splitAtStale({ fromMs: range.fromMs, toMs: cutoff }, staleHours, bucketMs, align);
  const segments: Segment[] = [...fresh.map((r) => ({ rp: rollup.rp, ...r })), ...stale.map((r) => ({ rp: RAW, ...r }))];
  if (cutoff < range.toMs) segments.push({ rp: RAW, fromMs: cutoff, toMs: range.toMs });
  return segments.sort((a, b) => a.fromMs - b.fromMs);
}

/** `FROM` of a segment: the rollup RP's measurement, or the plain measurement (default RP). */
export const fromClause = (segment: Segment, measurement = "electrical") =>
  segment.rp === RAW ? quoteIdentifier(measurement) : `${quoteIdentifier(segment.rp)}.${quoteIdentifier(measurement)}`;

/** Caches which rollup RPs the database has (checked at most once a minute). */
export class RetentionPolicies {
  private cached: { at: number; names: Set<string> } | null = null;

  constructor(
    private readonly influx: InfluxClient,
    private readonly ttlMs = 60_000,
  ) {}

  async available(now: number): Promise<Set<string>> {
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.names;
    let names = new Set<string>();
    try {
      const series = await this.influx.query(`SHOW RETENTION POLICIES ON ${quoteIdentifier(this.influx.config.db)}`);
      for (const s of series) {
        const nameIndex = s.columns.indexOf("name");
        for (const row of s.values) if (typeof row[nameIndex] === "string") names.add(row[nameIndex] as string);
      }
    } catch {
      names = new Set(); // no RPs on this server (2.x/3.x) or the database is missing: raw only
    }
    this.cached = { at: now, names };
    return names;
  }
}
