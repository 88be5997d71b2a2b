// A device page: live values at the top, remote switching (its relay as reported, its commands, the
// switch buttons), history charts (uPlot) of power, current, voltage, temperature and leakage over a
// chosen range (long ranges use hourly buckets, served from rollups), and the device's switching log.
import { showCommandLog } from "./command-log.js";
import { ago, escape, fmt } from "./format.js";
import { name, t } from "./i18n.js";
import { api } from "./session.js";
import { campusHref } from "./sites.js";
import { devicePanelHtml } from "./switch-controls.js";

const RANGES = { last_1h: [3600e3, "1m"], last_6h: [6 * 3600e3, "1m"], last_24h: [86400e3, "15m"], last_7d: [7 * 86400e3, "1h"], last_30d: [30 * 86400e3, "1h"] };
// [field, label key, unit, line colour, digits shown]
const FIELDS = [
  ["power_w", "power", "W", "#2f6fb0", 0],
  ["current_a", "current", "A", "#d9480f", 2],
  ["voltage_v", "voltage", "V", "#1f9d55", 1],
  ["temperature_c", "temperature", "°C", "#b42318", 1],
  ["leakage_ma", "leakage", "mA", "#7048e8", 1],
];
let shown = null;
let range = "last_24h";
let charts = [];

function header(device) {
  const v = device.latest || {};
  const cell = (key, value, unit, digits = 1) => `<div class="stat"><div class="muted">${escape(t(key))}</div><div class="value">${fmt(value, digits)} <small>${unit}</small></div></div>`;
  return `<div class="stat"><div class="muted">${escape(t(device.online ? "online" : "offline"))}</div><div class="value state ${device.online ? "on" : "off"}">${escape(ago(device.last_seen))}</div></div>
    ${cell("power", v.power_w, "W", 0)}${cell("current", v.current_a, "A", 2)}${device.rating_a ? cell("rating", device.rating_a, "A", 0) : ""}
    ${cell("voltage", v.voltage_v, "V")}${cell("temperature", v.temperature_c, "°C")}${cell("leakage", v.leakage_ma, "mA")}`;
}

export function updateDeviceHeader(store) {
  if (!shown) return;
  const el = document.getElementById("device-stats");
  const device = store.devices.get(shown);
  if (el && device) el.innerHTML = header(device);
  const panel = document.getElementById("device-switch");
  // Rewritten only when it changed: a button replaced under the pointer between press and release loses the click.
  const html = device ? devicePanelHtml(device) : "";
  if (panel && panel.dataset.html !== html) (panel.innerHTML = html), (panel.dataset.html = html);
}

export function showDevice(container, id, store) {
  shown = id;
  const device = store.devices.get(id);
  const title = device ? `${escape(id)} <span class="muted">${escape(name(device.kind))} · ${escape(device.building)}${device.room ? ` · ${escape(t("room"))} ${escape(device.room)}` : ""}</span>` : escape(id);
  container.innerHTML = `<a href="${campusHref()}" class="back">${escape(t("back"))}</a>
    <h2>${title}</h2>
    <div id="device-stats" class="stats">${device ? header(device) : ""}</div>
    <section id="device-switch" class="switch-panel" aria-label="${escape(t("switching"))}"></section>
    <div class="toolbar"><span>${escape(t("history"))}</span>
      <div role="group" aria-label="${escape(t("range"))}">${Object.keys(RANGES).map((key) => `<button type="button" data-range="${key}" aria-pressed="${key === range}">${escape(t(key))}</button>`).join("")}</div></div>
    <div class="charts">${FIELDS.map(([field, key, unit]) => `<figure class="chart"><figcaption>${escape(t(key))} (${unit})</figcaption><div data-chart="${field}"></div></figure>`).join("")}</div>
    <section class="device-log"><h3>${escape(t("command_log"))}</h3><div id="device-log"></div></section>`;
  updateDeviceHeader(store);
  showCommandLog(container.querySelector("#device-log"), { device: id });
  container.querySelector('[role="group"]').addEventListener("click", (event) => {
    const button = event.target.closest("button[data-range]");
    if (!button) return;
    range = button.dataset.range;
    for (const b of container.querySelectorAll("button[data-range]")) b.setAttribute("aria-pressed", String(b === button));
    loadCharts(container, id);
  });
  loadCharts(container, id);
}

async function loadCharts(container, id) {
  for (const chart of charts) chart.destroy();
  charts = [];
  const [spanMs, every] = RANGES[range];
  const to = Date.now();
  const from = to - spanMs;
  await Promise.all(
    FIELDS.map(async ([field, key, unit, color, digits]) => {
      const el = container.querySelector(`[data-chart="${field}"]`);
      describeChart(el, null);
      el.innerHTML = `<p class="muted">${escape(t("loading"))}</p>`;
      const agg = field === "current_a" || field === "leakage_ma" || field === "temperature_c" ? "max" : "mean";
      const response = await api(`/api/devices/${encodeURIComponent(id)}/readings?field=${field}&every=${every}&agg=${agg}&from=${from}&to=${to}`).catch(() => null);
      const body = response?.ok ? await response.json() : { points: [] };
      if (shown !== id || !el.isConnected) return;
      if (body.points.length === 0) {
        el.innerHTML = `<p class="muted empty">${escape(t("no_data"))}</p>`;
        return;
      }
      el.innerHTML = "";
      const data = [body.points.map((p) => p[0] / 1000), body.points.map((p) => p[1])];
      const width = Math.max(260, el.clientWidth || 600);
      const chart = new uPlot(
        { width, height: 180, legend: { show: false }, scales: { x: { time: true, range: () => [from / 1000, to / 1000] } }, axes: [{}, { size: 56 }], series: [{}, { label: `${t(key)} (${unit})`, stroke: color, width: 1.5, fill: `${color}22` }] },
        data,
        el,
      );
      charts.push(chart);
      describeChart(el, { values: chart.data[1], unit, digits });
    }),
  );
}

/**
 * The chart's text alternative (WCAG 2.2 SC 1.1.1, non-text content): a canvas says nothing to a screen
 * reader, so the chart is an image named by what it draws — how many points, their range, the last one.
 * Taken from the data uPlot holds. `null` while loading or when there is nothing to draw.
 */
function describeChart(el, drawn) {
  if (!drawn) {
    el.removeAttribute("role");
    el.removeAttribute("aria-label");
    return;
  }
  const { values, unit, digits } = drawn;
  const summary = { n: values.length, min: fmt(Math.min(...values), digits), max: fmt(Math.max(...values), digits), last: fmt(values.at(-1), digits), unit };
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", t("chart_summary", summary));
}
