// The ACL of remote switching (CONTRACT §10): each device subscribes to the topic its commands are
// published to (the same function the executor publishes with, for every format) and publishes its own
// confirmations in its format, never another device's; only the service account publishes commands.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canPublish, canSubscribe, deviceCommandFilters, type Identity } from "../../../broker/acl.js";
import type { Device } from "../../../domain/campus.js";
import { FORMATS, commandMessage, topicFor } from "../../../domain/formats/index.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campus = loadCampus(join(import.meta.dirname, "../../fixtures/formats/two-of-each.yaml"));
const service: Identity = { kind: "service" };
const as = (device: Device): Identity => ({ kind: "device", device });
const identity = (id: string) => as(campus.deviceById.get(id)!);
const command = { id: "cmd-1", action: "switch_off" as const, issued_by: "operator:ab12", expires_at: "2026-12-05T00:00:30.000Z" };
/** Every topic the ingest reads for a device (its format's topic rules). */
const readTopics = (device: Device) => FORMATS[device.format]!.topics.map((rule) => topicFor(rule, device));

describe("commands and the ACL", () => {
  for (const device of campus.devices) {
    const others = campus.devices.filter((d) => d.id !== device.id);

    it(`lets ${device.format} device ${device.id} subscribe to the topic the product commands it on, and to no other device's`, () => {
      const { topic } = commandMessage(device, command, 1);
      expect(deviceCommandFilters(device)).toContain(topic);
      expect(canSubscribe(as(device), topic)).toBe(true);
      for (const other of others) expect(canSubscribe(as(device), commandMessage(other, command, 1).topic), other.id).toBe(false);
    });

    it(`lets only the service account publish ${device.id}'s commands`, () => {
      const { topic } = commandMessage(device, command, 1);
      expect(canPublish(service, topic)).toBe(true);
      for (const anyone of campus.devices) expect(canPublish(as(anyone), topic), anyone.id).toBe(false);
    });

    it(`lets ${device.id} publish every topic the ingest reads for it, confirmations included, and no other device publish them`, () => {
      for (const topic of readTopics(device)) {
        expect(canPublish(as(device), topic), topic).toBe(true);
        for (const other of others) expect(canPublish(as(other), topic), `${other.id} on ${topic}`).toBe(false);
      }
    });
  }

  it("names the confirmation topics of the table in CONTRACT §10 among what the ingest reads", () => {
    expect(readTopics(campus.deviceById.get("tas-1")!)).toEqual(expect.arrayContaining(["stat/tasmota_A1/POWER", "stat/tasmota_A1/RESULT", "tele/tasmota_A1/STATE"]));
    expect(readTopics(campus.deviceById.get("sh2-1")!)).toEqual(expect.arrayContaining(["campus-power/sh2-1/rpc", "shellyplus1pm-a1/events/rpc"]));
    expect(readTopics(campus.deviceById.get("brk-1")!)).toEqual(expect.arrayContaining(["campus/devices/brk-1/events", "campus/devices/brk-1/telemetry"]));
  });

  it("lets a Shelly Gen2 device publish its own RPC reply topic and nothing else under campus-power/", () => {
    const sh2 = identity("sh2-1");
    expect(canPublish(sh2, "campus-power/sh2-1/rpc")).toBe(true);
    for (const topic of ["campus-power/sh2-2/rpc", "campus-power/sh2-1/rpc/x", "campus-power/sh2-1", "campus-power", "campus-power/sh2-1/events/rpc", "campus-power/x/rpc"]) {
      expect(canPublish(sh2, topic), topic).toBe(false);
    }
    for (const id of ["brk-1", "tas-1", "sh1-1", "z-1"]) expect(canPublish(identity(id), `campus-power/${id}/rpc`), id).toBe(false);
  });

  it("keeps a Shelly Gen2 source that spells campus-power/<another id> from answering for that device or reading its replies", () => {
    // The campus file should refuse such a source; the ACL stands on its own (defence in depth).
    const impostor = as({ ...campus.deviceById.get("sh2-1")!, source: "campus-power/sh2-2" });
    expect(canPublish(impostor, "campus-power/sh2-2/rpc")).toBe(false);
    expect(canPublish(impostor, "campus-power/sh2-2/status/switch:0")).toBe(false);
    expect(canSubscribe(impostor, "campus-power/sh2-2/rpc")).toBe(false);
    expect(canPublish(impostor, "campus-power/sh2-1/rpc")).toBe(true); // its own, by its campus id
  });

  it("gives Tasmota its firmware's cmnd/<topic>/# filter, which no one but the service account can publish under", () => {
    const tasmota = identity("tas-1");
    expect(deviceCommandFilters(campus.deviceById.get("tas-1")!)).toEqual(["cmnd/tasmota_A1/#", "cmnd/tasmota_A1/POWER"]);
    expect(canSubscribe(tasmota, "cmnd/tasmota_B2/#")).toBe(false);
    for (const id of ["tas-1", "tas-2"]) expect(canPublish(identity(id), "cmnd/tasmota_A1/Backlog"), id).toBe(false);
  });

  it("refuses another device's confirmations in each format", () => {
    expect(canPublish(identity("tas-2"), "stat/tasmota_A1/POWER")).toBe(false);
    expect(canPublish(identity("tas-2"), "stat/tasmota_A1/RESULT")).toBe(false);
    expect(canPublish(identity("brk-2"), "campus/devices/brk-1/events")).toBe(false);
    expect(canPublish(identity("sh1-2"), "shellies/shellyplug-s-A1/relay/0")).toBe(false);
    expect(canPublish(identity("sh2-2"), "shellyplus1pm-a1/events/rpc")).toBe(false);
    expect(canPublish(identity("z-2"), "zigbee2mqtt/dorm/plug-1")).toBe(false);
  });
});
