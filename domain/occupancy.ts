// When a building is occupied: the weekly schedules in the site's time zone that both the `after-hours`
// alert rule and the after-hours share of GET /api/energy judge by, so the two never disagree.
// The campus file sets one per building kind (`alerts.building_kinds.<kind>.occupied`, docs/alerts.md).
import type { AlertsConfig, OccupiedPeriod } from "./campus-alerts.js";

/** Defaults of the kinds with lessons or office hours, Monday to Friday. */
export const DEFAULT_SCHEDULES: Readonly<Record<string, readonly OccupiedPeriod[]>> = {
  classroom: [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60, toMin: 22 * 60 }],
  office: [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60 + 30, toMin: 18 * 60 + 30 }],
};

/** School hours, Monday to Friday 07:00–18:00: the energy split of a kind with no schedule of its own. */
export const SCHOOL_HOURS: readonly OccupiedPeriod[] = [{ days: [1, 2, 3, 4, 5], fromMin: 7 * 60, toMin: 18 * 60 }];

/** The campus file's schedule for a building kind, else the kind's default; null when it has neither. */
export function scheduleOf(alerts: AlertsConfig, kind: string): readonly OccupiedPeriod[] | null {
  return alerts.buildingKinds[kind]?.occupied ?? DEFAULT_SCHEDULES[kind] ?? null;
}

/** Whether a local weekday (0 = Sunday) + minute of the day falls in one of the periods ([from, to); to ≤ from spans midnight). */
export function isOccupied(periods: readonly OccupiedPeriod[], weekday: number, minute: number): boolean {
  return periods.some((p) =>
    p.toMin > p.fromMin
      ? p.days.includes(weekday) && minute >= p.fromMin && minute < p.toMin
      : (p.days.includes(weekday) && minute >= p.fromMin) || (p.days.includes((weekday + 6) % 7) && minute < p.toMin),
  );
}
