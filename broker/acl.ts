// Who may connect, publish and subscribe (CONTRACT §3), as pure predicates: no I/O, no aedes types,
// so every rule is unit-tested on a real campus file and the aedes hooks only translate.
import { type Bridge, type Campus, type Device, SERVICE_USERNAME } from "../domain/campus.js";
import { matchingFleetKey, safeEqual, sha256Hex } from "../domain/credentials.js";
import { type FleetKey, parseFleetKeys } from "../domain/env/fleet-keys.js";
import { RPC_REPLY_PREFIX, commandTopic, shellyRpcReplyTopic } from "../domain/formats/commands.js";

export type Identity =
  | { kind: "service" }
  | { kind: "device"; device: Device }
  /** `foreign`: the topic prefixes of the campus devices bound to another bridge. */
  | { kind: "bridge"; bridge: Bridge; foreign: readonly string[] };

/**
 * MQTT 3.1.1 CONNACK return codes we refuse with (§3.2.2.3).
 * 2 = identifier rejected, 4 = bad user name or password, 5 = not authorized.
 */
export type RefusalCode = 2 | 4 | 5;

export type AuthFailureReason =
  | "no_credentials" // anonymous: no user name at all
  | "no_password" // a user name without a password
  | "unknown_username"
  | "bad_password"
  | "not_configured"; // the secret the account needs (DEVICE_GROUP_KEY / SERVICE_PASSWORD) is empty

export type AuthResult =
  /** `fleetKey`: the id of the DEVICE_GROUP_KEY key the password derives from (for /metrics), when one did. */
  | { ok: true; identity: Identity; fleetKey?: string }
  | { ok: false; returnCode: RefusalCode; reason: AuthFailureReason };

export interface AuthSecrets {
  /** DEVICE_GROUP_KEY's text: one key or `id:key,id:key` (domain/env/fleet-keys.ts), validated at start. */
  deviceGroupKey: string;
  servicePassword: string;
}

/**
 * Checks a CONNECT's credentials.
 * - Anonymous (no user name) → 5 "not authorized": the client did not try to authenticate, so its
 *   credentials are not "bad"; it is simply not allowed (CONTRACT §3: anonymous clients are refused).
 * - Unknown user name, missing or wrong password → 4 "bad user name or password", the same code for
 *   all three so a client cannot probe which device ids exist. Metrics and logs keep the real reason.
 * Every comparison is constant time (`safeEqual`); a fleet password is compared with every listed key's
 * (CONTRACT §13), and an unknown user name costs the same comparisons as a known one.
 */
export function authenticate(
  campus: Campus,
  secrets: AuthSecrets,
  username: string | undefined,
  password: Buffer | string | undefined,
): AuthResult {
  if (username === undefined || username === "") return refuse(5, "no_credentials");
  if (password === undefined || password.length === 0) return refuse(4, "no_password");
  const given = typeof password === "string" ? Buffer.from(password, "utf8") : password;

  if (username === SERVICE_USERNAME) {
    // An empty SERVICE_PASSWORD must never mean "any password" (or "the empty password").
    if (secrets.servicePassword === "") return refuse(4, "not_configured");
    return safeEqual(given, secrets.servicePassword) ? { ok: true, identity: { kind: "service" } } : refuse(4, "bad_password");
  }

  const fleetKeys = parseFleetKeys(secrets.deviceGroupKey);
  const bridge = campus.bridgeById.get(username);
  if (bridge !== undefined) return checkAccount(bridge, given, fleetKeys, () => ({ kind: "bridge", bridge, foreign: foreignTopics(campus, bridge) }));
  const device = campus.deviceById.get(username);
  if (device === undefined) {
    matchingFleetKey(username, given, fleetKeys); // same work as a known device, so timing does not reveal ids
    return refuse(4, "unknown_username");
  }
  return checkAccount(device, given, fleetKeys, () => ({ kind: "device", device }));
}

/** A device's or a bridge's password: its own `secret_sha256` if it has one, else the HMAC of its id by a listed fleet key. */
function checkAccount(account: { id: string; secret_sha256?: string }, given: Buffer, fleetKeys: readonly FleetKey[], identity: () => Identity): AuthResult {
  if (account.secret_sha256 !== undefined) {
    // An account with its own secret: the fleet HMAC password must not work for it (CONTRACT §3).
    return safeEqual(sha256Hex(given), account.secret_sha256) ? { ok: true, identity: identity() } : refuse(4, "bad_password");
  }
  // With no fleet key anyone could compute every account's HMAC password (of the empty key).
  if (fleetKeys.length === 0) return refuse(4, "not_configured");
  const fleetKey = matchingFleetKey(account.id, given, fleetKeys);
  return fleetKey !== null ? { ok: true, identity: identity(), fleetKey } : refuse(4, "bad_password");
}

function refuse(returnCode: RefusalCode, reason: AuthFailureReason): AuthResult {
  return { ok: false, returnCode, reason };
}

/**
 * [MQTT-3.1.3-8] A zero-byte client id with CleanSession = 0 must be answered with CONNACK 0x02
 * "identifier rejected" and the connection closed. (With CleanSession = 1 the server assigns an id.)
 */
export function isClientIdRejected(clientId: string, clean: boolean): boolean {
  return clientId === "" && !clean;
}

/**
 * Topics only the service account may publish to: `$` topics are the server's own [MQTT-4.7.2-1]
 * (aedes listens on `$SYS/+/new/clients` to drop clients, so a spoofed one is a DoS, aedes#597);
 * alerts and the internal stream are what the other services trust (docs/architecture.md).
 * Checked before any allow rule, because a foreign device's `source` (free text in the campus file)
 * could otherwise spell one of them, e.g. a shelly-gen2 source "campus/internal".
 */
export function isReservedTopic(topic: string): boolean {
  return topic.startsWith("$") || topic.startsWith("campus/alerts/") || topic.startsWith("campus/internal/") || topic === "campus/alerts" || topic === "campus/internal";
}

const hasWildcard = (topic: string) => topic.includes("+") || topic.includes("#");

/**
 * Shelly Gen2 RPC replies (`campus-power/{device id}/rpc`, CONTRACT §10): each device may publish its own
 * reply topic and no other topic under the prefix, whatever its `source` spells, so no device can answer
 * for another; and no device may subscribe under it (a source spelling `campus-power/<other id>` would make
 * the other device's replies its "command topic").
 */
const isReplyTopic = (topic: string) => topic === RPC_REPLY_PREFIX || topic.startsWith(`${RPC_REPLY_PREFIX}/`);

/** May this identity publish to this topic name? */
export function canPublish(identity: Identity, topic: string): boolean {
  if (identity.kind === "service") return true; // CONTRACT §3: everywhere
  // [MQTT-3.3.2-2] a topic name has no wildcards (aedes refuses it earlier; kept so the predicate stands alone).
  if (topic === "" || hasWildcard(topic) || isReservedTopic(topic)) return false;
  if (identity.kind === "bridge") return bridgePublishes(identity, topic);
  const { device } = identity;
  if (isReplyTopic(topic)) return device.format === "shelly-gen2" && topic === shellyRpcReplyTopic(device.id);
  return devicePublishTopics(device).some((rule) => rule(topic));
}

/** May this identity subscribe to this topic filter? Devices get exact filters only; a bridge its base topic. */
export function canSubscribe(identity: Identity, filter: string): boolean {
  if (identity.kind === "service") return true;
  if (identity.kind === "bridge") return under(Z2M_BASE)(filter); // `zigbee2mqtt/#` included
  return !isReplyTopic(filter) && deviceCommandFilters(identity.device).includes(filter);
}

/**
 * A Zigbee2MQTT bridge publishes what Zigbee2MQTT publishes under its base topic: device states and
 * availability (of campus devices, and of Zigbee devices the campus file does not list, which the
 * ingest does not read) and `bridge/state|info|devices|logging|…`. It may not publish anything under a
 * campus device bound to another bridge (its state, availability or commands), commands (`…/set`,
 * `…/get`) or bridge requests, nor outside its base topic; such a publish is refused like a device's
 * (the client is disconnected). Devices bound to no bridge may come through any bridge.
 */
const Z2M_BASE = "zigbee2mqtt";
function bridgePublishes(identity: Extract<Identity, { kind: "bridge" }>, topic: string): boolean {
  if (!under(Z2M_BASE)(topic)) return false;
  const last = topic.slice(topic.lastIndexOf("/") + 1);
  if (last === "set" || last === "get" || topic.startsWith(`${Z2M_BASE}/bridge/request/`)) return false;
  return !identity.foreign.some((prefix) => topic === prefix || topic.startsWith(`${prefix}/`));
}

function foreignTopics(campus: Campus, bridge: Bridge): string[] {
  return campus.devices
    .filter((device) => device.format === bridge.format && device.bridge !== undefined && device.bridge !== bridge.id && device.source !== undefined)
    .map((device) => `${Z2M_BASE}/${device.source}`);
}


type TopicRule = (topic: string) => boolean;

const exactly =
  (expected: string): TopicRule =>
  (topic) =>
    topic === expected;

/** `prefix/…`: the prefix followed by at least one more non-empty level. */
const under =
  (prefix: string, except: readonly string[] = []): TopicRule =>
  (topic) =>
    topic.startsWith(`${prefix}/`) && topic.length > prefix.length + 1 && !topic.endsWith("/") && !except.includes(topic);

/**
 * The topics a device publishes, by format (CONTRACT §3; exact topics in shared/reference/anchors.md §2).
 * A foreign device publishes only its own format's topics, not the native ones.
 */
function devicePublishTopics(device: Device): TopicRule[] {
  const source = device.source;
  if (device.format === "native" || source === undefined) {
    return [exactly(`campus/devices/${device.id}/telemetry`), exactly(`campus/devices/${device.id}/status`), exactly(`campus/devices/${device.id}/events`)];
  }
  switch (device.format) {
    case "tasmota":
      // tele/<t>/SENSOR|STATE|LWT|…, stat/<t>/RESULT|POWER|…
      return [under(`tele/${source}`), under(`stat/${source}`)];
    case "shelly-gen1":
      // shellies/<id>/relay/0/power|energy, …/online, …/temperature; not its own command topic.
      return [under(`shellies/${source}`, [`shellies/${source}/relay/0/command`])];
    case "shelly-gen2":
      // Its RPC replies (campus-power/{its id}/rpc) are granted by canPublish, before these rules.
      return [under(`${source}/status`), exactly(`${source}/events/rpc`), exactly(`${source}/online`)];
    case "zigbee2mqtt":
      return [exactly(`${Z2M_BASE}/${source}`), exactly(`${Z2M_BASE}/${source}/availability`)];
  }
}

/**
 * The filters a device may subscribe to: the topic its commands are published to (domain/formats/commands.ts
 * `commandTopic`, the same function the command executor publishes with), nothing else; and for Tasmota the
 * filter its firmware subscribes with, `cmnd/<topic>/#` (Tasmota docs, MQTT: "cmnd/%topic%/<command>"),
 * which only the service account can publish to.
 */
export function deviceCommandFilters(device: Device): readonly string[] {
  const own = commandTopic(device);
  return device.format === "tasmota" && device.source !== undefined ? [`cmnd/${device.source}/#`, own] : [own];
}

/** A short, log-safe name for an identity (never a secret). */
export function describeIdentity(identity: Identity): string {
  return identity.kind === "service" ? SERVICE_USERNAME : identity.kind === "bridge" ? identity.bridge.id : identity.device.id;
}
