// The energy page of the school in view (#/energy, #/site/{id}/energy): kWh per building per day as bars
// and a table (./energy-daily.js), the hourly load of a chosen day against the same weekday's average
// (./energy-curve.js), a building × hour heat map of the last 7 days (./energy-heatmap.js), each
// building's after-hours share per day with the school's days off shaded (./energy-after-hours.js), and
// exports (./energy-export.js). Every figure comes from /api/energy or /api/reports/energy (counter
// deltas, reset-safe); every day and hour is the school's own (its time zone and calendar from
// /api/sites). Each part keeps its box's height while it loads, so nothing below it jumps when it
// arrives; the parts whose height depends on the number of buildings come last, the daily table (as long
// as the range) at the very end.
import { colourOf } from "./charts/svg.js";
import { setUpTooltip } from "./charts/tooltip.js";
import { afterHoursHtml } from "./energy-after-hours.js";
import { curveFirstDate, curveHtml } from "./energy-curve.js";
import { dailyChartHtml, dailyTableHtml } from "./energy-daily.js";
import { afterHoursByDay, calendarInView, dailyByBuilding, hourlyByBuilding, schoolInView, zoneInView } from "./energy-data.js";
import { exportHtml, setUpExports } from "./energy-export.js";
import { HEAT_MAP_DAYS, heatMapHtml } from "./energy-heatmap.js";
import { datesEndingAt, midnightOf, wallClock } from "./energy-time.js";
import { escape } from "./format.js";
import { t } from "./i18n.js";
import { schoolTitle } from "./sites.js";

let days = 30;
/** The day of the load curve ("YYYY-MM-DD"), kept across visits; null: today. */
let curveDay = null;
/** Each drawing's number: an answer for an older one (the range or language changed since) is dropped. */
let drawing = 0;
/** The charts on screen: `id → {el, render(width), width}`, drawn again when their box's width changes (a phone turned, a window resized). */
const drawn = new Map();
const widthOf = (el) => Math.max(300, el.clientWidth);
// The SVGs are drawn at their box's width in CSS pixels (charts/svg.js): scaled instead, their text would shrink.
const REDRAW_AFTER_RESIZE_MS = 150;
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const chart of drawn.values()) {
      if (!chart.el.isConnected || widthOf(chart.el) === chart.width) continue;
      chart.width = widthOf(chart.el);
      chart.el.innerHTML = chart.render(chart.width);
    }
  }, REDRAW_AFTER_RESIZE_MS);
});

/** A card: its title, what goes above the chart (`before`), and the chart's box with "loading…" in it. */
const section = (id, title, before = "") =>
  `<section class="energy-card" aria-labelledby="${id}-title"><h3 id="${id}-title">${escape(title)}</h3>${before}<div id="${id}" class="chart-box" aria-busy="true"><p class="muted">${escape(t("loading"))}</p></div></section>`;

export async function showEnergy(container) {
  setUpTooltip();
  const mine = ++drawing;
  const now = Date.now();
  const timeZone = zoneInView();
  const calendar = calendarInView();
  const today = wallClock(now, timeZone).date;
  const dates = datesEndingAt(today, days);
  const chosenDay = curveDay ?? today;
  container.innerHTML = `<h2>${escape(schoolTitle(t("energy")))}</h2>
    <div class="toolbar"><div role="group" aria-label="${escape(t("range"))}">
      ${[7, 30].map((n) => `<button type="button" data-days="${n}" aria-pressed="${n === days}">${escape(t(n === 7 ? "last_7d" : "last_30d"))}</button>`).join("")}</div>
      ${exportHtml(today.slice(0, 7))}</div>
    ${section("energy-daily", t("kwh_per_day"))}
    ${section("energy-curve", t("load_curve"), `<label class="curve-day">${escape(t("chosen_day"))} <input type="date" id="curve-day" value="${chosenDay}" max="${today}"></label>`)}
    ${section("energy-heatmap", t("heat_map"))}
    ${section("energy-after-hours", t("after_hours_title"))}
    <section class="energy-card" aria-labelledby="energy-table-title"><h3 id="energy-table-title">${escape(t("kwh_per_day_table"))}</h3><div id="energy-table" class="table-wrap"></div>
    <p class="muted">${escape(t("after_hours_note"))}</p></section>`;
  container.querySelector('[role="group"]').addEventListener("click", (event) => {
    const button = event.target.closest("button[data-days]");
    if (!button) return;
    days = Number(button.dataset.days);
    showEnergy(container);
  });
  const site = schoolInView()?.id ?? null;
  setUpExports(container, () => ({ site, fromMs: midnightOf(dates[0], timeZone), toMs: now, firstDate: dates[0], lastDate: today }));
  const current = () => mine === drawing && container.isConnected;
  drawn.clear();
  /** Writes a chart drawn by `render(width)` at its box's width, kept to be drawn again when that width changes. */
  const fill = (id, render) => {
    if (!current()) return;
    const el = container.querySelector(`#${id}`);
    const width = widthOf(el);
    el.innerHTML = render(width);
    el.removeAttribute("aria-busy");
    drawn.set(id, { el, render, width });
  };
  const text = (id, html) => fill(id, () => html);
  const failed = (id) => (error) => text(id, `<p class="error">${escape(t("load_failed", { status: error.message }))}</p>`);

  const daily = dailyByBuilding(dates, timeZone, now);
  daily
    .then((body) => {
      if (body.series.length === 0) {
        for (const id of ["energy-daily", "energy-after-hours"]) text(id, `<p class="muted">${escape(t("no_data"))}</p>`);
        return;
      }
      const colours = new Map(body.series.map((s, i) => [s.key, colourOf(i)]));
      fill("energy-daily", (width) => dailyChartHtml({ body, dates, calendar, colours, width }));
      if (current()) container.querySelector("#energy-table").innerHTML = dailyTableHtml(body, dates);
      afterHoursByDay(site, midnightOf(dates[0], timeZone), now)
        .then((byDay) => fill("energy-after-hours", (width) => afterHoursHtml({ series: body.series, byDay, dates, calendar, colours, width })))
        .catch(failed("energy-after-hours"));
    })
    .catch((error) => ["energy-daily", "energy-after-hours"].forEach((id) => failed(id)(error)));

  let curveAsked = 0;
  const drawCurve = (date) => {
    const asked = ++curveAsked;
    const mineOnly = (draw) => (value) => asked === curveAsked && draw(value); // a slower answer for a day chosen before is dropped
    return hourlyByBuilding(curveFirstDate(date), date, timeZone, now)
      .then(mineOnly((body) => fill("energy-curve", (width) => curveHtml({ body, date, width, now }))))
      .catch(mineOnly(failed("energy-curve")));
  };
  container.querySelector("#curve-day").addEventListener("change", (event) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(event.target.value) || event.target.value > today) return;
    curveDay = event.target.value === today ? null : event.target.value;
    drawCurve(event.target.value);
  });
  drawCurve(chosenDay);

  const week = datesEndingAt(today, HEAT_MAP_DAYS);
  hourlyByBuilding(week[0], today, timeZone, now)
    .then((body) => (body.series.length === 0 ? text("energy-heatmap", `<p class="muted">${escape(t("no_data"))}</p>`) : fill("energy-heatmap", (width) => heatMapHtml({ body, dates: week, timeZone, width }))))
    .catch(failed("energy-heatmap"));
  await daily.catch(() => undefined);
}
