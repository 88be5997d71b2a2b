// Which schedule runs are due now (CONTRACT §10 schedules), pure: the wall clock is a parameter. A run is
// carried out only when the service sees it within its own minute; one it did not see in time is missed,
// reported and never run late: a lights-out at 23:00 must not fire at 07:00 because the service was down
// all night, nor because the clock jumped or the process stalled. No run happens twice. In a district every
// school's schedules run in that school's time zone (CONTRACT §9, §10).
import type { Campus } from "../../domain/campus.js";
import { runsBetween, type ScheduleRun } from "../../domain/campus/schedule-times.js";
import { scheduleTargets } from "../../domain/campus/schedules.js";
import type { CommandOrder } from "../commands/book.js";

/** A run seen later than this after its instant is missed: "at each schedule's minute", ms. */
export const LATE_LIMIT_MS = 60_000;
/** How far back the runs missed while the service was down are listed, ms (a week: every schedule's cycle). */
export const MISSED_LOOKBACK_MS = 7 * 86_400_000;
/**
 * A clock that goes back less than this (an NTP step) keeps the runs already done from repeating: they
 * come again only once the clock passes where it was. One that goes back further was wrong before, and
 * the runs from now on count, ms.
 */
export const CLOCK_BACK_LIMIT_MS = 3_600_000;

export interface ScheduleClock {
  /** Every run up to this instant is done or missed, epoch ms (saved, so a restart knows what it missed). */
  checkedUntil: number;
  /** The wall clock at the last check, epoch ms: a clock going back is told once. */
  lastNow: number;
}

/** A run and the campus of the site whose schedule it is. */
export interface SiteRun extends ScheduleRun {
  site: Campus;
}

export interface ScheduleCheck {
  clock: ScheduleClock;
  due: SiteRun[];
  missed: SiteRun[];
  /** The wall clock went back by this much since the last check, ms. */
  clockWentBackMs?: number;
}

/**
 * At start: only runs from now on count. The runs between the last check an earlier run saved (null: none)
 * and now were missed while the service was down; they are listed (the last week's), not run.
 */
export function startSchedules(campus: Campus, savedCheckedUntil: number | null, now: number): ScheduleCheck {
  const from = savedCheckedUntil === null ? now : Math.max(savedCheckedUntil, now - MISSED_LOOKBACK_MS);
  return { clock: { checkedUntil: now, lastNow: now }, due: [], missed: siteRunsBetween(campus, from, now) };
}

/** Every site's runs in (afterMs, untilMs], each in its site's zone, by instant (the district file's order at the same instant). */
function siteRunsBetween(campus: Campus, afterMs: number, untilMs: number): SiteRun[] {
  const runs = campus.sites.flatMap((site) => runsBetween(site.schedules, site.site.timezone, afterMs, untilMs, site.calendar).map((run) => ({ ...run, site })));
  return runs.sort((a, b) => a.at - b.at);
}

/** The wall-clock tick: the runs since the last check, due or (seen too late) missed. */
export function checkSchedules(campus: Campus, clock: ScheduleClock, now: number): ScheduleCheck {
  const back = clock.lastNow - now;
  const wentBack = back > 0 ? { clockWentBackMs: back } : {};
  // Back a little: what was done stays done. Back a lot: the clock was wrong, and only from now on counts.
  const checkedUntil = back >= CLOCK_BACK_LIMIT_MS ? now : clock.checkedUntil;
  if (now <= checkedUntil) return { clock: { checkedUntil, lastNow: now }, due: [], missed: [], ...wentBack };
  const runs = siteRunsBetween(campus, checkedUntil, now);
  const due = runs.filter((r) => now - r.at < LATE_LIMIT_MS);
  const missed = runs.filter((r) => now - r.at >= LATE_LIMIT_MS);
  return { clock: { checkedUntil: now, lastNow: now }, due, missed, ...wentBack };
}

/** The orders a run gives: one per device it reaches, issued by `schedule:{id}` with the run in words. */
export function runOrders(run: SiteRun): CommandOrder[] {
  const { schedule, site } = run;
  const reason = `${schedule.name} (schedule ${schedule.id}, ${run.date} ${schedule.at} ${site.site.timezone})`;
  return scheduleTargets(site, schedule).map((device) => ({ device: device.id, action: schedule.action, reason, by: `schedule:${schedule.id}` }));
}

/** A run in words for the log: `lights-out at 2030-01-07 23:00 (Asia/Shanghai)`. */
export const describeRun = (run: SiteRun) => `${run.schedule.id} at ${run.date} ${run.schedule.at} (${run.site.site.timezone})`;
