// The campus file's shape (CONTRACT §2) as one TypeBox schema; the file's types are `Static<>` of it.
// A device's schema is in ./device-schema.ts, the schedules' (CONTRACT §10) in ./schedules.ts, the
// calendar's (§11) in ./calendar.ts. What a
// schema cannot say (references between entries, cycles, time zones) is checked in ./references.ts.
import { type Static, Type as T } from "@sinclair/typebox";
import { literalUnion } from "../schema.js";
import { AlertsConfigSchema } from "../campus-alerts.js";
import { DeviceSchema, ID_PATTERN, SECRET_SHA256_PATTERN } from "./device-schema.js";
import { ScheduleSchema } from "./schedules.js";
import { CalendarSchema } from "./calendar.js";
import { NotifyRoutesSchema } from "../district/schema.js";

export {
  DEVICE_FORMATS,
  DEVICE_KINDS,
  type Device,
  type DeviceFormat,
  type DeviceInFile,
  type DeviceKind,
  DeviceSchema,
  ID_PATTERN,
} from "./device-schema.js";
export { type Schedule, ScheduleSchema } from "./schedules.js";

export const BUILDING_KINDS = ["classroom", "dormitory", "lab", "office", "canteen", "other"] as const;
/**
 * Extension: a gateway that publishes for many devices on one connection (a Zigbee2MQTT bridge: every
 * Zigbee device arrives through it). Its id is its MQTT user name; its password is derived like a
 * device's (or its own `secret_sha256`). What it may publish: broker/acl.ts (never as a device bound to
 * another bridge).
 */
export const BRIDGE_FORMATS = ["zigbee2mqtt"] as const;

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
    // CONTRACT §10: timed switching (定时通断电), in the site's time zone.
    schedules: T.Optional(T.Array(ScheduleSchema)),
    // CONTRACT §11: terms, holidays and make-up workdays; without it a school day is Monday to Friday.
    calendar: T.Optional(CalendarSchema),
    // Extension (docs/alerts.md): rule overrides, occupied hours, switching actions, allow-list, curve tables, silences.
    alerts: T.Optional(AlertsConfigSchema),
    // CONTRACT §14: notification routes (DingTalk, WeCom, Feishu, webhook, e-mail); checked by domain/district/notify-check.ts.
    notify: T.Optional(NotifyRoutesSchema),
  },
  { additionalProperties: false },
);

/** The campus file as written: optional keys may be absent. */
export type CampusFile = Static<typeof CampusSchema>;
export type SiteInFile = Static<typeof SiteSchema>;
export type BuildingInFile = Static<typeof BuildingSchema>;
/** A building as the services see it: with the id of the site it belongs to (CONTRACT §9). */
export type Building = BuildingInFile & { site: string };
export type Bridge = Static<typeof BridgeSchema>;

export type BuildingKind = BuildingInFile["kind"];

/** The site as the services see it: the file's shape with the nominal voltage filled in (220 V). */
export type Site = SiteInFile & Required<Pick<SiteInFile, "nominal_voltage_v">>;
