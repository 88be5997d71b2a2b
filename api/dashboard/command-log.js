// The switching log (CONTRACT §10 "Audit", docs/commands.md): time, device, action, who, why, state and
// the device's answer. Loaded from GET /api/commands (commands selected in the range, newest first, each in
// its latest state, in pages) and kept live by every command change the page learns (command-store.js).
// A device page shows its device's log; #/commands (#/site/{id}/commands) shows the school's. One log is
// on screen at a time.
import { laterOf } from "./command-store.js";
import { escape } from "./format.js";
import { lang, t } from "./i18n.js";
import { api } from "./session.js";
import { district, siteOf } from "./sites.js";
import { commandStateHtml, whoIs } from "./switch-controls.js";

const PAGE_SIZE = 50;
const RANGES_MS = { last_24h: 86400e3, last_7d: 7 * 86400e3, last_30d: 30 * 86400e3 };
let schoolRange = "last_24h";
/** The log on screen: its element, device (null: the school), school (null: the one there is), start of its range, commands by id, the next page's cursor. */
let shown = null;

/** The school's log, a view of its own. */
export function showCommandsPage(container) {
  container.innerHTML = `<h2>${escape(t("log_title"))}</h2>
    <div class="toolbar"><div role="group" aria-label="${escape(t("range"))}">${Object.keys(RANGES_MS)
      .map((key) => `<button type="button" data-range="${key}" aria-pressed="${key === schoolRange}">${escape(t(key))}</button>`)
      .join("")}</div></div>
    <div id="school-log"></div>`;
  container.querySelector('[role="group"]').addEventListener("click", (event) => {
    const button = event.target.closest("button[data-range]");
    if (!button) return;
    schoolRange = button.dataset.range;
    showCommandsPage(container);
  });
  showCommandLog(container.querySelector("#school-log"), { fromMs: Date.now() - RANGES_MS[schoolRange] });
}

/** A log in `el`: the device's (`device`), or the school's; the last 24 h unless `fromMs` says otherwise. */
export function showCommandLog(el, { device = null, fromMs = Date.now() - RANGES_MS.last_24h } = {}) {
  const log = { el, device, site: district.current, fromMs, items: new Map(), next: null, loaded: false, failed: null };
  shown = log;
  el.addEventListener("click", (event) => {
    if (event.target.closest("button.more")) loadPage(log, log.next);
  });
  render(log);
  loadPage(log, null);
}

async function loadPage(log, cursor) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), from: String(Math.floor(log.fromMs)) });
  if (log.device) query.set("device", log.device);
  else if (log.site) query.set("site", log.site);
  if (cursor) query.set("cursor", cursor);
  const response = await api(`/api/commands?${query}`).catch(() => null);
  const page = response?.ok ? await response.json().catch(() => null) : null;
  if (shown !== log) return;
  log.failed = page ? null : String(response?.status ?? "network");
  if (page) {
    for (const command of page.items) log.items.set(command.id, laterOf(log.items.get(command.id), command));
    log.next = page.next;
    log.loaded = true;
  }
  render(log);
}

/** A command changed: shown at once in the log on screen when it belongs there. */
export function commandLogChanged(command) {
  const log = shown;
  if (!log?.el.isConnected || (log.device && command.device !== log.device) || (log.site && siteOf(command) !== log.site) || Date.parse(command.selected_at) < log.fromMs) return;
  log.items.set(command.id, laterOf(log.items.get(command.id), command));
  render(log);
}

function render(log) {
  const commands = [...log.items.values()].sort((a, b) => b.selected_at.localeCompare(a.selected_at) || b.id.localeCompare(a.id));
  const failed = log.failed ? `<p class="error">${escape(log.failed)}</p>` : "";
  if (commands.length === 0) {
    log.el.innerHTML = `${failed}<p class="muted">${escape(t(log.loaded ? "no_commands" : "loading"))}</p>`;
    return;
  }
  const columns = ["time", ...(log.device ? [] : ["device"]), "action", "who", "why", "state", "detail"];
  const cell = (column, html) => `<td data-label="${escape(t(column))}">${html}</td>`;
  const row = (c) => {
    const when = new Date(c.selected_at).toLocaleString(lang(), { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const where = c.room ? ` <span class="muted">${escape(t("room"))} ${escape(c.room)}</span>` : "";
    return `<tr data-command="${escape(c.id)}">${cell("time", escape(when))}${log.device ? "" : cell("device", `<a href="#/device/${encodeURIComponent(c.device)}">${escape(c.device)}</a>${where}`)}
      ${cell("action", escape(t(c.action)))}${cell("who", escape(whoIs(c.issued_by)))}${cell("why", escape(c.reason))}${cell("state", commandStateHtml(c))}${cell("detail", escape(c.detail ?? ""))}</tr>`;
  };
  const more = log.next ? `<button type="button" class="more">${escape(t("more"))}</button>` : "";
  log.el.innerHTML = `${failed}<table class="log"><thead><tr>${columns.map((c) => `<th scope="col">${escape(t(c))}</th>`).join("")}</tr></thead>
    <tbody>${commands.map(row).join("")}</tbody></table>${more}`;
}
