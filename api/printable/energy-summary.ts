// The month's energy of one school from what EnergyReader (../energy-report.ts) answers: the buildings' rows
// against the previous month, the school's totals and after-hours share, its worst buildings after hours, and
// its kWh per local day for the chart. Pure.
import type { Building } from "../../domain/campus.js";
import type { SchoolCalendar } from "../../domain/calendar.js";
import { localDateOf } from "../../domain/calendar.js";
import { share } from "../energy-math.js";
import type { SiteSeries } from "../energy-report.js";
import type { BuildingRow, DayBar } from "./model.js";
import { dayKind } from "./month.js";

/** Change in per cent, to 0.1 %; null without a previous figure to compare with (0 kWh is none). */
export function changePct(current: number, previous: number | null): number | null {
  if (previous === null || previous <= 0) return null;
  return Math.round(((current - previous) / previous) * 1000) / 10;
}

const round = (kwh: number) => Math.round(kwh * 1e6) / 1e6;

export interface MonthEnergy {
  buildings: BuildingRow[];
  worstAfterHours: BuildingRow[];
  totalKwh: number;
  previousKwh: number;
  changePct: number | null;
  afterHoursKwh: number;
  afterHoursShare: number | null;
  days: DayBar[];
}

/** How many buildings the after-hours section names (issue 13: "its worst buildings", top 3). */
export const WORST_BUILDINGS = 3;

/**
 * `month`: per building per day with the after-hours split; `previous`: per building over the month before
 * (any buckets, summed). Buildings in the campus file's order; every building of the school has a row.
 */
export function monthEnergy(
  buildings: readonly Building[],
  month: readonly SiteSeries[],
  previous: readonly SiteSeries[],
  days: readonly string[],
  timeZone: string,
  calendar: SchoolCalendar | null,
): MonthEnergy {
  const now = new Map(month.map((s) => [s.key, s]));
  const before = new Map(previous.map((s) => [s.key, s.total_kwh]));
  const rows = buildings.map((b): BuildingRow => {
    const series = now.get(b.id);
    const kwh = series?.total_kwh ?? null;
    const previousKwh = before.get(b.id) ?? null;
    return {
      id: b.id,
      name: b.name,
      kwh,
      previousKwh,
      changePct: kwh === null ? null : changePct(kwh, previousKwh),
      afterHoursKwh: series?.after_hours_kwh ?? null,
      afterHoursShare: series?.after_hours_share ?? null,
    };
  });
  const perDay = new Map<string, number>();
  for (const series of month) {
    for (const [startMs, kwh] of series.points) {
      const date = localDateOf(startMs, timeZone);
      perDay.set(date, (perDay.get(date) ?? 0) + kwh);
    }
  }
  const totalKwh = round(rows.reduce((sum, r) => sum + (r.kwh ?? 0), 0));
  const afterHoursKwh = round(rows.reduce((sum, r) => sum + (r.afterHoursKwh ?? 0), 0));
  const previousKwh = round(rows.reduce((sum, r) => sum + (r.previousKwh ?? 0), 0));
  return {
    buildings: rows,
    worstAfterHours: rows
      .filter((r) => (r.afterHoursKwh ?? 0) > 0)
      .sort((a, b) => b.afterHoursKwh! - a.afterHoursKwh! || a.id.localeCompare(b.id))
      .slice(0, WORST_BUILDINGS),
    totalKwh,
    previousKwh,
    changePct: changePct(totalKwh, previousKwh),
    afterHoursKwh,
    afterHoursShare: share(afterHoursKwh, totalKwh),
    days: days.map((date) => ({ date, kind: dayKind(calendar, date), kwh: perDay.has(date) ? round(perDay.get(date)!) : null })),
  };
}
