// Where a history query reads from: raw points, or the ingest's rollups (retention policies
// `rollup_1m`, `rollup_1h`, see docs/api.md) when the bucket is at least that long, so that a 30-day
// query reads 720 hourly points per series instead of every reading. A rollup is complete only some
// time after its bucket ends, so the newest part of a range always comes from raw points. Without
// rollup RPs (InfluxDB 2.x/3.x, or before the ingest created them) everything reads raw.
import { type InfluxClient, quoteIdentifier } from "../infra/influx.js";

export const RAW = "raw";
export const ROLLUPS = [
  // [rp, bucket length, how long after a bucket's end it is taken as complete]
  { rp: "rollup_1h", bucketMs: 3_600_000, lagMs: 3_600_000 },
  { rp: "rollup_1m", bucketMs: 60_000, lagMs: 120_000 },
] as const;

export interface Segment {
  /** The retention policy to read, or RAW for the database's default one. */
  rp: string;
  fromMs: number;
  toMs: number;
}

/**
 * Splits [fromMs, toMs) into at most two segments: the coarsest rollup whose bucket divides `bucketMs`
 * for the part older than its cutoff (aligned down by `align`, so no bucket is split between the two),
 * and raw points for the rest.
 */
export function planSegments(
  range: { fromMs: number; toMs: number },
  bucketMs: number,
  available: ReadonlySet<string>,
  now: number,
  align: (ms: number) => number = (ms) => ms,
): Segment[] {
  const rollup = ROLLUPS.find((r) => available.has(r.rp) && bucketMs >= r.bucketMs && bucketMs % r.bucketMs === 0);
  if (!rollup) return [{ rp: RAW, fromMs: range.fromMs, toMs: range.toMs }];
  const cutoff = Math.min(range.toMs, align(Math.floor((now - rollup.lagMs) / rollup.bucketMs) * rollup.bucketMs));
  if (cutoff <= range.fromMs) return [{ rp: RAW, fromMs: range.fromMs, toMs: range.toMs }];
  const segments: Segment[] = [{ rp: rollup.rp, fromMs: range.fromMs, toMs: cutoff }];
  if (cutoff < range.toMs) segments.push({ rp: RAW, fromMs: cutoff, toMs: range.toMs });
  return segments;
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
