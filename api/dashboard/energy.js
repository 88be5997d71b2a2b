// The energy page of the school in view: kWh per building per day (from /api/energy, counter deltas,
// reset-safe) and each building's after-hours share.
import { escape, fmt } from "./format.js";
import { lang, t } from "./i18n.js";
import { api } from "./session.js";
import { schoolTitle, withSite } from "./sites.js";

let days = 7;

export async function showEnergy(container) {
  container.innerHTML = `<h2>${escape(schoolTitle(t("kwh_per_day")))}</h2>
    <div class="toolbar"><div role="group" aria-label="${escape(t("range"))}">
      ${[7, 30].map((n) => `<button type="button" data-days="${n}" aria-pressed="${n === days}">${escape(t(n === 7 ? "last_7d" : "last_30d"))}</button>`).join("")}</div></div>
    <div id="energy-table" class="table-wrap"><p class="muted">${escape(t("loading"))}</p></div>
    <p class="muted">${escape(t("after_hours_note"))}</p>`;
  container.querySelector('[role="group"]').addEventListener("click", (event) => {
    const button = event.target.closest("button[data-days]");
    if (!button) return;
    days = Number(button.dataset.days);
    showEnergy(container);
  });
  const to = Date.now();
  const response = await api(withSite(`/api/energy?by=building&every=1d&from=${to - days * 86400e3}&to=${to}`)).catch(() => null);
  const el = container.querySelector("#energy-table");
  if (!el) return;
  if (!response?.ok) {
    el.innerHTML = `<p class="error">${escape(String(response?.status ?? "network"))}</p>`;
    return;
  }
  const body = await response.json();
  if (body.series.length === 0) {
    el.innerHTML = `<p class="muted">${escape(t("no_data"))}</p>`;
    return;
  }
  const dayStarts = [...new Set(body.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => b - a);
  const value = (s, day) => s.points.find((p) => p[0] === day)?.[1];
  const max = Math.max(...body.series.flatMap((s) => s.points.map((p) => p[1])), 0.001);
  const share = (v) => (v === null ? "–" : `${Math.round(v * 100)}%`);
  const head = `<tr><th scope="col">${escape(t("day"))}</th>${body.series.map((s) => `<th scope="col" class="num">${escape(s.name ?? s.key)}</th>`).join("")}</tr>`;
  const rows = dayStarts
    .map((day) => `<tr><th scope="row">${escape(new Date(day).toLocaleDateString(lang(), { month: "short", day: "numeric", weekday: "short", timeZone: body.time_zone }))}</th>${body.series
      .map((s) => {
        const kwh = value(s, day);
        return `<td class="num">${kwh === undefined ? "–" : `<span class="kwh-bar" style="--w:${Math.round((kwh / max) * 100)}%"></span>${fmt(kwh, 1)}`}</td>`;
      })
      .join("")}</tr>`)
    .join("");
  const totals = `<tr class="total-row"><th scope="row">${escape(t("total"))}</th>${body.series.map((s) => `<td class="num">${fmt(s.total_kwh, 1)}</td>`).join("")}</tr>
    <tr><th scope="row">${escape(t("after_hours_share"))}</th>${body.series.map((s) => `<td class="num"><span class="share" style="--share:${Math.round((s.after_hours_share ?? 0) * 100)}%"></span>${share(s.after_hours_share)}</td>`).join("")}</tr>`;
  el.innerHTML = `<table class="energy"><thead>${head}</thead><tbody>${rows}</tbody><tfoot>${totals}</tfoot></table>`;
}
