// View 1 of the energy page: kWh per building per day as stacked bars (a day's height is the school's
// total, each building a segment in its colour; weekends, holidays and vacations shaded), and the same
// figures as a table (days newest first, each building's total and after-hours share at the foot).
import { stackedBarsSvg } from "./charts/bars.js";
import { legendHtml } from "./charts/svg.js";
import { dayName, dayTick, dayWithKind, kwh, percent } from "./energy-format.js";
import { dayKind, isDayOff, wallClock } from "./energy-time.js";
import { escape } from "./format.js";
import { t } from "./i18n.js";

/** The kinds of day the charts shade, for their legends. */
export const DAY_OFF_KINDS = ["weekend", "holiday", "vacation"];
export const dayOffLegend = () => DAY_OFF_KINDS.map((kind) => ({ className: `day-${kind}`, name: t(`day_${kind}`) }));

/** `Map(building → Map(date → kWh))` of an /api/energy every=1d answer, dates on its series' clock. */
export function kwhByDate(body) {
  return new Map(body.series.map((s) => [s.key, new Map(s.points.map(([start, value]) => [wallClock(start, s.time_zone).date, value]))]));
}

/** What a day's bar says: its date and kind, each building's kWh and the total. */
function dayLabel(date, kind, series, byDate) {
  const lines = series.map((s) => `${s.name ?? s.key}: ${kwh(byDate.get(s.key).get(date))} kWh`);
  const total = series.reduce((sum, s) => sum + (byDate.get(s.key).get(date) ?? 0), 0);
  return [dayWithKind(date, kind), ...lines, t("total_kwh", { kwh: kwh(total) })].join("\n");
}

/** The bars and their legend, for `dates` (oldest first) of the school with `calendar`, `width` CSS pixels wide. */
export function dailyChartHtml({ body, dates, calendar, colours, width }) {
  const byDate = kwhByDate(body);
  const days = dates.map((date) => {
    const kind = dayKind(calendar, date);
    return {
      date,
      kind,
      tick: dayTick(date),
      label: dayLabel(date, kind, body.series, byDate),
      segments: body.series.map((s) => ({ building: s.key, value: byDate.get(s.key).get(date) ?? 0, colour: colours.get(s.key) })),
    };
  });
  const chart = stackedBarsSvg({ width, title: t("kwh_per_day"), days, isDayOff, valueText: (v) => kwh(v, 0) });
  return `${chart}${legendHtml([...body.series.map((s) => ({ colour: colours.get(s.key), name: s.name ?? s.key })), ...dayOffLegend()])}`;
}

/** The table: days newest first (a day without any data left out), each building's total and after-hours share at the foot. */
export function dailyTableHtml(body, datesOldestFirst) {
  const byDate = kwhByDate(body);
  const dates = [...datesOldestFirst].reverse();
  const head = `<tr><th scope="col">${escape(t("day"))}</th>${body.series.map((s) => `<th scope="col" class="num">${escape(s.name ?? s.key)}</th>`).join("")}</tr>`;
  const rows = dates
    .filter((date) => body.series.some((s) => byDate.get(s.key).has(date)))
    .map((date) => `<tr><th scope="row">${escape(dayName(date))}</th>${body.series.map((s) => `<td class="num">${kwh(byDate.get(s.key).get(date))}</td>`).join("")}</tr>`)
    .join("");
  const foot = `<tr class="total-row"><th scope="row">${escape(t("total"))}</th>${body.series.map((s) => `<td class="num">${kwh(s.total_kwh)}</td>`).join("")}</tr>
    <tr><th scope="row">${escape(t("after_hours_share"))}</th>${body.series.map((s) => `<td class="num">${percent(s.after_hours_share)}</td>`).join("")}</tr>`;
  return `<table class="energy"><thead>${head}</thead><tbody>${rows}</tbody><tfoot>${foot}</tfoot></table>`;
}
