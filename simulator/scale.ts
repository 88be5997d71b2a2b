// `simulate --devices N`: the configured campus cloned until it has N devices, for load tests. Clone k
// (k ≥ 1) gets `-k<k>` appended to every building and device id and `_k<k>` to every foreign source,
// so each clone is a whole, valid campus of its own; the original keeps its ids. A district file
// (CONTRACT §9) is scaled per site: every school cloned to N devices, the district written with its
// sites inline (ids stay unique across it: each clone's ids extend its own school's). Pure.
import { stringify } from "yaml";
import type { Campus, Device } from "../domain/campus.js";
import { parseConfigText } from "../domain/district/parse.js";

/** Devices in wiring order, parents first, so cutting the list short never orphans a child. */
function parentsFirst(devices: readonly Device[]): Device[] {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const depth = (d: Device, seen = 0): number => (d.parent && byId.has(d.parent) && seen < devices.length ? 1 + depth(byId.get(d.parent)!, seen + 1) : 0);
  return devices.map((d, i) => ({ d, i, depth: depth(d) })).sort((a, b) => a.depth - b.depth || a.i - b.i).map((x) => x.d);
}

/** The campus document (as the campus file would hold it) scaled to exactly `count` devices. */
export function scaledCampusDocument(campus: Campus, count: number): Record<string, unknown> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`--devices must be a whole number ≥ 1 (got ${count})`);
  const template = parentsFirst(campus.devices);
  if (template.length === 0) throw new Error("the campus has no devices to clone");
  const buildings: Record<string, unknown>[] = [];
  const devices: Record<string, unknown>[] = [];
  for (let k = 0; devices.length < count; k++) {
    const id = (base: string) => (k === 0 ? base : `${base}-k${k}`);
    for (const b of campus.buildings) buildings.push({ id: id(b.id), name: k === 0 ? b.name : `${b.name} (clone ${k})`, kind: b.kind });
    for (const d of template) {
      if (devices.length >= count) break;
      const clone: Record<string, unknown> = { id: id(d.id), kind: d.kind, building: id(d.building) };
      if (d.room !== null) clone.room = d.room;
      if (d.parent !== null) clone.parent = id(d.parent);
      for (const key of ["rating_a", "curve", "rcd_ma", "secret_sha256"] as const) if (d[key] !== undefined) clone[key] = d[key];
      if (d.phases !== 1) clone.phases = d.phases;
      if (d.format !== "native") clone.format = d.format;
      if (d.source !== undefined) clone.source = k === 0 ? d.source : `${d.source}_k${k}`;
      clone.report_interval_s = d.report_interval_s;
      devices.push(clone);
    }
    if (devices.some((d) => String(d.id).length > 64)) throw new Error("cloned device ids would pass 64 characters; use shorter ids");
  }
  const usedBuildings = new Set(devices.map((d) => d.building));
  return { site: { ...campus.site }, buildings: buildings.filter((b) => usedBuildings.has(b.id)), devices };
}

/** A plain campus file is its own only site; a district's sites are campuses of their own. */
const isDistrict = (campus: Campus) => campus.sites[0] !== campus;

/** The config document scaled: a campus to `count` devices, a district with each of its sites so (undefined: as they are). */
export function scaledConfigDocument(campus: Campus, count: number | undefined): Record<string, unknown> {
  if (!isDistrict(campus)) return scaledCampusDocument(campus, count ?? campus.devices.length);
  return {
    district: { ...campus.district },
    sites: campus.sites.map((site) => scaledCampusDocument(site, count ?? site.devices.length)),
    ...(campus.notify.length > 0 ? { notify: campus.notify.map((route) => ({ ...route })) } : {}),
  };
}

/** The scaled campus (or district), validated like any config file. */
export function scaleCampus(campus: Campus, count: number): Campus {
  if (campus.sites.every((site) => site.devices.length === count)) return campus;
  const inlineOnly = () => ({ ok: false as const, message: "a scaled district has its sites inline" });
  const result = parseConfigText(scaledCampusYaml(campus, count), "--devices", inlineOnly);
  if (!result.ok) throw new Error(`scaled campus is invalid: ${result.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  return result.campus;
}

/** The scaled campus (or district) as a config file, for the broker and the other services of a load test. */
export function scaledCampusYaml(campus: Campus, count: number | undefined): string {
  const what = isDistrict(campus) ? `each site of district ${campus.district.id}` : campus.site.id;
  const header = count === undefined ? `# ${what}, as campus-power simulate reads it` : `# ${count} devices: ${what} cloned by campus-power simulate --devices ${count}`;
  return `${header}\n${stringify(scaledConfigDocument(campus, count), { lineWidth: 0 })}`;
}

/**
 * `simulate --shard K/N`: every N-th device from the K-th (0-based), so N processes share a fleet; only
 * those of `onlyDevices` when given.
 */
export function shardDeviceIds(campus: Campus, index: number, count: number, onlyDevices?: readonly string[]): string[] {
  const mine = campus.devices.filter((_, i) => i % count === index).map((d) => d.id);
  const wanted = onlyDevices ? new Set(onlyDevices) : null;
  return wanted ? mine.filter((id) => wanted.has(id)) : mine;
}
