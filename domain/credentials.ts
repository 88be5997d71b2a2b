// Device credentials (CONTRACT §3): password = lowercase hex HMAC-SHA256(device id, DEVICE_GROUP_KEY),
// the same as `printf %s "$ID" | openssl dgst -sha256 -hmac "$KEY"`.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export function devicePassword(deviceId: string, groupKey: string): string {
  return createHmac("sha256", groupKey).update(deviceId, "utf8").digest("hex");
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
