// The ACL across the schools of a district (CONTRACT §3, §9), over every pair of devices of the bundled demo
// district: a device publishes its own format's topics and subscribes to its own commands, and no device
// may publish on or subscribe to any topic of another school's device.
import { describe, expect, it } from "vitest";
import { authenticate, canPublish, canSubscribe, deviceCommandFilters, type Identity } from "../../../broker/acl.js";
import type { Device } from "../../../domain/campus.js";
import { devicePassword } from "../../../domain/credentials.js";
import { FORMATS, topicFor } from "../../../domain/formats/index.js";
import { loadCampus } from "../../../infra/campus-file.js";

const district = loadCampus("config/demo-district.yaml");
const secrets = { deviceGroupKey: "unit-test-group-key-0123456789", servicePassword: "service-secret-for-tests" };
const as = (device: Device): Identity => ({ kind: "device", device });
/** The topics the ingest reads of a device in its own format (native ones for a native device). */
const ownFormatTopics = (device: Device) => FORMATS[device.format]!.topics.map((rule) => topicFor(rule, device));
/** Every topic that is about a device: its own format's and the native ones under its id. */
const topicsAbout = (device: Device) => [...new Set([...ownFormatTopics(device), ...FORMATS.native!.topics.map((rule) => topicFor(rule, device))])];

describe("the ACL across the schools of the demo district", () => {
  it("has more than one school, each with devices of its own", () => {
    expect(district.sites.map((s) => s.devices.length > 0)).toEqual([true, true, true]);
  });

  it("authenticates every device of every school with the HMAC of its own id", () => {
    for (const device of district.devices) {
      if (device.secret_sha256 !== undefined) continue;
      expect(authenticate(district, secrets, device.id, devicePassword(device.id, secrets.deviceGroupKey))).toMatchObject({ ok: true, identity: { kind: "device", device } });
    }
  });

  it("lets each device publish its own format's topics and subscribe to its own commands", () => {
    for (const device of district.devices) {
      for (const topic of ownFormatTopics(device)) expect(canPublish(as(device), topic), `${device.id} → ${topic}`).toBe(true);
      for (const filter of deviceCommandFilters(device)) expect(canSubscribe(as(device), filter), `${device.id} ← ${filter}`).toBe(true);
    }
  });

  it("refuses every topic of another school's device, to publish and to subscribe", () => {
    let pairs = 0;
    for (const device of district.devices) {
      for (const other of district.devices) {
        if (other.site === device.site) continue;
        pairs++;
        for (const topic of topicsAbout(other)) expect(canPublish(as(device), topic), `${device.id} → ${topic}`).toBe(false);
        for (const filter of [...deviceCommandFilters(other), ...topicsAbout(other)]) expect(canSubscribe(as(device), filter), `${device.id} ← ${filter}`).toBe(false);
      }
    }
    expect(pairs).toBeGreaterThan(1_000);
  });
});
