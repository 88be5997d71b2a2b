// Paints the overview from the campus state. Readings arrive in batches, many a second: repaint at
// most every 250 ms, and only what changed (the rows of dirty devices; the tree or the alert list as
// a whole only when stale).
import { renderAlerts } from "./alerts.js";
import { renderTotals } from "./building-totals.js";
import { campus } from "./campus-state.js";
import { updateDeviceHeader } from "./device.js";
import { renderTree, updateDevices } from "./tree.js";

const REPAINT_MS = 250;
let scheduled = false;

export function scheduleRepaint() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    repaint();
  }, REPAINT_MS);
}

export function repaint() {
  if (campus.treeStale) {
    renderTree(document.getElementById("tree"), campus);
    renderTotals(); // the rebuilt tree shows "–" for each building until told its total
    campus.treeStale = false;
    campus.dirty.clear();
  } else if (campus.dirty.size > 0) {
    updateDevices(campus, campus.dirty);
    campus.dirty.clear();
  }
  if (campus.alertsStale) {
    renderAlerts(document.getElementById("alerts"), document.getElementById("alert-count"), campus);
    campus.alertsStale = false;
  }
  updateDeviceHeader(campus);
}
