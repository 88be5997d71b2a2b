// The school's maximum demand of the month (CONTRACT §11 `peak_kw`: the largest 15-minute mean power, and the
// start of that window) from the Reports part's PeakDemandReader (../reports/peak-demand.ts), asked per site
// and month. The report needs only its `read`.
import type { PeakDemandReader, PeakRow } from "../reports/peak-demand.js";

export type PeakSource = Pick<PeakDemandReader, "read">;

/** The school's largest row (a month asked per month is one row), or null when it has no power data. */
export function sitePeak(rows: readonly PeakRow[], site: string): { kw: number; at: number } | null {
  let best: PeakRow | null = null;
  for (const row of rows) if (row.key === site && (best === null || row.peak_kw > best.peak_kw)) best = row;
  return best === null ? null : { kw: best.peak_kw, at: best.peak_at };
}
