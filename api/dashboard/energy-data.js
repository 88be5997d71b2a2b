// What the energy views ask the API for the school in view, and which school that is: GET /api/energy
// (CONTRACT §6: kWh from positive counter deltas, intervals from midnight in the site's zone) and, for
// the after-hours share per day, GET /api/reports/energy (CONTRACT §11).
import { api } from "./session.js";
import { district, siteById, withSite } from "./sites.js";
import { addDays, midnightOf } from "./energy-time.js";

/** The school the energy page is about: the one chosen, or the only one of a principal of one school. */
export const schoolInView = () => (district.current ? siteById(district.current) : district.sites[0]) ?? null;

/** Its IANA zone (the browser's until /api/sites answered) and calendar (null: Monday–Friday are school days). */
export const zoneInView = () => schoolInView()?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
export const calendarInView = () => schoolInView()?.calendar ?? null;

/** The JSON a GET answers, or throws an Error whose message is the HTTP status (or "network"), for the view to show. */
async function answerOf(path) {
  const response = await api(path).catch(() => null);
  if (!response?.ok) throw new Error(String(response?.status ?? "network"));
  return response.json();
}

const energy = (query) => answerOf(withSite(`/api/energy?${new URLSearchParams(query)}`));

/** kWh per building per day over `dates` (local, oldest first; the last one up to now). */
export const dailyByBuilding = (dates, timeZone, now) => energy({ by: "building", every: "1d", from: midnightOf(dates[0], timeZone), to: Math.min(now, midnightOf(addDays(dates.at(-1), 1), timeZone)) });

/** kWh per building per hour from the start of the first date to the end of the last (or now). */
export const hourlyByBuilding = (firstDate, lastDate, timeZone, now) =>
  energy({ by: "building", every: "1h", from: midnightOf(firstDate, timeZone), to: Math.min(now, midnightOf(addDays(lastDate, 1), timeZone)) });

/**
 * Each building's after-hours share per day, from the Reports API (GET /api/reports/energy, CONTRACT §11:
 * a row per building and day with `after_hours_kwh` and `after_hours_share`, the calendar applied), in one
 * request: /api/energy gives that split only per whole answer. `Map(date → Map(building → {kwh, share}))`,
 * the date local to the row's site (its `period_start` is written with the site's offset).
 */
export async function afterHoursByDay(site, fromMs, toMs) {
  const query = new URLSearchParams({ every: "day", by: "building", from: String(fromMs), to: String(toMs), ...(site ? { site } : {}) });
  const days = new Map();
  for (const row of (await answerOf(`/api/reports/energy?${query}`)).rows) {
    const date = row.period_start.slice(0, 10);
    if (!days.has(date)) days.set(date, new Map());
    days.get(date).set(row.key, { kwh: row.kwh, share: row.after_hours_share });
  }
  return days;
}
