// Sites, each a validated campus, → the district's one `Campus` (CONTRACT §9): every site's buildings,
// devices, bridges and schedules side by side, lookups across the district, and each device's and
// building's own site. Ids are already known to be unique across the district (./parse.ts).
import type { Campus } from "../campus/parse.js";
import type { DistrictInfo, NotifyRoute } from "./schema.js";

export function mergeSites(district: DistrictInfo, sites: readonly Campus[], notify: readonly NotifyRoute[]): Campus {
  const first = sites[0]!;
  const all = <T>(pick: (site: Campus) => readonly T[]) => Object.freeze(sites.flatMap(pick));
  const devices = all((s) => s.devices);
  const buildings = all((s) => s.buildings);
  const bridges = all((s) => s.bridges);
  return Object.freeze({
    // The first site's site, alert settings and calendar: per-device code reads its own site's (siteOfDevice).
    site: first.site,
    alerts: first.alerts,
    calendar: first.calendar,
    district: Object.freeze({ ...district }),
    sites: Object.freeze([...sites]),
    siteOfDevice: new Map(sites.flatMap((s) => s.devices.map((d) => [d.id, s] as const))),
    siteOfBuilding: new Map(sites.flatMap((s) => s.buildings.map((b) => [b.id, s] as const))),
    notify: Object.freeze(notify.map((route) => Object.freeze({ ...route }))),
    buildings,
    devices,
    bridges,
    schedules: all((s) => s.schedules),
    deviceById: new Map(devices.map((d) => [d.id, d])),
    buildingById: new Map(buildings.map((b) => [b.id, b])),
    bridgeById: new Map(bridges.map((b) => [b.id, b])),
  });
}
