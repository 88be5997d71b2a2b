import { describe, expect, it } from "vitest";
import { authenticate, canPublish, canSubscribe, type Identity, isClientIdRejected, isReservedTopic } from "../../../broker/acl.js";
import { type Campus, parseCampusText } from "../../../domain/campus.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { devicePassword } from "../../../domain/credentials.js";

const campus = loadCampus("tests/fixtures/test-campus.yaml");
const secrets = { deviceGroupKey: "unit-test-group-key-0123456789", servicePassword: "service-secret-for-tests" };
const hmac = (id: string) => devicePassword(id, secrets.deviceGroupKey);

function identityOf(c: Campus, id: string): Identity {
  const device = c.deviceById.get(id);
  if (!device) throw new Error(`no device ${id} in the campus`);
  return { kind: "device", device };
}

const service: Identity = { kind: "service" };
const breaker = identityOf(campus, "brk-d1-101");
const tasmota = identityOf(campus, "plug-d1-101-a"); // source tasmota_5A1B2C

// Every foreign format at once, parsed from real YAML like the fixture.
const foreign = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [{ id: b, name: B, kind: lab }]
devices:
  - { id: sh1, kind: socket, building: b, format: shelly-gen1, source: shellyplug-s-AABBCC }
  - { id: sh2, kind: socket, building: b, format: shelly-gen2, source: shellyplus1pm-a8032ab1 }
  - { id: z2m, kind: socket, building: b, format: zigbee2mqtt, source: lab/plug-1 }
  - { id: evil, kind: socket, building: b, format: shelly-gen2, source: evil-plug }
`);
if (!foreign.ok) throw new Error(JSON.stringify(foreign.problems));
const shelly1 = identityOf(foreign.campus, "sh1");
const shelly2 = identityOf(foreign.campus, "sh2");
const zigbee = identityOf(foreign.campus, "z2m");
// The campus parser refuses a source that spells a system topic; the ACL must refuse it on its own as
// well (defence in depth), so this device gets such a source by hand.
const evil: Identity = { kind: "device", device: { ...foreign.campus.deviceById.get("evil")!, source: "campus/internal" } };

describe("authenticate", () => {
  it("accepts a device with the HMAC of its id under the fleet key", () => {
    const result = authenticate(campus, secrets, "brk-d1-101", Buffer.from(hmac("brk-d1-101")));
    // fleetKey: which DEVICE_GROUP_KEY key the password derives from (a key given alone is "default"), for /metrics.
    expect(result).toEqual({ ok: true, identity: breaker, fleetKey: "default" });
  });

  it("refuses a wrong password with code 4", () => {
    expect(authenticate(campus, secrets, "brk-d1-101", "nope")).toEqual({ ok: false, returnCode: 4, reason: "bad_password" });
  });

  it("refuses another device's password with code 4", () => {
    expect(authenticate(campus, secrets, "brk-d1-101", hmac("brk-d1-102"))).toMatchObject({ ok: false, returnCode: 4 });
  });

  it("refuses an unknown user name with the same code as a bad password", () => {
    expect(authenticate(campus, secrets, "nobody", hmac("nobody"))).toEqual({ ok: false, returnCode: 4, reason: "unknown_username" });
  });

  it("refuses anonymous clients with code 5 and a user name without password with code 4", () => {
    expect(authenticate(campus, secrets, undefined, undefined)).toEqual({ ok: false, returnCode: 5, reason: "no_credentials" });
    expect(authenticate(campus, secrets, "", undefined)).toMatchObject({ ok: false, returnCode: 5 });
    expect(authenticate(campus, secrets, "brk-d1-101", undefined)).toEqual({ ok: false, returnCode: 4, reason: "no_password" });
  });

  it("accepts a device with its own secret and refuses the fleet HMAC for it", () => {
    expect(authenticate(campus, secrets, "plug-c1-own", "password")).toMatchObject({ ok: true });
    expect(authenticate(campus, secrets, "plug-c1-own", hmac("plug-c1-own"))).toEqual({ ok: false, returnCode: 4, reason: "bad_password" });
  });

  it("accepts the service account with SERVICE_PASSWORD only", () => {
    expect(authenticate(campus, secrets, "campus-service", secrets.servicePassword)).toEqual({ ok: true, identity: service });
    expect(authenticate(campus, secrets, "campus-service", hmac("campus-service"))).toMatchObject({ ok: false, returnCode: 4 });
  });

  it("never lets an empty key or service password stand for a known secret", () => {
    const empty = { deviceGroupKey: "", servicePassword: "" };
    expect(authenticate(campus, empty, "campus-service", "x")).toEqual({ ok: false, returnCode: 4, reason: "not_configured" });
    expect(authenticate(campus, empty, "brk-d1-101", devicePassword("brk-d1-101", ""))).toEqual({ ok: false, returnCode: 4, reason: "not_configured" });
  });
});

describe("client identifiers", () => {
  it("rejects an empty client id only when the session is persistent", () => {
    expect(isClientIdRejected("", false)).toBe(true);
    expect(isClientIdRejected("", true)).toBe(false);
    expect(isClientIdRejected("brk-d1-101", false)).toBe(false);
  });
});

describe("publish ACL", () => {
  it("lets a native device publish its own telemetry, status and events", () => {
    for (const kind of ["telemetry", "status", "events"]) expect(canPublish(breaker, `campus/devices/brk-d1-101/${kind}`)).toBe(true);
  });

  it("refuses a device that publishes as another device", () => {
    expect(canPublish(breaker, "campus/devices/brk-d1-102/telemetry")).toBe(false);
  });

  it("refuses a device that publishes to its own commands or to any other topic", () => {
    expect(canPublish(breaker, "campus/devices/brk-d1-101/commands")).toBe(false);
    expect(canPublish(breaker, "campus/devices/brk-d1-101/telemetry/extra")).toBe(false);
    expect(canPublish(breaker, "campus/devices/brk-d1-101")).toBe(false);
  });

  it("keeps alerts, the internal stream and $SYS for the service account", () => {
    for (const topic of ["campus/alerts/brk-d1-101/overload", "campus/internal/readings/brk-d1-101", "$SYS/broker/x"]) {
      expect(isReservedTopic(topic)).toBe(true);
      expect(canPublish(breaker, topic)).toBe(false);
      expect(canPublish(service, topic)).toBe(true);
    }
  });

  it("lets a tasmota device publish only under its own tele/ and stat/ topics", () => {
    expect(canPublish(tasmota, "tele/tasmota_5A1B2C/SENSOR")).toBe(true);
    expect(canPublish(tasmota, "tele/tasmota_5A1B2C/LWT")).toBe(true);
    expect(canPublish(tasmota, "stat/tasmota_5A1B2C/RESULT")).toBe(true);
    expect(canPublish(tasmota, "tele/tasmota_OTHER/SENSOR")).toBe(false);
    expect(canPublish(tasmota, "tele/tasmota_5A1B2C")).toBe(false);
    expect(canPublish(tasmota, "tele/tasmota_5A1B2C/")).toBe(false);
    expect(canPublish(tasmota, "cmnd/tasmota_5A1B2C/POWER")).toBe(false);
    expect(canPublish(tasmota, "campus/devices/plug-d1-101-a/telemetry")).toBe(false);
  });

  it("lets a shelly gen1 device publish under shellies/{source} except its command topic", () => {
    expect(canPublish(shelly1, "shellies/shellyplug-s-AABBCC/relay/0/power")).toBe(true);
    expect(canPublish(shelly1, "shellies/shellyplug-s-AABBCC/online")).toBe(true);
    expect(canPublish(shelly1, "shellies/shellyplug-s-AABBCC/relay/0/command")).toBe(false);
    expect(canPublish(shelly1, "shellies/other/relay/0/power")).toBe(false);
  });

  it("lets a shelly gen2 device publish its status, rpc events and online topics", () => {
    expect(canPublish(shelly2, "shellyplus1pm-a8032ab1/status/switch:0")).toBe(true);
    expect(canPublish(shelly2, "shellyplus1pm-a8032ab1/events/rpc")).toBe(true);
    expect(canPublish(shelly2, "shellyplus1pm-a8032ab1/online")).toBe(true);
    expect(canPublish(shelly2, "shellyplus1pm-a8032ab1/rpc")).toBe(false);
    expect(canPublish(shelly2, "shellyplus1pm-a8032ab1/events/other")).toBe(false);
  });

  it("lets a zigbee2mqtt device publish its state and availability only", () => {
    expect(canPublish(zigbee, "zigbee2mqtt/lab/plug-1")).toBe(true);
    expect(canPublish(zigbee, "zigbee2mqtt/lab/plug-1/availability")).toBe(true);
    expect(canPublish(zigbee, "zigbee2mqtt/lab/plug-1/set")).toBe(false);
    expect(canPublish(zigbee, "zigbee2mqtt/lab")).toBe(false);
  });

  it("refuses a foreign source that spells a reserved topic", () => {
    expect(canPublish(evil, "campus/internal/status/x")).toBe(false);
    expect(canPublish(evil, "campus/internal/online")).toBe(false);
  });

  it("refuses wildcards in a topic name even where the prefix matches", () => {
    expect(canPublish(tasmota, "tele/tasmota_5A1B2C/#")).toBe(false);
    expect(canPublish(breaker, "campus/devices/+/telemetry")).toBe(false);
  });
});

describe("subscribe ACL", () => {
  it("lets a native device subscribe to its own commands with the exact filter only", () => {
    expect(canSubscribe(breaker, "campus/devices/brk-d1-101/commands")).toBe(true);
    expect(canSubscribe(breaker, "campus/devices/brk-d1-102/commands")).toBe(false);
    expect(canSubscribe(breaker, "campus/devices/+/commands")).toBe(false);
    expect(canSubscribe(breaker, "campus/devices/brk-d1-101/#")).toBe(false);
    expect(canSubscribe(breaker, "#")).toBe(false);
    expect(canSubscribe(breaker, "campus/alerts/+/+")).toBe(false);
  });

  it("lets each foreign format subscribe to its own command topics", () => {
    expect(canSubscribe(tasmota, "cmnd/tasmota_5A1B2C/#")).toBe(true);
    expect(canSubscribe(tasmota, "cmnd/tasmota_5A1B2C/POWER")).toBe(true);
    expect(canSubscribe(tasmota, "cmnd/tasmota_5A1B2C/+")).toBe(false);
    expect(canSubscribe(tasmota, "cmnd/other/#")).toBe(false);
    expect(canSubscribe(shelly1, "shellies/shellyplug-s-AABBCC/relay/0/command")).toBe(true);
    expect(canSubscribe(shelly1, "shellies/shellyplug-s-AABBCC/#")).toBe(false);
    expect(canSubscribe(shelly2, "shellyplus1pm-a8032ab1/rpc")).toBe(true);
    expect(canSubscribe(zigbee, "zigbee2mqtt/lab/plug-1/set")).toBe(true);
    expect(canSubscribe(zigbee, "zigbee2mqtt/#")).toBe(false);
  });

  it("lets the service account subscribe to everything", () => {
    expect(canSubscribe(service, "#")).toBe(true);
    expect(canSubscribe(service, "$SYS/#")).toBe(true);
  });
});

describe("a Zigbee2MQTT bridge account", () => {
  const withBridges = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [{ id: b, name: B, kind: lab }]
bridges:
  - { id: z2m-lab, format: zigbee2mqtt }
  - { id: z2m-dorm, format: zigbee2mqtt }
devices:
  - { id: plug-a, kind: socket, building: b, format: zigbee2mqtt, source: lab/plug-a, bridge: z2m-lab }
  - { id: plug-b, kind: socket, building: b, format: zigbee2mqtt, source: "Lab Plug B", bridge: z2m-lab }
  - { id: plug-d, kind: socket, building: b, format: zigbee2mqtt, source: dorm/plug, bridge: z2m-dorm }
  - { id: plug-own, kind: socket, building: b, format: zigbee2mqtt, source: own-plug }
  - { id: brk-1, kind: breaker, building: b, rating_a: 16 }
`);
  if (!withBridges.ok) throw new Error(JSON.stringify(withBridges.problems));
  const c = withBridges.campus;
  const login = (id: string, password = hmac(id)) => authenticate(c, secrets, id, Buffer.from(password));
  const bridge = (() => {
    const result = login("z2m-lab");
    if (!result.ok) throw new Error("the bridge could not log in");
    return result.identity;
  })();

  it("logs in with the HMAC of its id, and not with a wrong password", () => {
    expect(bridge.kind).toBe("bridge");
    expect(login("z2m-lab", hmac("z2m-dorm"))).toEqual({ ok: false, returnCode: 4, reason: "bad_password" });
  });

  it("publishes for its own devices, devices bound to no bridge, its own state and Zigbee devices the campus does not list", () => {
    for (const topic of ["zigbee2mqtt/lab/plug-a", "zigbee2mqtt/lab/plug-a/availability", "zigbee2mqtt/Lab Plug B", "zigbee2mqtt/own-plug", "zigbee2mqtt/bridge/state", "zigbee2mqtt/bridge/logging", "zigbee2mqtt/bridge/response/permit_join", "zigbee2mqtt/unlisted-sensor"]) {
      expect(canPublish(bridge, topic), topic).toBe(true);
    }
  });

  it("never publishes under another bridge's device, commands, bridge requests, native or system topics, or outside its base topic", () => {
    const refused = [
      "zigbee2mqtt/dorm/plug", "zigbee2mqtt/dorm/plug/availability", "zigbee2mqtt/dorm/plug/set", "zigbee2mqtt/dorm/plug/set/state",
      "zigbee2mqtt/lab/plug-a/set", "zigbee2mqtt/own-plug/get", "zigbee2mqtt/bridge/request/permit_join",
      "campus/devices/brk-1/telemetry", "campus/internal/readings-batch/x", "tele/x/SENSOR", "zigbee2mqtt", "zigbee2mqtt/", "$SYS/x",
    ];
    for (const topic of refused) expect(canPublish(bridge, topic), topic).toBe(false);
  });

  it("subscribes under its base topic only", () => {
    expect(canSubscribe(bridge, "zigbee2mqtt/#")).toBe(true);
    expect(canSubscribe(bridge, "zigbee2mqtt/+/set")).toBe(true);
    expect(canSubscribe(bridge, "#")).toBe(false);
    expect(canSubscribe(bridge, "campus/#")).toBe(false);
  });

  it("is refused in the campus file when unknown, of another format, or named like a device", () => {
    const bad = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [{ id: b, name: B, kind: lab }]
bridges:
  - { id: plug-x, format: zigbee2mqtt }
  - { id: campus-service, format: zigbee2mqtt }
devices:
  - { id: plug-x, kind: socket, building: b, format: zigbee2mqtt, source: x, bridge: nowhere }
  - { id: plug-y, kind: socket, building: b, format: tasmota, source: y, bridge: plug-x }
  - { id: plug-z, kind: socket, building: b, format: zigbee2mqtt, source: bridge/state }
`);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.map((p) => p.path).sort()).toEqual(["bridges[0].id", "bridges[1].id", "devices[0].bridge", "devices[1].bridge", "devices[2].source"]);
  });
});
