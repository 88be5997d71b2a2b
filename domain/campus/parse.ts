// YAML text → a validated, frozen `Campus`: the schema's problems and the cross-references' problems,
// all listed at once (path and reason); defaults filled in; lookups built once. Then, on the campus so
// built, what only a sound electrical tree can tell: whether a schedule reaches a protected device.
import { Value } from "@sinclair/typebox/value";
import { parseDocument } from "yaml";
import { checkAlertsConfig, freezeAlertsConfig, type AlertsConfig } from "../campus-alerts.js";
import type { SchoolCalendar } from "../calendar.js";
import type { Problem } from "../errors.js";
import { calendarFromFile, checkCalendar, DATE_PATTERN } from "./calendar.js";
import { checkReferences, checkTimezone, lenientView } from "./references.js";
import type { NotifyRoute } from "../district/schema.js";
import { checkScheduleSafety } from "./schedules.js";
import { BUILDING_KINDS, type Bridge, type Building, type CampusFile, CampusSchema, type Device, ID_PATTERN, type Schedule, type Site } from "./schema.js";

export interface Campus {
  /**
   * This campus's site. In a district (CONTRACT §9) that is the FIRST site's only: code about one device,
   * building or schedule takes its own site's campus from `siteOfDevice` / `siteOfBuilding` / `sites`.
   */
  site: Site;
  /** The district this campus belongs to (a plain campus file: a district of one, named as its site). */
  district: { id: string; name: string };
  /** Every site of the district, each a whole campus of its own (a plain campus file: itself). */
  sites: readonly Campus[];
  /** The site campus of each device and building, by id (ids are unique across the district). */
  siteOfDevice: ReadonlyMap<string, Campus>;
  siteOfBuilding: ReadonlyMap<string, Campus>;
  /** CONTRACT §9: per-school webhooks from the district file (empty for a plain campus file). */
  notify: readonly NotifyRoute[];
  buildings: readonly Building[];
  devices: readonly Device[];
  bridges: readonly Bridge[];
  /** Timed switching (CONTRACT §10), in the file's order (empty when absent). */
  schedules: readonly Schedule[];
  /**
   * CONTRACT §11: the site's school calendar (null: no `calendar:` block, every Monday–Friday is a school
   * day). In a district, the first site's: per-device code reads its own site's, as for `alerts`.
   */
  calendar: SchoolCalendar | null;
  /** The optional `alerts` section, parsed (empty when absent). */
  alerts: AlertsConfig;
  /** Lookups built once at load time. */
  deviceById: ReadonlyMap<string, Device>;
  buildingById: ReadonlyMap<string, Building>;
  bridgeById: ReadonlyMap<string, Bridge>;
}

/** A device's report interval when the file gives none, s (the offline watchdog waits 3 × this). */
export const DEFAULT_REPORT_INTERVAL_S = 60;
/** The site's nominal voltage when the file gives none, V (GB/T 156: 220 V single-phase). */
const DEFAULT_NOMINAL_VOLTAGE_V = 220;

export type CampusResult = { ok: true; campus: Campus } | { ok: false; problems: Problem[] };

export function parseCampusText(text: string): CampusResult {
  const parsed = parseYaml(text);
  return parsed.ok ? validateCampus(parsed.value) : parsed;
}

/** YAML text → plain data; a syntax error or a repeated key is a problem at its line. */
export function parseYaml(text: string): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? "?"}`, message: e.message.split("\n")[0] ?? e.message })),
    };
  }
  try {
    return { ok: true, value: doc.toJS() };
  } catch (error) {
    // yaml refuses to expand a document whose aliases multiply past its bound (maxAliasCount, 100: the
    // "billion laughs" of YAML anchors) by throwing; it is a problem of the file, not a crash. Found by
    // fuzzing (tests/fuzz/config-files.test.ts): check-config printed a stack trace.
    return { ok: false, problems: [{ path: "line ?", message: `cannot read the YAML: ${error instanceof Error ? error.message : String(error)}` }] };
  }
}

/** Validates a parsed campus document; lists every problem instead of stopping at the first. */
export function validateCampus(raw: unknown): CampusResult {
  const schemaProblems: Problem[] = [];
  for (const error of Value.Errors(CampusSchema, raw)) {
    schemaProblems.push({ path: jsonPointerToPath(error.path), message: describeSchemaError(error) });
  }
  // Cross-references are checked even when the schema failed, on whatever parts are well typed.
  const doc = lenientView(raw);
  const problems = [
    ...firstPerPath(schemaProblems),
    ...checkTimezone(doc.site.timezone),
    ...checkReferences(doc),
    ...checkCalendar(doc.calendar),
    ...checkAlertsConfig(doc.alerts, doc.devices, new Set(doc.buildings.map((b) => b.id as string)), BUILDING_KINDS),
  ];
  if (problems.length > 0 || !Value.Check(CampusSchema, raw)) return { ok: false, problems };
  const campus = freezeCampus(raw);
  // Only now is the tree sound (no cycles, every parent known) for walking what a schedule darkens.
  const unsafe = checkScheduleSafety(campus, campus.schedules);
  return unsafe.length > 0 ? { ok: false, problems: unsafe } : { ok: true, campus };
}

function freezeCampus(doc: CampusFile): Campus {
  const site: Site = Object.freeze({ ...doc.site, nominal_voltage_v: doc.site.nominal_voltage_v ?? DEFAULT_NOMINAL_VOLTAGE_V });
  const buildings = doc.buildings.map((b): Building => Object.freeze({ ...b, site: site.id }));
  const devices = doc.devices.map(
    (d): Device =>
      Object.freeze({
        ...d,
        site: site.id,
        room: d.room ?? null,
        parent: d.parent ?? null,
        phases: d.phases ?? 1,
        format: d.format ?? "native",
        report_interval_s: d.report_interval_s ?? DEFAULT_REPORT_INTERVAL_S,
      }),
  );
  const bridges = (doc.bridges ?? []).map((b) => Object.freeze({ ...b }));
  const schedules = (doc.schedules ?? []).map((s) => Object.freeze({ ...s }));
  // A plain campus is a district of one: its only site is itself.
  const sites: Campus[] = [];
  const siteOfDevice = new Map<string, Campus>();
  const siteOfBuilding = new Map<string, Campus>();
  const campus: Campus = Object.freeze({
    site,
    district: Object.freeze({ id: site.id, name: site.name }),
    sites,
    siteOfDevice,
    siteOfBuilding,
    notify: Object.freeze((doc.notify ?? []).map((route) => Object.freeze({ ...route }))),
    buildings: Object.freeze(buildings),
    devices: Object.freeze(devices),
    bridges: Object.freeze(bridges),
    schedules: Object.freeze(schedules),
    calendar: calendarFromFile(doc.calendar),
    alerts: freezeAlertsConfig(doc.alerts),
    deviceById: new Map(devices.map((d) => [d.id, d])),
    buildingById: new Map(buildings.map((b) => [b.id, b])),
    bridgeById: new Map(bridges.map((b) => [b.id, b])),
  });
  sites.push(campus);
  Object.freeze(sites);
  for (const d of devices) siteOfDevice.set(d.id, campus);
  for (const b of buildings) siteOfBuilding.set(b.id, campus);
  return campus;
}

/** `/devices/3/id` → `devices[3].id`, the path a person finds in the file. */
export function jsonPointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("")
    .replace(/^\./, "");
}

function describeSchemaError(error: { message: string; path: string; schema: unknown; value: unknown }): string {
  const schema = error.schema as { anyOf?: { const?: unknown; pattern?: string }[]; pattern?: string };
  if (error.value === undefined) return "is required";
  if (schema.pattern === ID_PATTERN) {
    return `must be lowercase letters, digits and "-", at most 64 characters (got ${JSON.stringify(error.value)})`;
  }
  if (schema.pattern === DATE_PATTERN) return `must be a date "YYYY-MM-DD" (got ${JSON.stringify(error.value)})`;
  if (schema.anyOf?.some((s) => s.pattern === DATE_PATTERN)) {
    return `must be a date "YYYY-MM-DD" or a range {from: DATE, to: DATE} (got ${JSON.stringify(error.value)})`;
  }
  if (schema.anyOf?.every((s) => s.const !== undefined)) {
    return `must be one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(", ")} (got ${JSON.stringify(error.value)})`;
  }
  if (error.message === "Unexpected property") return "unknown key";
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

/** TypeBox reports a union mismatch once per branch; the first message per path is the clearest. */
export function firstPerPath(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const kept: Problem[] = [];
  for (const p of problems) {
    if (seen.has(p.path)) continue;
    seen.add(p.path);
    kept.push(p);
  }
  return kept;
}
