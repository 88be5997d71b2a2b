// View 4 of the energy page: each building's after-hours share per day (kWh outside its kind's occupied
// hours on school days, and all of a day off: CONTRACT §11), one small chart per building on one 0–100 %
// scale, with weekends, holidays and vacations shaded from the school's calendar: a building that keeps
// burning over a holiday stands out as a row of full bars in a shaded stretch.
import { stackedBarsSvg } from "./charts/bars.js";
import { legendHtml } from "./charts/svg.js";
import { dayOffLegend } from "./energy-daily.js";
import { dayTick, dayWithKind, kwh, percent } from "./energy-format.js";
import { dayKind, isDayOff } from "./energy-time.js";
import { escape } from "./format.js";
import { t } from "./i18n.js";

/**
 * `series`: the buildings of the daily answer (their share over the whole range); `byDay`:
 * `Map(date → Map(building → {kwh, share}))` (energy-data.js afterHoursByDay); `dates` oldest first.
 */
export function afterHoursHtml({ series, byDay, dates, calendar, colours, width }) {
  const charts = series.map((s) => {
    const name = s.name ?? s.key;
    const days = dates.map((date) => {
      const kind = dayKind(calendar, date);
      const used = byDay.get(date)?.get(s.key);
      const share = typeof used?.share === "number" ? used.share : 0;
      const label = `${name} · ${dayWithKind(date, kind)}\n${t("after_hours_of", { share: percent(used?.share), kwh: kwh(used?.kwh) })}`;
      return { date, kind, tick: dayTick(date), label, segments: [{ building: s.key, value: share, colour: colours.get(s.key) }] };
    });
    const chart = stackedBarsSvg({ width, height: 120, title: `${t("after_hours_share")}: ${name}`, days, isDayOff, valueText: (v) => percent(v), max: 1 });
    return `<figure class="after-hours-row" data-building="${escape(s.key)}"><figcaption>${escape(name)} <span class="muted">${escape(t("over_range", { share: percent(s.after_hours_share) }))}</span></figcaption>${chart}</figure>`;
  });
  return `${legendHtml(dayOffLegend())}${charts.join("")}`;
}
