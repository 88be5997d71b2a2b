// CAMPUS_CONFIG text → one validated `Campus` for the whole deployment (CONTRACT §9). A campus file is a
// district of one; a district file names its sites (paths relative to it, or inline), each checked as a
// campus file on its own, then together: site, device, bridge and building ids unique across the district
// (a device id is its MQTT user name; a building id names the building in InfluxDB and the live stream;
// schedule and campus-file silence ids name a command's issuer and a window to end),
// no device's topics inside another school's, every notification route to a known site. Every problem is
// listed with its file and path. Pure: the caller reads the files (`read`).
import { Value } from "@sinclair/typebox/value";
import { type Campus, type CampusResult, firstPerPath, jsonPointerToPath, parseYaml, validateCampus } from "../campus/parse.js";
import { checkNestedSources } from "../campus/topic-spaces.js";
import type { Problem } from "../errors.js";
import { jsonObjectOrEmpty } from "../json-object.js";
import { mergeSites } from "./merge.js";
import { checkNotifyRoutes } from "./notify-check.js";
import { DistrictSchema, type DistrictFile, NotifyRoutesSchema } from "./schema.js";

/** Reads a site file named in the district file (its path as written there). */
export type ReadSiteFile = (path: string) => { ok: true; text: string } | { ok: false; message: string };

interface SiteEntry {
  /** Where its problems are: the site file's path, or `sites[i]` of the district file for an inline site. */
  label: string;
  raw: unknown;
  result: CampusResult | null;
}

/** Whether a parsed config document is a district file (it has a top-level `district`). */
export const isDistrictDocument = (raw: unknown) => typeof raw === "object" && raw !== null && !Array.isArray(raw) && "district" in raw;

/** Parses CAMPUS_CONFIG's text (`label`: its path, for messages); a district file's sites through `read`. */
export function parseConfigText(text: string, label: string, read: ReadSiteFile): CampusResult {
  // A campus file's problems are named by their path in it, as ever; a district's by file and path.
  const parsed = parseYaml(text);
  if (!parsed.ok) return parsed;
  return isDistrictDocument(parsed.value) ? validateDistrict(parsed.value, label, read) : validateCampusWithRoutes(parsed.value);
}

/** A `notify` problem in the schema's words, replaced by ./notify-check.ts's (the same paths, in a deployer's words). */
const isRouteProblem = (path: string) => /^(.*: )?notify(\[|$)/.test(path);

/** A campus file (CONTRACT §14: it may carry `notify:` too, routes to its own site only). */
function validateCampusWithRoutes(raw: unknown): CampusResult {
  const result = validateCampus(raw);
  const document = jsonObjectOrEmpty(raw);
  const own = siteIdOf(raw);
  const routes = checkNotifyRoutes(document.notify, new Set(own === undefined ? [] : [own]));
  if (routes.length === 0) return result;
  return { ok: false, problems: [...(result.ok ? [] : result.problems.filter((p) => !isRouteProblem(p.path))), ...routes] };
}

function validateDistrict(raw: unknown, label: string, read: ReadSiteFile): CampusResult {
  const problems: Problem[] = [];
  // The routes are checked on their own (./notify-check.ts), once the sites they name are known.
  const routes = jsonObjectOrEmpty(raw).notify;
  const rest = { ...jsonObjectOrEmpty(raw), notify: [] };
  for (const error of Value.Errors(DistrictSchema, rest)) problems.push({ path: `${label}: ${jsonPointerToPath(error.path)}`, message: error.value === undefined ? "is required" : error.message });
  if (!Value.Check(DistrictSchema, rest)) {
    const known = checkNotifyRoutes(routes, new Set()).filter((p) => !p.message.startsWith("unknown site"));
    return { ok: false, problems: [...firstPerPath(problems), ...at(label, known)] };
  }
  const doc: DistrictFile = rest;

  doc.sites.forEach((site, index) => {
    if (typeof site === "string" && doc.sites.indexOf(site) < index) problems.push({ path: `${label}: sites[${index}]`, message: `${site} is already listed at sites[${doc.sites.indexOf(site)}]` });
  });
  const entries: SiteEntry[] = doc.sites.map((site, index) => {
    if (typeof site === "string" && doc.sites.indexOf(site) < index) return { label: site, raw: null, result: null };
    if (typeof site !== "string") return { label: `${label}: sites[${index}]`, raw: site, result: validateCampus(site) };
    const file = read(site);
    if (!file.ok) {
      problems.push({ path: `${label}: sites[${index}]`, message: `cannot read site file ${site}: ${file.message}` });
      return { label: site, raw: null, result: null };
    }
    const yaml = parseYaml(file.text);
    if (!yaml.ok) return { label: site, raw: null, result: yaml };
    return { label: site, raw: yaml.value, result: validateCampus(yaml.value) };
  });
  for (const entry of entries) if (entry.result && !entry.result.ok) problems.push(...at(entry.label, entry.result.problems));
  problems.push(...checkAcrossSites(entries));

  const known = new Set(entries.map((e) => siteIdOf(e.raw)).filter((id) => id !== undefined));
  problems.push(...at(label, checkNotifyRoutes(routes, known)));
  const notify = routes ?? [];
  if (!Value.Check(NotifyRoutesSchema, notify)) return { ok: false, problems: problems.length > 0 ? problems : [{ path: `${label}: notify`, message: "does not match the route schema" }] };

  const campuses = entries.flatMap((e) => (e.result?.ok ? [e.result.campus] : []));
  if (problems.length > 0 || campuses.length !== entries.length) return { ok: false, problems };
  const nested = checkNestedSources(campuses.flatMap((c) => c.devices.map((d) => ({ ...d }))), campuses.some((c) => c.bridges.length > 0));
  const whose = placesOf(entries, campuses);
  const crossing = nested.map((p) => ({ path: `${label}: sites`, message: p.message.replace(/devices\[(\d+)\]/g, (_, i: string) => whose[Number(i)] ?? `devices[${i}]`) }));
  if (crossing.length > 0) return { ok: false, problems: crossing };
  return { ok: true, campus: mergeSites(doc.district, campuses, notify) };
}

/** Ids that must be unique across the district, with both places named (a file's own duplicates its own check reports). */
function checkAcrossSites(entries: readonly SiteEntry[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, { file: string; where: string }>();
  for (const entry of entries) {
    const claim = (space: string, id: unknown, path: string, what: string) => {
      if (typeof id !== "string") return;
      const where = `${entry.label}: ${path}`;
      const first = seen.get(`${space}\u0000${id}`);
      if (first === undefined) seen.set(`${space}\u0000${id}`, { file: entry.label, where });
      else if (first.file !== entry.label) problems.push({ path: where, message: `${what} "${id}" is also at ${first.where}: ${what}s are unique across the district` });
    };
    const doc = jsonObjectOrEmpty(entry.raw);
    claim("site", jsonObjectOrEmpty(doc.site).id, "site.id", "site id");
    // A device's and a bridge's id are both MQTT user names: one space.
    listOf(doc.devices).forEach((d, i) => {
      claim("user", d.id, `devices[${i}].id`, "device id");
      // Two devices of one format with one source would share their topics (CONTRACT §3).
      if (typeof d.source === "string") claim("source", `${typeof d.format === "string" ? d.format : "native"}/${d.source}`, `devices[${i}].source`, "format/source");
    });
    listOf(doc.bridges).forEach((b, i) => claim("user", b.id, `bridges[${i}].id`, "device id"));
    listOf(doc.buildings).forEach((b, i) => claim("building", b.id, `buildings[${i}].id`, "building id"));
    // A schedule's commands are issued as schedule:{id}, and a maintenance window is ended by its id.
    listOf(doc.schedules).forEach((x, i) => claim("schedule", x.id, `schedules[${i}].id`, "schedule id"));
    listOf(jsonObjectOrEmpty(doc.alerts).silences).forEach((x, i) => claim("silence", x.id, `alerts.silences[${i}].id`, "silence id"));
  }
  return problems;
}

/** For the merged device list: each index's place, `file: devices[i] (id)`. */
function placesOf(entries: readonly SiteEntry[], campuses: readonly Campus[]): string[] {
  return campuses.flatMap((c, s) => c.devices.map((d, i) => `${entries[s]!.label}: devices[${i}] (${d.id})`));
}

const listOf = (value: unknown) => (Array.isArray(value) ? value.map(jsonObjectOrEmpty) : []);
const siteIdOf = (raw: unknown) => {
  const id = jsonObjectOrEmpty(jsonObjectOrEmpty(raw).site).id;
  return typeof id === "string" ? id : undefined;
};
const at = (label: string, problems: readonly Problem[]) => problems.map((p) => ({ path: `${label}: ${p.path}`, message: p.message }));
