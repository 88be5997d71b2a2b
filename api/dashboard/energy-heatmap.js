// View 3 of the energy page: building × hour over the last 7 days, each cell the kWh of one building in
// one hour (when the night load stays high, or a building wakes up on a holiday, it shows at a glance),
// with the colour scale's legend and, as its text alternative, the same figures as a table in a
// disclosure (a row per building and day, a column per hour).
import { heatLegendHtml, heatMapSvg } from "./charts/heatmap.js";
import { dayName, dayTick, hourSpan, kwh } from "./energy-format.js";
import { midnightOf, wallClock } from "./energy-time.js";
import { escape } from "./format.js";
import { t } from "./i18n.js";

const HOUR_MS = 3_600_000;
export const HEAT_MAP_DAYS = 7;

/** The map and its table for `dates` (oldest first) from an every=1h answer starting at the first one's midnight. */
export function heatMapHtml({ body, dates, timeZone, width }) {
  const from = midnightOf(dates[0], timeZone);
  const columns = Math.round((midnightOf(dates.at(-1), timeZone) - from) / HOUR_MS) + 24;
  let max = 0;
  const rows = body.series.map((s) => {
    const name = s.name ?? s.key;
    const cells = new Array(columns).fill(null).map(() => ({ value: null, tip: "" }));
    for (const [start, value] of s.points) {
      const column = Math.round((start - from) / HOUR_MS);
      if (column < 0 || column >= columns) continue;
      const { date, hour } = wallClock(start, timeZone);
      cells[column] = { value, tip: `${name}\n${dayName(date)} ${hourSpan(hour)}\n${kwh(value, 2)} kWh` };
      max = Math.max(max, value);
    }
    return { key: s.key, name, cells };
  });
  const days = dates.map((date) => ({ column: Math.round((midnightOf(date, timeZone) - from) / HOUR_MS), tick: dayTick(date) }));
  const chart = heatMapSvg({ width, title: t("heat_map"), rows, columns, days, max });
  return `${chart}${heatLegendHtml(kwh(0, 0), kwh(max, 1), t("kwh_per_hour"))}${tableHtml(body, dates, timeZone)}`;
}

/** The text alternative: a row per building and day, a column per local hour, kWh with two decimals. */
function tableHtml(body, dates, timeZone) {
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  const rows = body.series.flatMap((s) => {
    const byDay = new Map(dates.map((date) => [date, new Array(24).fill(undefined)]));
    for (const [start, value] of s.points) {
      const { date, hour } = wallClock(start, timeZone);
      if (byDay.has(date)) byDay.get(date)[hour] = (byDay.get(date)[hour] ?? 0) + value;
    }
    return dates.map(
      (date) => `<tr><th scope="row">${escape(s.name ?? s.key)} · ${escape(dayName(date))}</th>${byDay.get(date).map((v) => `<td class="num">${v === undefined ? "–" : kwh(v, 2)}</td>`).join("")}</tr>`,
    );
  });
  return `<details class="as-table"><summary>${escape(t("show_table"))}</summary><div class="table-wrap"><table class="energy heat-table">
    <thead><tr><th scope="col">${escape(t("building_day"))}</th>${hours.map((h) => `<th scope="col" class="num" aria-label="${hourSpan(h)}">${h}</th>`).join("")}</tr></thead>
    <tbody>${rows.join("")}</tbody></table></div></details>`;
}
