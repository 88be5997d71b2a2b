// The schools this principal may see (GET /api/sites, CONTRACT §9: only the sites in its scope) and which
// one the campus view shows. A principal of one site never has a site chosen: everything the API gives
// it is its school, as before districts. One of several sites chooses one (#/site/{id}); the views then
// show only what belongs to it. No DOM here.
import { campus } from "./campus-state.js";
import { createPoller } from "./poller.js";
import { getJson } from "./session.js";

// The district view's figures (kW, today's kWh, after-hours share, alert counts) are computed by the API
// over every device of every school, which this page does not hold per site; they are polled every
// 10 s, and a live alert or status message asks for them within 1 s (`refreshSitesSoon`), so a new
// critical alert moves its school to the top at once rather than up to 10 s later.
const SITES_POLL_MS = 10_000;

export const district = {
  /** `[{id, name, timezone, devices_total, devices_online, power_w, open_alerts, energy_today_kwh, ...}]` */
  sites: [],
  /** The site the campus view shows, or null: a principal of one site, or the district view. */
  current: null,
};

const listeners = new Set();
/** `listener()` after every answer of /api/sites. */
export const onSitesChange = (listener) => listeners.add(listener);

function keepSites(sites) {
  district.sites = Array.isArray(sites) ? sites : [];
  for (const listener of listeners) listener();
}

const sitesPoller = createPoller({ path: () => "/api/sites", everyMs: SITES_POLL_MS, onAnswer: keepSites });
export const startPollingSites = sitesPoller.start;
export const stopPollingSites = sitesPoller.stop;
export const refreshSitesSoon = sitesPoller.soon;

/** Once at sign-in: which schools there are, to choose the landing view. A failed answer: none known. */
export async function loadSites() {
  keepSites(await getJson("/api/sites"));
}

/** Signing out: the next principal's sites are loaded for them. */
export function forgetSites() {
  district.sites = [];
  district.current = null;
}

/** Whether this principal sees several schools (the district view exists for them). */
export const seesSeveralSites = () => district.sites.length > 1;

export const siteById = (id) => district.sites.find((site) => site.id === id);

/** Chooses the school of the campus view (null: none); whether that changed. Unknown ids choose none. */
export function chooseSite(id) {
  const next = seesSeveralSites() && siteById(id) ? id : null;
  if (next === district.current) return false;
  district.current = next;
  return true;
}

/** The site of a device, alert or command: its own `site`, else its device's. */
export const siteOf = (item) => item.site ?? campus.devices.get(item.device)?.site;

/** Whether a device, building, alert or command belongs to the school in view (all do when none is chosen). */
export const inView = (item) => district.current === null || siteOf(item) === district.current;

/** The address of the campus view: the chosen school's, or the one campus. */
export const campusHref = (view = "") => (district.current ? `#/site/${encodeURIComponent(district.current)}${view ? `/${view}` : ""}` : `#/${view}`);

/** A view's title with the chosen school's name before it (none chosen: the title alone). */
export const schoolTitle = (title) => (district.current ? `${siteById(district.current).name} · ${title}` : title);

/** A list route's path narrowed to the chosen school (CONTRACT §9: every list route accepts `site=`). */
export const withSite = (path) => (district.current ? `${path}${path.includes("?") ? "&" : "?"}site=${encodeURIComponent(district.current)}` : path);

/**
 * District view order, what needs attention first: more open critical alerts, then more major ones,
 * then a larger share of devices offline, then the name (in the page's language).
 */
export function byAttention(a, b, language) {
  const count = (site, severity) => site.open_alerts_by_severity[severity];
  const offlineShare = (site) => (site.devices_total > 0 ? (site.devices_total - site.devices_online) / site.devices_total : 0);
  return count(b, "critical") - count(a, "critical") || count(b, "major") - count(a, "major") || offlineShare(b) - offlineShare(a) || a.name.localeCompare(b.name, language);
}
