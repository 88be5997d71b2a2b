// View 2 of the energy page: the school's hourly load on a chosen day (its buildings' kWh per hour,
// summed: the hour's mean kW) against the average of the same weekday over the 4 weeks before, which is
// what a facilities manager calls "a normal Tuesday". An hour without data in a week (before the history
// starts) is left out of that hour's average rather than counted as zero.
import { linesSvg } from "./charts/lines.js";
import { legendHtml } from "./charts/svg.js";
import { dayName, hourSpan, kwh, weekdayName } from "./energy-format.js";
import { addDays, wallClock } from "./energy-time.js";
import { escape } from "./format.js";
import { t } from "./i18n.js";

/** How many same weekdays before the chosen day the average takes. */
export const WEEKS_AVERAGED = 4;
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

const HOUR_MS = 3_600_000;

/**
 * `Map(date → (kWh|null)[24])`: the school's kWh per local hour of each date of an every=1h answer, hours
 * that have ended by `now` only (the running hour's few minutes would draw a drop that is not there).
 */
function hoursByDate(body, now) {
  const days = new Map();
  for (const series of body.series) {
    for (const [start, value] of series.points) {
      if (start + HOUR_MS > now) continue;
      const { date, hour } = wallClock(start, series.time_zone);
      if (!days.has(date)) days.set(date, new Array(24).fill(null));
      const hours = days.get(date);
      hours[hour] = (hours[hour] ?? 0) + value; // a 25-hour day's repeated hour adds up
    }
  }
  return days;
}

/** Each hour's mean over the weeks that have a figure for it (a week whose data starts at noon counts from noon). */
function averageOf(weeks) {
  return HOURS.map((hour) => {
    const known = weeks.map((week) => week[hour]).filter((v) => typeof v === "number");
    return known.length === 0 ? null : known.reduce((sum, v) => sum + v, 0) / known.length;
  });
}

/** The first date the curve needs data from, for the chosen `date`. */
export const curveFirstDate = (date) => addDays(date, -7 * WEEKS_AVERAGED);

/** The chart of `date` against its weekday's average, from an every=1h answer since `curveFirstDate(date)`, as of `now`. */
export function curveHtml({ body, date, width, now }) {
  const days = hoursByDate(body, now);
  const chosen = days.get(date) ?? new Array(24).fill(null);
  const weeks = Array.from({ length: WEEKS_AVERAGED }, (_, i) => days.get(addDays(date, -7 * (i + 1)))).filter(Boolean);
  const average = averageOf(weeks);
  const dayText = dayName(date);
  const averageText = t("weekday_average", { weekday: weekdayName(date), n: weeks.length });
  const columns = HOURS.map((hour) => ({
    tick: String(hour),
    label: `${hourSpan(hour)}\n${dayText}: ${kwh(chosen[hour])} kW\n${averageText}: ${kwh(average[hour])} kW`,
  }));
  const series = [
    { key: "average", colour: "#7a8794", dashed: true, values: average },
    { key: "day", colour: "#0072b2", values: chosen },
  ];
  const chart = linesSvg({ width, title: `${t("load_curve")}: ${dayText}`, series, columns, valueText: (v) => kwh(v, 0) });
  const legend = legendHtml([
    { colour: "#0072b2", name: dayText },
    { className: "dashed", name: averageText },
  ]);
  const note = weeks.length === 0 ? `<p class="muted">${escape(t("no_earlier_weeks"))}</p>` : "";
  return `${chart}${legend}${note}`;
}
