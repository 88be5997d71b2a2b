// Building totals and the school's total (kW), from /api/buildings of the school in view, polled every
// 3 s: the live stream carries devices, and a building's total is the API's sum of its devices (CONTRACT §6).
import { campus } from "./campus-state.js";
import { createPoller } from "./poller.js";
import { district, withSite } from "./sites.js";

const POLL_MS = 3000;

/** A building of the school in view: the API answers only those for `site=`; one without `site` is trusted. */
const ofSchoolInView = (building) => district.current === null || (building.site ?? district.current) === district.current;

const poller = createPoller({
  path: () => withSite("/api/buildings"),
  everyMs: POLL_MS,
  onAnswer: (buildings) => {
    campus.buildings = buildings.filter(ofSchoolInView);
    renderTotals();
  },
});
/** (Re)starts polling at once: at sign-in, and when another school comes into view. */
export const startPollingBuildings = poller.start;
export const stopPollingBuildings = poller.stop;

/** Writes the totals into the header and into the tree's building rows (which show "–" until then). */
export function renderTotals() {
  const total = campus.buildings.reduce((sum, b) => sum + b.power_w, 0);
  document.getElementById("campus-total").textContent = `${(total / 1000).toFixed(1)} kW`;
  for (const b of campus.buildings) {
    const el = document.querySelector(`[data-building-total="${CSS.escape(b.id)}"]`);
    if (el) el.textContent = `${(b.power_w / 1000).toFixed(2)} kW`;
  }
}
