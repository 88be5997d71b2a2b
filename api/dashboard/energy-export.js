// View 5 of the energy page: the daily kWh per building of the range on screen as CSV or Excel, from the
// Reports API (GET /api/reports/energy, CONTRACT §11), and the school's printable monthly report
// (GET /reports/{site}/{YYYY-MM}). The export is fetched with the session's bearer header and saved as a
// file (a plain link would carry no header); the monthly report opens in a new tab, where no header can
// follow, so its link carries the session's token (`?token=`, which that page accepts; the API never
// logs it: api/app.ts redactUrl).
import { escape } from "./format.js";
import { lang, t } from "./i18n.js";
import { api, token } from "./session.js";

const FORMATS = { csv: "CSV", xlsx: "Excel" };

/** The export buttons, the report's month ("YYYY-MM", at most `month`) and its link. */
export function exportHtml(month) {
  return `<div class="exports" role="group" aria-label="${escape(t("export"))}">
    <span>${escape(t("export"))}</span>
    ${Object.entries(FORMATS).map(([format, name]) => `<button type="button" data-export="${format}">${escape(name)}</button>`).join("")}
    <label class="report-month">${escape(t("report_month"))} <input type="month" id="report-month" value="${month}" max="${month}"></label>
    <a id="monthly-report" class="button-link" target="_blank" rel="noopener">${escape(t("monthly_report"))}</a>
    <span id="export-status" class="muted" role="status"></span>
  </div>`;
}

/** The monthly report's address for a school and "YYYY-MM", in the page's language. */
export const monthlyReportUrl = (site, month) => `/reports/${encodeURIComponent(site)}/${month}?${new URLSearchParams({ token: token() ?? "", lang: lang() })}`;

/** Wires the buttons and the link of `exportHtml` inside `container`; `range()`, `{site, fromMs, toMs, firstDate, lastDate}`, is read at each use. */
export function setUpExports(container, range) {
  const link = container.querySelector("#monthly-report");
  const month = container.querySelector("#report-month");
  const point = () => (link.href = monthlyReportUrl(range().site, month.value));
  month.addEventListener("change", point);
  point();
  for (const button of container.querySelectorAll("button[data-export]")) {
    button.addEventListener("click", () => download(button.dataset.export, range(), container.querySelector("#export-status")));
  }
}

async function download(format, { site, fromMs, toMs, firstDate, lastDate }, status) {
  status.textContent = t("loading");
  const query = new URLSearchParams({ every: "day", by: "building", from: String(fromMs), to: String(toMs), site, format });
  const response = await api(`/api/reports/energy?${query}`).catch(() => null);
  if (!response?.ok) {
    status.textContent = t("export_failed", { status: response?.status ?? "network" });
    return;
  }
  const file = `energy-${site}-${firstDate}-${lastDate}.${format}`;
  const url = URL.createObjectURL(await response.blob());
  const anchor = Object.assign(document.createElement("a"), { href: url, download: file });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // Freed once the browser has surely read it (revoked at once, Firefox may start the download without it).
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  status.textContent = t("saved_file", { file });
}
