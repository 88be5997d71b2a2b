// Device credentials (CONTRACT §3, §13): password = lowercase hex HMAC-SHA256(device id, fleet key), the
// same as `printf %s "$ID" | openssl dgst -sha256 -hmac "$KEY"`. DEVICE_GROUP_KEY may list several keys
// (./env/fleet-keys.ts): the first signs new passwords, any listed key's password is accepted at login.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { CampusError, ErrorCodes, type Problem } from "./errors.js";
import { DEFAULT_FLEET_KEY_ID, type FleetKey, isSingleKey, parseFleetKeys } from "./env/fleet-keys.js";

/** The password one key derives for a device (or bridge) id. */
export function hmacPassword(deviceId: string, key: string): string {
  return createHmac("sha256", key).update(deviceId, "utf8").digest("hex");
}

/**
 * The password a device is given: derived from the first (signing) key of `deviceGroupKey`, the text of
 * DEVICE_GROUP_KEY (one key, or `id:key,id:key`). Throws a coded error, naming no key, when it is malformed.
 */
export function devicePassword(deviceId: string, deviceGroupKey: string): string {
  return hmacPassword(deviceId, signingKey(deviceGroupKey).key);
}

/** The key that signs new passwords: the first listed. */
export function signingKey(deviceGroupKey: string): FleetKey {
  // A key given alone is used as it is; its length is checked once, at start (readEnv).
  if (isSingleKey(deviceGroupKey)) return { id: DEFAULT_FLEET_KEY_ID, key: deviceGroupKey };
  const problems: Problem[] = [];
  const [first] = parseFleetKeys(deviceGroupKey, problems);
  if (problems.length > 0 || first === undefined) throw new CampusError(ErrorCodes.ENV_INVALID, "DEVICE_GROUP_KEY is invalid", problems);
  return first;
}

/**
 * The id of the listed key whose password for `deviceId` is `given`, or null. Every key is compared, in
 * constant time each and with no early exit, so the time taken does not tell which key matched (or whether
 * one did). Ids and keys are unique (parseFleetKeys), so at most one matches.
 */
export function matchingFleetKey(deviceId: string, given: Buffer | string, keys: readonly FleetKey[]): string | null {
  let matched: string | null = null;
  for (const { id, key } of keys) {
    if (safeEqual(given, hmacPassword(deviceId, key))) matched = id;
  }
  return matched;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Constant-time comparison of two strings (no early exit on the first differing byte). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = createHash("sha256").update(a).digest();
  const right = createHash("sha256").update(b).digest();
  return timingSafeEqual(left, right);
}

/** The token of an `Authorization: Bearer <token>` header, or null (the API's routes, the live stream, /metrics). */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value ?? "");
  return match ? match[1]! : null;
}
