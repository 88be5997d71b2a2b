// authenticate with several fleet keys (CONTRACT §13): a password of any listed key logs a device or a
// bridge in, and the result names the key's id (for /metrics); nothing else changes what the ACL accepts.
import { describe, expect, it } from "vitest";
import { authenticate } from "../../../broker/acl.js";
import { hmacPassword } from "../../../domain/credentials.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const NEW = "next-fleet-key-0123456789abcdef";
const OLD = "old-fleet-key-fedcba9876543210";
const secrets = { deviceGroupKey: `next:${NEW},old:${OLD}`, servicePassword: "service-secret-for-tests" };

describe("authenticate with several fleet keys", () => {
  it("accepts a device's password of any listed key and names that key", () => {
    expect(authenticate(campus, secrets, "brk-d1-101", hmacPassword("brk-d1-101", NEW))).toMatchObject({ ok: true, identity: { kind: "device" }, fleetKey: "next" });
    expect(authenticate(campus, secrets, "brk-d1-101", hmacPassword("brk-d1-101", OLD))).toMatchObject({ ok: true, identity: { kind: "device" }, fleetKey: "old" });
  });

  it("refuses a key it does not list, and a listed key's password of another id, with code 4", () => {
    expect(authenticate(campus, secrets, "brk-d1-101", hmacPassword("brk-d1-101", "a-third-fleet-key-0123456789"))).toEqual({ ok: false, returnCode: 4, reason: "bad_password" });
    expect(authenticate(campus, secrets, "brk-d1-101", hmacPassword("brk-d1-102", OLD))).toEqual({ ok: false, returnCode: 4, reason: "bad_password" });
  });

  it("keeps a device with its own secret_sha256 out of every fleet key, and names no key for it", () => {
    // plug-c1-own's secret_sha256 is the SHA-256 of "password" (tests/fixtures/test-campus.yaml).
    expect(authenticate(campus, secrets, "plug-c1-own", hmacPassword("plug-c1-own", OLD))).toMatchObject({ ok: false, returnCode: 4 });
    expect(authenticate(campus, secrets, "plug-c1-own", "password")).toEqual({ ok: true, identity: { kind: "device", device: campus.deviceById.get("plug-c1-own") } });
  });

  it("answers an unknown user name as a wrong password", () => {
    expect(authenticate(campus, secrets, "no-such-device", hmacPassword("no-such-device", NEW))).toEqual({ ok: false, returnCode: 4, reason: "unknown_username" });
  });
});
