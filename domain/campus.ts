// The campus file (CONTRACT §2): one TypeBox schema, validated once at start with every
// problem listed (path and reason), then frozen and passed explicitly.
import { type Static, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parseDocument } from "yaml";
import { AlertsConfigSchema, checkAlertsConfig, freezeAlertsConfig, RuleOverridesSchema, type AlertsConfig, type RuleOverrides } from "./campus-alerts.js";
import { CampusError, ErrorCodes, type Problem } from "./errors.js";

export const BUILDING_KINDS = ["classroom", "dormitory", "lab", "office", "canteen", "other"] as const;
export const DEVICE_KINDS = ["breaker", "socket", "meter", "detector"] as const;
export const DEVICE_FORMATS = ["native", "tasmota", "shelly-gen1", "shelly-gen2", "zigbee2mqtt"] as const;
const ID_PATTERN = "^[a-z0-9-]{1,64}$";

const literalUnion = <V extends readonly string[]>(values: V) =>
  T.Union(values.map((v) => T.Literal(v)) as never) as unknown as ReturnType<typeof T.String>;

const SiteSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
    timezone: T.String({ minLength: 1 }),
    nominal_voltage_v: T.Optional(T.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

const BuildingSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
    kind: literalUnion(BUILDING_KINDS),
  },
  { additionalProperties: false },
);

const DeviceSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    kind: literalUnion(DEVICE_KINDS),
    building: T.String(),
    room: T.Optional(T.Union([T.String(), T.Null()])),
    parent: T.Optional(T.Union([T.String(), T.Null()])),
    rating_a: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    curve: T.Optional(T.Union([T.Literal("B"), T.Literal("C"), T.Literal("D")])),
    phases: T.Optional(T.Union([T.Literal(1), T.Literal(3)])),
    rcd_ma: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    format: T.Optional(literalUnion(DEVICE_FORMATS)),
    // A topic level: no wildcards, no tabs or line breaks, no space at either end; inner spaces are
    // fine (Zigbee2MQTT friendly names such as "Room 301 heater" have them).
    source: T.Optional(T.String({ minLength: 1, pattern: "^[^#+\\s]([^#+\\t\\n\\r\\f\\v]*[^#+\\s])?$" })),
    // Extension: the device's expected report interval, for the offline watchdog (3 × this).
    report_interval_s: T.Optional(T.Number({ exclusiveMinimum: 0 })),
    // Extension (CONTRACT §3): a device with its own secret; hex SHA-256 of its MQTT password.
    secret_sha256: T.Optional(T.String({ pattern: "^[0-9a-f]{64}$" })),
    // Extension (README "Zigbee2MQTT bridges"): the bridge account that publishes for this device.
    bridge: T.Optional(T.String()),
    // Extension (docs/alerts.md): rule overrides for this device, and its breaker's curve table.
    alerts: T.Optional(RuleOverridesSchema),
    breaker_model: T.Optional(T.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/**
 * Extension: a gateway that publishes for many devices on one connection (a Zigbee2MQTT bridge: every
 * Zigbee device arrives through it). Its id is its MQTT user name; its password is derived like a
 * device's (or its own `secret_sha256`). What it may publish: broker/acl.ts (never as a device bound to
 * another bridge).
 */
export const BRIDGE_FORMATS = ["zigbee2mqtt"] as const;
const BridgeSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    format: literalUnion(BRIDGE_FORMATS),
    secret_sha256: T.Optional(T.String({ pattern: "^[0-9a-f]{64}$" })),
  },
  { additionalProperties: false },
);

export const CampusSchema = T.Object(
  {
    site: SiteSchema,
    buildings: T.Array(BuildingSchema, { minItems: 1 }),
    devices: T.Array(DeviceSchema),
    bridges: T.Optional(T.Array(BridgeSchema)),
    // Extension (docs/alerts.md): rule overrides, schedules, allow-list, curve tables, silences.
    alerts: T.Optional(AlertsConfigSchema),
  },
  { additionalProperties: false },
);

type RawCampus = Static<typeof CampusSchema>;
export type BuildingKind = (typeof BUILDING_KINDS)[number];
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type DeviceFormat = (typeof DEVICE_FORMATS)[number];

export interface Site {
  id: string;
  name: string;
  timezone: string;
  nominal_voltage_v: number;
}
export interface Building {
  id: string;
  name: string;
  kind: BuildingKind;
}
export interface Device {
  id: string;
  kind: DeviceKind;
  building: string;
  room: string | null;
  parent: string | null;
  rating_a?: number;
  curve?: "B" | "C" | "D";
  phases: 1 | 3;
  rcd_ma?: number;
  format: DeviceFormat;
  source?: string;
  report_interval_s: number;
  secret_sha256?: string;
  bridge?: string;
  alerts?: RuleOverrides;
  breaker_model?: string;
}
export interface Bridge {
  id: string;
  format: (typeof BRIDGE_FORMATS)[number];
  secret_sha256?: string;
}
export interface Campus {
  site: Site;
  buildings: readonly Building[];
  devices: readonly Device[];
  bridges: readonly Bridge[];
  /** The optional `alerts` section, parsed (empty when absent). */
  alerts: AlertsConfig;
  /** Lookups built once at load time. */
  deviceById: ReadonlyMap<string, Device>;
  buildingById: ReadonlyMap<string, Building>;
  bridgeById: ReadonlyMap<string, Bridge>;
}

export const DEFAULT_REPORT_INTERVAL_S = 60;

export type CampusResult = { ok: true; campus: Campus } | { ok: false; problems: Problem[] };

/** Validates a parsed campus document; lists every problem instead of stopping at the first. */
export function validateCampus(raw: unknown): CampusResult {
  const schemaProblems: Problem[] = [];
  for (const error of Value.Errors(CampusSchema, raw)) {
    schemaProblems.push({ path: jsonPointerToPath(error.path), message: describeSchemaError(error) });
  }
  // Cross-references are checked even when the schema failed, on whatever parts are well typed,
  // so one run lists every problem (a typo in one key must not hide a duplicate id elsewhere).
  const doc = lenientView(raw);
  const problems = [
    ...dedupe(schemaProblems),
    ...(typeof doc.site?.timezone === "string" ? checkTimezone(doc.site.timezone) : []),
    ...checkReferences(doc),
    ...checkAlertsConfig(doc.alerts, doc.devices, new Set(doc.buildings.map((b) => b.id as string)), BUILDING_KINDS),
  ];
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, campus: freezeCampus(raw as RawCampus) };
}

type LooseDevice = { [K in keyof RawCampus["devices"][number]]?: unknown };
interface LenientCampus {
  site?: { timezone?: unknown };
  alerts?: unknown;
  buildings: { id?: unknown }[];
  devices: LooseDevice[];
  bridges: { id?: unknown; format?: unknown }[];
}

/** The document as far as it can be read: arrays kept index for index, anything else dropped. */
function lenientView(raw: unknown): LenientCampus {
  const record = (value: unknown) => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  const list = (value: unknown) => (Array.isArray(value) ? value.map(record) : []);
  const doc = record(raw);
  return { site: record(doc.site), alerts: doc.alerts, buildings: list(doc.buildings), devices: list(doc.devices), bridges: list(doc.bridges) };
}

export function parseCampusText(text: string): CampusResult {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? "?"}`, message: e.message.split("\n")[0] ?? e.message })),
    };
  }
  return validateCampus(doc.toJS());
}

function checkTimezone(timezone: string): Problem[] {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
    return [];
  } catch {
    return [{ path: "site.timezone", message: `unknown IANA time zone "${timezone}"` }];
  }
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function checkReferences(doc: LenientCampus): Problem[] {
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

function freezeCampus(doc: RawCampus): Campus {
  const site: Site = Object.freeze({ ...doc.site, nominal_voltage_v: doc.site.nominal_voltage_v ?? 220 });
  const buildings = doc.buildings.map((b) => Object.freeze({ ...b, kind: b.kind as BuildingKind }));
  const devices = doc.devices.map((d): Device =>
    Object.freeze({
      ...d,
      kind: d.kind as DeviceKind,
      room: d.room ?? null,
      parent: d.parent ?? null,
      phases: d.phases ?? 1,
      format: (d.format ?? "native") as DeviceFormat,
      report_interval_s: d.report_interval_s ?? DEFAULT_REPORT_INTERVAL_S,
    }),
  );
  const bridges = (doc.bridges ?? []).map((b): Bridge => Object.freeze({ ...b, format: b.format as Bridge["format"] }));
  return Object.freeze({
    site,
    buildings: Object.freeze(buildings),
    devices: Object.freeze(devices),
    bridges: Object.freeze(bridges),
    alerts: freezeAlertsConfig(doc.alerts),
    deviceById: new Map(devices.map((d) => [d.id, d])),
    buildingById: new Map(buildings.map((b) => [b.id, b])),
    bridgeById: new Map(bridges.map((b) => [b.id, b])),
  });
}

/** The MQTT username of the internal service account (CONTRACT §3). */
export const SERVICE_USERNAME = "campus-service";

function jsonPointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("")
    .replace(/^\./, "");
}

function describeSchemaError(error: { message: string; path: string; schema: unknown; value: unknown }): string {
  const schema = error.schema as { anyOf?: { const?: unknown }[] };
  if (error.value === undefined) return "is required";
  if ((error.schema as { pattern?: string }).pattern === ID_PATTERN) {
    return `must be lowercase letters, digits and "-", at most 64 characters (got ${JSON.stringify(error.value)})`;
  }
  if (schema.anyOf?.every((s) => s.const !== undefined)) {
    return `must be one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(", ")} (got ${JSON.stringify(error.value)})`;
  }
  if (error.message === "Unexpected property") return "unknown key";
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const kept: Problem[] = [];
  // TypeBox reports a union mismatch once per branch; the first message per path is the clearest.
  for (const p of problems) {
    if (seen.has(p.path)) continue;
    seen.add(p.path);
    kept.push(p);
  }
  return kept;
}
