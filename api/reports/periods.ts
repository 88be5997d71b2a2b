// The periods of an energy report (CONTRACT §11): days, ISO weeks (Monday) and calendar months, each
// starting at local midnight in its site's own time zone, so a 23- or 25-hour day of a daylight-saving
// change is one day. Also the ISO 8601 text of an instant with the zone's offset, the change against the
// baseline, sites grouped by zone, and a bounded map for a report's many small reads. No I/O, no clock.
import { energyBucket } from "../energy-math.js";

export const REPORT_EVERY = ["day", "week", "month"] as const;
export type ReportEvery = (typeof REPORT_EVERY)[number];
export const REPORT_GROUPS = ["site", "building", "room"] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

/** The `every` of /api/energy (and EnergyReader) for each report period. */
export const ENERGY_EVERY_OF = { day: "1d", week: "1w", month: "1mo" } as const satisfies Record<ReportEvery, string>;

const DAY_MS = 86_400_000;
/** Past the next period's start from any period's start, and inside the next period (days 23–25 h, months 28–31 days). */
const STEP_PAST_MS: Record<ReportEvery, number> = { day: 1.5 * DAY_MS, week: 10 * DAY_MS, month: 40 * DAY_MS };

export interface Period {
  startMs: number;
  endMs: number;
}

/** Start of the period holding `ms`: local midnight of its day, of its week's Monday, or of its month's first day. */
export const periodStart = (ms: number, every: ReportEvery, timeZone: string): number => energyBucket(ms, ENERGY_EVERY_OF[every], timeZone);

/** The period that starts at `startMs` (a period start). */
export function periodAt(startMs: number, every: ReportEvery, timeZone: string): Period {
  return { startMs, endMs: periodStart(startMs + STEP_PAST_MS[every], every, timeZone) };
}

/** The period just before the one starting at `startMs`: the previous day, week or calendar month. */
export function previousPeriod(startMs: number, every: ReportEvery, timeZone: string): Period {
  return { startMs: periodStart(startMs - 1, every, timeZone), endMs: startMs };
}

/** The whole periods that overlap [fromMs, toMs), oldest first: a report counts whole days, weeks and months. */
export function periodsOverlapping(fromMs: number, toMs: number, every: ReportEvery, timeZone: string): Period[] {
  const periods: Period[] = [];
  for (let start = periodStart(fromMs, every, timeZone); start < toMs; ) {
    const period = periodAt(start, every, timeZone);
    periods.push(period);
    start = period.endMs;
  }
  return periods;
}

/** (kwh − baseline) / baseline × 100, to 0.01 %; null when the baseline is missing or 0 (no ratio to speak of). */
export function changePct(kwh: number, baselineKwh: number | null): number | null {
  if (baselineKwh === null || baselineKwh === 0) return null;
  return Math.round(((kwh - baselineKwh) / baselineKwh) * 1e4) / 100;
}

/** Whether [fromMs, toMs) spans more than two years (730 days and a leap day): too many days for one report. */
export const spansOverTwoYears = (fromMs: number, toMs: number) => toMs - fromMs > 731 * DAY_MS;


/** `task` over `items`, at most `limit` at once, the answers in the items' order (a report's reads are many and small). */
export async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await task(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
