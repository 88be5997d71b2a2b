// Pure projections of the live state for REST and the live stream: devices, building totals and site
// totals, of the devices and buildings a caller may see (./scope.ts; default: all of them).
import type { Static } from "@sinclair/typebox";
import { type Alert, SEVERITIES, type Severity } from "../domain/alert.js";
import type { Building, Campus, Device } from "../domain/campus.js";
import { hasRelay } from "../domain/command.js";
import type { LatestValues, LiveState } from "./live-state.js";
import type { BuildingSchema, DeviceSchema } from "./schemas.js";

/** A device as REST and the live snapshot show it (DeviceSchema), with the live state's typed latest values. */
export type DeviceView = Omit<Static<typeof DeviceSchema>, "latest"> & { latest: LatestValues };
export type BuildingView = Static<typeof BuildingSchema>;

function countBy<K>(alerts: readonly Alert[], key: (a: Alert) => K): Map<K, number> {
  const counts = new Map<K, number>();
  for (const alert of alerts) counts.set(key(alert), (counts.get(key(alert)) ?? 0) + 1);
  return counts;
}

export function deviceView(device: Device, state: LiveState, openAlerts: number): DeviceView {
  const live = state.device(device.id);
  return {
    id: device.id,
    site: device.site,
    kind: device.kind,
    building: device.building,
    room: device.room,
    parent: device.parent,
    rating_a: device.rating_a ?? null,
    switchable: hasRelay(device),
    protected: device.protected === true,
    online: live.online,
    last_seen: live.lastSeen,
    latest: live.latest,
    open_alerts: openAlerts,
  };
}

export function deviceViews(state: LiveState, devices: readonly Device[] = state.campus.devices): DeviceView[] {
  return devices.map((d) => deviceView(d, state, state.openAlertsOf(d.id)));
}

/** Live power of a device: its total `power_w`, else the sum of its phases' `power_w`; null if unknown. */
export function devicePowerW(latest: LatestValues): number | null {
  if (typeof latest.power_w === "number") return latest.power_w;
  const phases = Object.values(latest.phases ?? {}).filter((p) => typeof p?.power_w === "number");
  return phases.length > 0 ? phases.reduce((sum, p) => sum + (p!.power_w as number), 0) : null;
}

/** Each building's devices, worked out once per campus (a district holds tens of thousands of devices). */
const devicesByBuildingOf = new WeakMap<Campus, ReadonlyMap<string, readonly Device[]>>();
function devicesOfBuilding(campus: Campus, buildingId: string): readonly Device[] {
  let byBuilding = devicesByBuildingOf.get(campus);
  if (byBuilding === undefined) {
    const map = new Map<string, Device[]>();
    for (const d of campus.devices) {
      const list = map.get(d.building);
      if (list === undefined) map.set(d.building, [d]);
      else list.push(d);
    }
    devicesByBuildingOf.set(campus, (byBuilding = map));
  }
  return byBuilding.get(buildingId) ?? [];
}

/**
 * Live power of a building without double counting (a breaker's power already includes its sockets'):
 * start at the building's top-level devices (no parent, or a parent in another building) and take
 * the highest device on each branch that is online and reports power; where a device is offline or
 * reports none, descend to its children in the same building instead.
 */
export function buildingPowerW(campus: Campus, state: LiveState, buildingId: string): number {
  const { topLevel, children } = treeOfBuilding(campus, buildingId);
  const branch = (device: Device): number => {
    const live = state.device(device.id);
    const power = live.online ? devicePowerW(live.latest) : null;
    if (power !== null) return power;
    let sum = 0;
    for (const child of children.get(device.id) ?? []) sum += branch(child);
    return sum;
  };
  let sum = 0;
  for (const device of topLevel) sum += branch(device);
  return sum;
}

interface BuildingTree {
  /** No parent, or a parent in another building. */
  topLevel: readonly Device[];
  /** A device's children in the same building. */
  children: ReadonlyMap<string, readonly Device[]>;
}

/** Each building's electrical tree, worked out once per campus: GET /api/sites walks every building of a district. */
const treesOf = new WeakMap<Campus, Map<string, BuildingTree>>();
function treeOfBuilding(campus: Campus, buildingId: string): BuildingTree {
  let trees = treesOf.get(campus);
  if (trees === undefined) treesOf.set(campus, (trees = new Map()));
  let tree = trees.get(buildingId);
  if (tree === undefined) {
    const inBuilding = devicesOfBuilding(campus, buildingId);
    const children = new Map<string, Device[]>();
    for (const d of inBuilding) {
      if (d.parent === null) continue;
      const list = children.get(d.parent);
      if (list === undefined) children.set(d.parent, [d]);
      else list.push(d);
    }
    const topLevel = inBuilding.filter((d) => d.parent === null || campus.deviceById.get(d.parent)?.building !== buildingId);
    trees.set(buildingId, (tree = { topLevel, children }));
  }
  return tree;
}

const tenths = (watts: number) => Math.round(watts * 10) / 10;

export function buildingViews(state: LiveState, buildings: readonly Building[] = state.campus.buildings): BuildingView[] {
  const { campus } = state;
  const alertCounts = countBy(state.openAlerts(), (a) => a.building);
  return buildings.map((b) => {
    const devices = devicesOfBuilding(campus, b.id);
    return {
      id: b.id,
      site: b.site,
      name: b.name,
      kind: b.kind,
      power_w: tenths(buildingPowerW(campus, state, b.id)),
      devices_online: devices.filter((d) => state.device(d.id).online).length,
      devices_total: devices.length,
      open_alerts: alertCounts.get(b.id) ?? 0,
    };
  });
}

/** A site's live totals (GET /api/sites; the energy figures are the route's). */
export interface SiteLive {
  id: string;
  name: string;
  timezone: string;
  devices_total: number;
  devices_online: number;
  power_w: number;
  open_alerts: number;
  open_alerts_by_severity: Record<Severity, number>;
}

/**
 * The live totals of a site: its buildings' power added up (each counted as its building total is), its
 * devices online, and its open alerts (`alertsOfSite`: the open alerts the caller sees of that site).
 */
export function siteLive(state: LiveState, site: Campus, alertsOfSite: readonly Alert[]): SiteLive {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const alert of alertsOfSite) bySeverity[alert.severity] += 1;
  return {
    id: site.site.id,
    name: site.site.name,
    timezone: site.site.timezone,
    devices_total: site.devices.length,
    devices_online: state.onlineIn(site.site.id),
    power_w: tenths(site.buildings.reduce((sum, b) => sum + buildingPowerW(state.campus, state, b.id), 0)),
    open_alerts: alertsOfSite.length,
    open_alerts_by_severity: bySeverity,
  };
}
