// The campus as the live stream tells it (docs/api.md "Live stream"): devices with their latest values,
// open alerts, building totals, and what changed since the last repaint; switching commands go to
// command-store.js. No DOM here: the views read this state, repaint.js decides when.
import { keepCommand } from "./command-store.js";

export const campus = {
  devices: new Map(),
  alerts: new Map(),
  /** From /api/buildings (polled, building-totals.js): id, name, kind, power_w. */
  buildings: [],
  /** Ids of devices whose row must be repainted. */
  dirty: new Set(),
  /** The tree or the alert list must be rebuilt as a whole (a snapshot, an alert, a language change). */
  treeStale: true,
  alertsStale: true,
};

/** Applies one message of the live stream: a snapshot replaces everything, the others change one device or alert. */
export function applyLiveMessage(message) {
  switch (message.type) {
    case "snapshot":
      campus.devices = new Map(message.devices.map((d) => [d.id, d]));
      campus.alerts = new Map(message.alerts.map((a) => [a.id, a]));
      campus.treeStale = campus.alertsStale = true;
      break;
    case "reading": {
      const device = campus.devices.get(message.device);
      if (!device) break;
      device.latest = { ...device.latest, ...message.values };
      device.last_seen = message.ts;
      campus.dirty.add(device.id);
      break;
    }
    case "status": {
      const device = campus.devices.get(message.device);
      if (device) (device.online = message.online), campus.dirty.add(device.id);
      break;
    }
    case "alert":
      keepAlert(message.alert);
      break;
    case "command":
      keepCommand(message.command);
      break;
  }
}

/**
 * An alert as the stream or an acknowledgement returned it: kept while open, dropped once resolved. A
 * device that starts or stops alarming moves in the tree (alarming devices first), which is rebuilt.
 */
export function keepAlert(alert) {
  if (alert.state === "resolved") campus.alerts.delete(alert.id);
  else campus.alerts.set(alert.id, alert);
  if (countAlertsOf(alert.device)) campus.treeStale = true;
  campus.alertsStale = true;
}

/**
 * The device's open alerts, for the tree's badges; whether it started or stopped alarming. One device's
 * count, not every device's: a school of 2,000 devices going offline at once brings 2,000 alerts.
 */
function countAlertsOf(id) {
  const device = campus.devices.get(id);
  if (!device) return false;
  const wasAlarming = device.open_alerts > 0;
  device.open_alerts = 0;
  for (const alert of campus.alerts.values()) if (alert.device === id) device.open_alerts += 1;
  campus.dirty.add(id);
  return wasAlarming !== device.open_alerts > 0;
}

/** Every row again, so that "last seen" stays true while no reading arrives. */
export function markAllDevicesDirty() {
  campus.dirty = new Set(campus.devices.keys());
}

/** Signing out: nothing of this principal's schools stays on the page for the next one. */
export function forgetCampus() {
  campus.devices = new Map();
  campus.alerts = new Map();
  campus.buildings = [];
  campus.dirty.clear();
  campus.treeStale = campus.alertsStale = true;
}
