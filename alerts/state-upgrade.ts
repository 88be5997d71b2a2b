// A state file written before alerts carried `site` (CONTRACT §9), made current before it is checked against
// the schema (persistence.ts): every alert in it — the engine's open ones, the notifier's tracked ones and
// those waiting in a grouping window — gets its device's site. An alert whose device is in no site of the
// campus file any more cannot be placed (nor judged again: the engine skips devices it does not know); it
// is left out, and its id returned, rather than have the whole file set aside. `addAlertSites` is pure;
// `alertSitesUpgrade` is it as the state store's upgrade, logging what it left out.
import { withDeviceSite } from "../domain/alert.js";
import type { Campus } from "../domain/campus.js";
import { isJsonObject, type JsonObject } from "../domain/json-object.js";
import type { Logger } from "../infra/logger.js";
import type { Upgrade } from "./persistence.js";

export interface Upgraded {
  raw: unknown;
  /** Ids of the alerts left out. */
  dropped: string[];
}

export function addAlertSites(raw: unknown, campus: Campus): Upgraded {
  const dropped: string[] = [];
  const siteOf = (device: string) => campus.siteOfDevice.get(device)?.site.id;
  /** The alert with its site, or null (left out). */
  const place = (alert: unknown): unknown => {
    const placed = withDeviceSite(alert, siteOf);
    if (!isJsonObject(placed) || "site" in placed) return placed;
    dropped.push(String(placed.id));
    return null;
  };
  if (!isJsonObject(raw)) return { raw, dropped };
  const upgradeSlot = (slot: unknown) => (isJsonObject(slot) ? { ...slot, rules: eachValue(slot.rules, (instance) => withAlert(instance, place, "keep")) } : slot);
  const engine = isJsonObject(raw.engine) ? { ...raw.engine, devices: eachValue(raw.engine.devices, upgradeSlot) } : raw.engine;
  const notify = isJsonObject(raw.notify) && isJsonObject(raw.notify.state) ? { ...raw.notify, state: upgradeNotify(raw.notify.state, place) } : raw.notify;
  return { raw: { ...raw, engine, ...(raw.notify === undefined ? {} : { notify }) }, dropped: [...new Set(dropped)] };
}

function upgradeNotify(state: JsonObject, place: (alert: unknown) => unknown): JsonObject {
  const alerts = eachValue(state.alerts, (tracked) => withAlert(tracked, place, "drop"));
  const groups = eachValue(state.groups, (group) => (isJsonObject(group) && Array.isArray(group.items) ? { ...group, items: group.items.map((item) => withAlert(item, place, "drop")).filter((item) => item !== null) } : group));
  return { ...state, alerts: isJsonObject(alerts) ? Object.fromEntries(Object.entries(alerts).filter(([, tracked]) => tracked !== null)) : alerts, groups };
}

/**
 * `{…, alert}` with its alert placed. One left out: an engine instance keeps its rule state without it
 * (`keep`); a notifier's entry, about that alert alone, goes (`drop`: null).
 */
function withAlert(holder: unknown, place: (alert: unknown) => unknown, unplaced: "keep" | "drop"): unknown {
  if (!isJsonObject(holder) || !("alert" in holder)) return holder;
  const alert = place(holder.alert);
  if (alert !== null) return { ...holder, alert };
  if (unplaced === "drop") return null;
  const { alert: _left, ...rest } = holder;
  return rest;
}

const eachValue = (value: unknown, f: (v: unknown) => unknown): unknown => (isJsonObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, f(v)])) : value);

export const alertSitesUpgrade = (campus: Campus, log: Logger): Upgrade => (raw) => {
  const upgraded = addAlertSites(raw, campus);
  if (upgraded.dropped.length > 0) log.warn({ alerts: upgraded.dropped }, "open alerts of devices no longer in the campus file are dropped from the state");
  return upgraded.raw;
};
