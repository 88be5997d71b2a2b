// The district view (#/district, CONTRACT §9 "Dashboard"): one tile per school this principal may see,
// with its live kW, devices online of all, open alerts by severity in words (a colour alone says nothing
// to a colour-blind reader or on a grey wall screen), today's kWh and the after-hours share; ordered by
// what needs attention first (sites.js `byAttention`). A tile opens that school's campus view. The
// figures come from /api/sites, polled while this view is on screen (sites.js says how often and why).
import { escape, fmt } from "./format.js";
import { lang, t } from "./i18n.js";
import { byAttention, district } from "./sites.js";

// domain/alert.ts SEVERITIES, most severe first (the page cannot import TypeScript: no build step).
const SEVERITIES = ["critical", "major", "minor", "warning", "info"];
/** The HTML last written into the view. */
let drawn = null;

/** `open_alerts_by_severity` (an extension of CONTRACT §9 served by the same API) as coloured words, most severe first. */
function alertWordsHtml(site) {
  const words = SEVERITIES.filter((severity) => site.open_alerts_by_severity[severity] > 0).map(
    (severity) => `<span class="sev-word sev-${severity}">${escape(t("sev_count", { n: site.open_alerts_by_severity[severity], severity: t(`sev_${severity}`) }))}</span>`,
  );
  return words.length > 0 ? words.join(" ") : `<span class="sev-word none">${escape(t("no_open_alerts"))}</span>`;
}

/** The most severe open alert of a school, for the tile's edge: `none` when there is none. */
const worstOf = (site) => SEVERITIES.find((severity) => site.open_alerts_by_severity[severity] > 0) ?? "none";

function tileHtml(site) {
  const offline = site.devices_total - site.devices_online;
  const share = typeof site.after_hours_share_today === "number" ? `${Math.round(site.after_hours_share_today * 100)}%` : "–";
  return `<li><a class="tile worst-${worstOf(site)}" href="#/site/${encodeURIComponent(site.id)}" data-site="${escape(site.id)}">
    <h3>${escape(site.name)}</h3>
    <div class="tile-power"><strong>${fmt(site.power_w / 1000, 1)}</strong> kW</div>
    <div class="tile-devices">${escape(t("devices_online", { online: site.devices_online, total: site.devices_total }))}${offline > 0 ? ` · <span class="offline-words">${escape(t("offline_n", { n: offline }))}</span>` : ""}</div>
    <div class="tile-alerts">${alertWordsHtml(site)}</div>
    <div class="tile-energy muted">${escape(t("today_kwh", { kwh: fmt(site.energy_today_kwh, 1) }))} · ${escape(t("after_hours_today", { share }))}</div>
  </a></li>`;
}

/** Draws the tiles from the last answer of /api/sites; nothing while the view is hidden. */
export function renderDistrict() {
  const container = document.getElementById("view-district");
  if (container.hidden) return;
  const sites = [...district.sites].sort((a, b) => byAttention(a, b, lang()));
  const html = `<h2>${escape(t("schools"))} <span class="pill">${sites.length}</span></h2>
    <p class="muted">${escape(t("attention_note"))}</p>
    <ul class="tiles">${sites.map(tileHtml).join("")}</ul>`;
  // Rewritten only when it changed: a tile replaced under the pointer between press and release loses the click.
  if (html !== drawn) container.innerHTML = drawn = html;
}

/** Signing out: no school's tile stays in the page. */
export function clearDistrict() {
  document.getElementById("view-district").innerHTML = "";
  drawn = null;
}
