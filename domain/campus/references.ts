// What the campus schema cannot check: unique ids, references to buildings, parents and bridges, parent
// cycles, foreign sources (reserved topics, one device's topics inside another's: ./topic-spaces.ts), the
// time zone, the schedules' references (./schedules.ts). Run on whatever parts of the document are well typed, even when
// the schema failed, so one run lists every problem (a typo in one key must not hide a duplicate id).
import type { Problem } from "../errors.js";
import { RPC_REPLY_PREFIX } from "../formats/commands.js";
import { jsonObjectOrEmpty, type JsonObject } from "../json-object.js";
import type { DeviceInFile } from "./device-schema.js";
import { checkScheduleReferences } from "./schedules.js";
import { checkNestedSources } from "./topic-spaces.js";

/** The MQTT username of the internal service account (CONTRACT §3): no device or bridge may take it. */
export const SERVICE_USERNAME = "campus-service";

type LooseDevice = { [K in keyof DeviceInFile]?: unknown };
export interface LenientCampus {
  site: { timezone?: unknown };
  alerts?: unknown;
  calendar?: unknown;
  buildings: { id?: unknown }[];
  devices: LooseDevice[];
  bridges: { id?: unknown; format?: unknown }[];
  schedules: JsonObject[];
}

/** The document as far as it can be read: arrays kept index for index, anything else dropped. */
export function lenientView(raw: unknown): LenientCampus {
  const list = (value: unknown) => (Array.isArray(value) ? value.map(jsonObjectOrEmpty) : []);
  const doc = jsonObjectOrEmpty(raw);
  return { site: jsonObjectOrEmpty(doc.site), alerts: doc.alerts, calendar: doc.calendar, buildings: list(doc.buildings), devices: list(doc.devices), bridges: list(doc.bridges), schedules: list(doc.schedules) };
}

export function checkTimezone(timezone: unknown): Problem[] {
  if (typeof timezone !== "string") return []; // the schema reports it
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
    return [];
  } catch {
    return [{ path: "site.timezone", message: `unknown IANA time zone "${timezone}"` }];
  }
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export function checkReferences(doc: LenientCampus): Problem[] {
  const problems: Problem[] = [];
  const buildingIds = new Set<string>();
  doc.buildings.forEach((b, i) => {
    const id = str(b.id);
    if (id === undefined) return;
    if (buildingIds.has(id)) problems.push({ path: `buildings[${i}].id`, message: `duplicate building id "${id}"` });
    buildingIds.add(id);
  });

  const bridgeFormats = new Map<string, unknown>();
  doc.bridges.forEach((b, i) => {
    const id = str(b.id);
    if (id === undefined) return;
    if (bridgeFormats.has(id)) problems.push({ path: `bridges[${i}].id`, message: `duplicate bridge id "${id}"` });
    if (id === SERVICE_USERNAME) problems.push({ path: `bridges[${i}].id`, message: `"${SERVICE_USERNAME}" is reserved for the service account` });
    if (doc.devices.some((d) => d.id === id)) problems.push({ path: `bridges[${i}].id`, message: `"${id}" is also a device id: an MQTT user name must name one account` });
    bridgeFormats.set(id, b.format);
  });

  const deviceIds = new Set<string>();
  const sources = new Map<string, number>();
  doc.devices.forEach((d, i) => {
    const at = `devices[${i}]`;
    const id = str(d.id);
    const building = str(d.building);
    if (id !== undefined && deviceIds.has(id)) problems.push({ path: `${at}.id`, message: `duplicate device id "${id}"` });
    if (id !== undefined) deviceIds.add(id);
    if (building !== undefined && !buildingIds.has(building)) problems.push({ path: `${at}.building`, message: `unknown building "${building}"` });
    if (d.kind === "breaker" && d.rating_a === undefined) problems.push({ path: `${at}.rating_a`, message: "a breaker needs its rated current rating_a" });
    if (d.curve !== undefined && d.kind !== "breaker") problems.push({ path: `${at}.curve`, message: "only breakers have a trip curve" });
    if (id === SERVICE_USERNAME) problems.push({ path: `${at}.id`, message: `"${SERVICE_USERNAME}" is reserved for the service account` });
    const format = str(d.format) ?? "native";
    if (format !== "native" && d.source === undefined) problems.push({ path: `${at}.source`, message: `format "${format}" needs the device's own topic id in "source"` });
    if (format === "native" && d.source !== undefined) problems.push({ path: `${at}.source`, message: 'a "source" is only used with a foreign "format"' });
    if (typeof d.source === "string" && /^(campus\/|\$)/.test(d.source)) {
      problems.push({ path: `${at}.source`, message: 'a source may not start with "campus/" or "$" (topics reserved for the system)' });
    }
    if (typeof d.source === "string" && (d.source === RPC_REPLY_PREFIX || d.source.startsWith(`${RPC_REPLY_PREFIX}/`))) {
      problems.push({ path: `${at}.source`, message: `a source may not be "${RPC_REPLY_PREFIX}" or start with "${RPC_REPLY_PREFIX}/" (where Shelly Gen2 devices answer the system's commands, ${RPC_REPLY_PREFIX}/{device id}/rpc)` });
    }
    if (format === "zigbee2mqtt" && typeof d.source === "string" && /^bridge(\/|$)/.test(d.source)) {
      problems.push({ path: `${at}.source`, message: 'a Zigbee2MQTT friendly name may not be "bridge" or start with "bridge/" (the bridge\'s own topics)' });
    }
    const bridge = str(d.bridge);
    if (bridge !== undefined && !bridgeFormats.has(bridge)) problems.push({ path: `${at}.bridge`, message: `unknown bridge "${bridge}"` });
    else if (bridge !== undefined && bridgeFormats.get(bridge) !== format) {
      problems.push({ path: `${at}.bridge`, message: `bridge "${bridge}" speaks ${String(bridgeFormats.get(bridge))}, this device ${format}` });
    }
    if (typeof d.source === "string") {
      const key = `${format}/${d.source}`;
      const first = sources.get(key);
      if (first !== undefined) problems.push({ path: `${at}.source`, message: `source "${d.source}" is already used by devices[${first}]` });
      else sources.set(key, i);
    }
  });

  doc.devices.forEach((d, i) => {
    const parent = str(d.parent);
    if (parent === undefined) return;
    if (!deviceIds.has(parent)) problems.push({ path: `devices[${i}].parent`, message: `unknown parent device "${parent}"` });
    else if (parent === d.id) problems.push({ path: `devices[${i}].parent`, message: "a device cannot be its own parent" });
  });
  problems.push(...findCycles(doc.devices));
  problems.push(...checkNestedSources(doc.devices, doc.bridges.length > 0));
  problems.push(...checkScheduleReferences(doc.schedules, doc.devices, buildingIds));
  return problems;
}

function findCycles(devices: LooseDevice[]): Problem[] {
  const parentOf = new Map(devices.filter((d) => typeof d.id === "string").map((d) => [d.id as string, str(d.parent) ?? null]));
  const reported = new Set<string>();
  const problems: Problem[] = [];
  devices.forEach((d, i) => {
    if (typeof d.id !== "string") return;
    const seen = new Set<string>([d.id]);
    let current = parentOf.get(d.id) ?? null;
    while (current !== null && parentOf.has(current)) {
      if (current === d.id) {
        const cycle = [...seen].sort().join(" → ");
        if (!reported.has(cycle) && seen.size > 1) {
          problems.push({ path: `devices[${i}].parent`, message: `parent chain forms a cycle: ${[...seen].join(" → ")} → ${d.id}` });
          reported.add(cycle);
        }
        break;
      }
      if (seen.has(current)) break; // a cycle further up; reported from one of its own members
      seen.add(current);
      current = parentOf.get(current) ?? null;
    }
  });
  return problems;
}
