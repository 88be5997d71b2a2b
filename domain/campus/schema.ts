// The campus file's shape (CONTRACT §2) as one TypeBox schema; the file's types are `Static<>` of it.
// What a schema cannot say (references between entries, cycles, time zones) is checked in ./references.ts.
import { type Static, Type as T } from "@sinclair/typebox";
import { literalUnion } from "../schema.js";
import { AlertsConfigSchema, RuleOverridesSchema } from "../campus-alerts.js";

export const BUILDING_KINDS = ["classroom", "dormitory", "lab", "office", "canteen", "other"] as const;
export const DEVICE_KINDS = ["breaker", "socket", "meter", "detector"] as const;
export const DEVICE_FORMATS = ["native", "tasmota", "shelly-gen1", "shelly-gen2", "zigbee2mqtt"] as const;
/**
 * Extension: a gateway that publishes for many devices on one connection (a Zigbee2MQTT bridge: every
 * Zigbee device arrives through it). Its id is its MQTT user name; its password is derived like a
 * device's (or its own `secret_sha256`). What it may publish: broker/acl.ts (never as a device bound to
 * another bridge).
 */
export const BRIDGE_FORMATS = ["zigbee2mqtt"] as const;

/** Ids are MQTT user names and topic levels (CONTRACT §2): lowercase letters, digits and "-", at most 64. */
export const ID_PATTERN = "^[a-z0-9-]{1,64}$";
const SECRET_SHA256_PATTERN = "^[0-9a-f]{64}$";


export const SiteSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
    timezone: T.String({ minLength: 1 }),
    nominal_voltage_v: T.Optional(T.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

export const BuildingSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    name: T.String({ minLength: 1 }),
    kind: literalUnion(BUILDING_KINDS),
  },
  { additionalProperties: false },
);

export const DeviceSchema = T.Object(
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
    secret_sha256: T.Optional(T.String({ pattern: SECRET_SHA256_PATTERN })),
    // Extension (README "Zigbee2MQTT bridges"): the bridge account that publishes for this device.
    bridge: T.Optional(T.String()),
    // Extension (docs/alerts.md): rule overrides for this device, and its breaker's curve table.
    alerts: T.Optional(RuleOverridesSchema),
    breaker_model: T.Optional(T.String({ minLength: 1 })),
    // CONTRACT §10: a circuit that must stay on (fire pump, emergency lighting, server room, lab fridge):
    // neither it nor anything upstream of it may be switched remotely, by anyone or anything.
    protected: T.Optional(T.Boolean()),
    // CONTRACT §10: whether the device has a relay the product may drive (default: breakers and sockets yes,
    // meters and detectors no).
    switchable: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);

export const BridgeSchema = T.Object(
  {
    id: T.String({ pattern: ID_PATTERN }),
    format: literalUnion(BRIDGE_FORMATS),
    secret_sha256: T.Optional(T.String({ pattern: SECRET_SHA256_PATTERN })),
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

/** The campus file as written: optional keys may be absent. */
export type CampusFile = Static<typeof CampusSchema>;
export type SiteInFile = Static<typeof SiteSchema>;
export type DeviceInFile = Static<typeof DeviceSchema>;
export type Building = Static<typeof BuildingSchema>;
export type Bridge = Static<typeof BridgeSchema>;

export type BuildingKind = Building["kind"];
export type DeviceKind = DeviceInFile["kind"];
export type DeviceFormat = NonNullable<DeviceInFile["format"]>;

/** The site as the services see it: the file's shape with the nominal voltage filled in (220 V). */
export type Site = SiteInFile & Required<Pick<SiteInFile, "nominal_voltage_v">>;
/** A device as the services see it: the file's shape with its defaults filled in (see ./parse.ts). */
export type Device = DeviceInFile & Required<Pick<DeviceInFile, "room" | "parent" | "phases" | "format" | "report_interval_s">>;
