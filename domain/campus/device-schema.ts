// A device of the campus file (CONTRACT §2, §10) as one TypeBox schema, in a module of its own: the
// electrical tree's checks (domain/command.ts `switchRefusal`) need the device's type, and the campus
// schema (./schema.ts) composes this one with the schedules, which need those checks.
import { type Static, Type as T } from "@sinclair/typebox";
import { literalUnion } from "../schema.js";
import { RuleOverridesSchema } from "../campus-alerts.js";

export const DEVICE_KINDS = ["breaker", "socket", "meter", "detector"] as const;
export const DEVICE_FORMATS = ["native", "tasmota", "shelly-gen1", "shelly-gen2", "zigbee2mqtt"] as const;
/** Ids are MQTT user names and topic levels (CONTRACT §2): lowercase letters, digits and "-", at most 64. */
export const ID_PATTERN = "^[a-z0-9-]{1,64}$";
export const SECRET_SHA256_PATTERN = "^[0-9a-f]{64}$";

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

export type DeviceInFile = Static<typeof DeviceSchema>;
export type DeviceKind = DeviceInFile["kind"];
export type DeviceFormat = NonNullable<DeviceInFile["format"]>;
/** A device as the services see it: defaults filled in, and the id of the site it belongs to (CONTRACT §9). */
export type Device = DeviceInFile & Required<Pick<DeviceInFile, "room" | "parent" | "phases" | "format" | "report_interval_s">> & { site: string };
