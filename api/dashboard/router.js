// Which view the address shows. Runs on every hash change, language change and sign-in.
//   #/district                     the schools side by side: a principal of several schools lands here
//   #/  or  #/site/{id}            the campus view (tree and open alerts) of the one school, or of that one
//   #/device/{id}                  a device's live values, switching and history (its school comes into view)
//   #/energy, #/site/{id}/energy   the school in view's energy: daily kWh bars, a day's load curve against its weekday, the week's heat map, after-hours share with non-school days shaded, exports (energy-*.js)
//   #/commands, #/site/{id}/commands   the school's switching log
// A principal of one school has no district view (#/district shows its campus); a principal of several
// has no campus view without a school (#/ shows the district). A school outside the principal's sites is
// unknown here as it is to the API (CONTRACT §9): the address falls back to the district view.
import { startPollingBuildings } from "./building-totals.js";
import { campus } from "./campus-state.js";
import { showCommandsPage } from "./command-log.js";
import { refreshSearch } from "./device-search.js";
import { showDevice } from "./device.js";
import { clearDistrict, renderDistrict } from "./district-view.js";
import { showEnergy } from "./energy.js";
import { t } from "./i18n.js";
import { repaint } from "./repaint.js";
import { campusHref, chooseSite, district, seesSeveralSites, siteById, siteOf, startPollingSites, stopPollingSites } from "./sites.js";

const $ = (id) => document.getElementById(id);
const ROUTE = /^#\/(?:site\/([^/]+)\/?)?(district|device|energy|commands)?\/?(.*)$/;

/** The school the address asks for (null: none), and the view to show, once the rules above are applied. */
function resolve(site, view, id) {
  if (view === "device" && !id) return resolve(site, "overview", id);
  if (!seesSeveralSites()) return { school: null, view: view === "district" ? "overview" : view };
  if (view === "district") return { school: null, view };
  if (site) return siteById(site) ? { school: site, view } : { school: null, view: "district" };
  if (view === "device") return { school: siteOf(campus.devices.get(id) ?? {}) ?? district.current, view };
  if (view === "overview" || district.current === null) return { school: null, view: "district" };
  return { school: district.current, view };
}

/** The address that names a view: a school's views carry the school, so a link or a reload shows the same. */
function addressOf(view, id) {
  if (view === "district") return "#/district";
  if (view === "device") return `#/device/${id}`;
  return campusHref(view === "overview" ? "" : view);
}

export function route() {
  const [, site, asked = "overview", id] = location.hash.match(ROUTE) || [];
  const { school, view } = resolve(site && decodeURIComponent(site), asked, id);
  if (chooseSite(school)) {
    campus.treeStale = campus.alertsStale = true;
    startPollingBuildings(); // the new school's totals now, not at the next turn
    repaint();
    refreshSearch();
  }
  const address = addressOf(view, id);
  if (address !== (location.hash || "#/")) history.replaceState(null, "", address);
  renderHeader(view);
  for (const el of document.querySelectorAll(".view")) el.hidden = true;
  $(`view-${view}`).hidden = false;
  if (view === "district") {
    startPollingSites();
    renderDistrict();
  } else stopPollingSites();
  if (view === "device" && id) showDevice($("view-device"), decodeURIComponent(id), campus);
  else if (view === "energy") showEnergy($("view-energy"));
  else if (view === "commands") showCommandsPage($("view-commands"));
}

/** The navigation for this principal and school, the total's label, and the school's name over its campus. */
export function renderHeader(view) {
  const several = seesSeveralSites();
  $("nav-district").hidden = !several;
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (link.dataset.view !== "district") {
      link.href = campusHref(link.dataset.view === "overview" ? "" : link.dataset.view);
      link.hidden = several && district.current === null;
    }
    link.setAttribute("aria-current", String(link.dataset.view === view));
  }
  const label = document.querySelector("header .total [data-i18n]");
  label.dataset.i18n = several && district.current === null ? "district_total" : "campus_total";
  label.textContent = t(label.dataset.i18n);
  const school = district.current ? siteById(district.current) : district.sites.length === 1 ? district.sites[0] : null;
  $("site-title").textContent = school?.name ?? "";
  $("site-title").hidden = !school;
}

/** Signing out: no view keeps anything of this principal's schools for the next one (the campus view is repainted empty). */
export function clearViews() {
  clearDistrict();
  for (const id of ["view-device", "view-energy", "view-commands", "search-results"]) $(id).innerHTML = "";
  $("device-search").value = "";
  renderHeader("overview");
}
