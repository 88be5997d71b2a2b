// Building totals and the campus total (kW), from /api/buildings, polled every 3 s: the live stream
// carries devices, and a building's total is the API's sum of its devices (CONTRACT §6).
import { campus } from "./campus-state.js";
import { api } from "./session.js";

const POLL_MS = 3000;
// Each start of polling gets a number; a poll of an older one stops instead of scheduling the next, so
// signing out ends the polling (its requests would carry no token, and the API counts each as a failed
// sign-in of this address: api/auth-limiter.ts) and signing in again runs one loop, not two.
let polling = 0;
let timer = null;

export function startPollingBuildings() {
  stopPollingBuildings();
  poll(polling);
}

export function stopPollingBuildings() {
  polling += 1;
  clearTimeout(timer);
}

/** One poll; a failed one keeps the last totals and tries again. */
async function poll(mine) {
  const response = await api("/api/buildings").catch(() => null);
  const buildings = response?.ok ? await response.json().catch(() => null) : null;
  if (mine !== polling) return;
  if (buildings) {
    campus.buildings = buildings;
    renderTotals();
  }
  timer = setTimeout(() => poll(mine), POLL_MS);
}

/** Writes the totals into the header and into the tree's building rows (which show "–" until then). */
export function renderTotals() {
  const total = campus.buildings.reduce((sum, b) => sum + b.power_w, 0);
  document.getElementById("campus-total").textContent = `${(total / 1000).toFixed(1)} kW`;
  for (const b of campus.buildings) {
    const el = document.querySelector(`[data-building-total="${CSS.escape(b.id)}"]`);
    if (el) el.textContent = `${(b.power_w / 1000).toFixed(2)} kW`;
  }
}
