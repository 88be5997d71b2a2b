// Each format's command on the wire (CONTRACT §10 "On the wire"), and what every decoder does with any
// bytes at all: a value, never an exception, and only relay reports of the schema the executor checks.
import { Value } from "@sinclair/typebox/value";
import fc from "fast-check";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RelayReportSchema } from "../../../domain/command.js";
import { FORMATS, commandMessage, topicFor } from "../../../domain/formats/index.js";
import { commandTopic } from "../../../domain/formats/commands.js";
import { loadCampus } from "../../../infra/campus-file.js";

const campus = loadCampus(join(import.meta.dirname, "../../fixtures/formats/campus.yaml"));
const byFormat = (format: string) => campus.devices.find((d) => d.format === format)!;
const command = { id: "cmd-1", issued_by: "operator:ab12", expires_at: "2026-12-05T00:00:30.000Z" };

describe("each format's command", () => {
  it("is published QoS 1 and never retained, on the device's command topic, in every format", () => {
    for (const device of campus.devices) {
      for (const action of ["switch_off", "switch_on"] as const) {
        const message = commandMessage(device, { ...command, action }, 7);
        expect(message, `${device.id} ${action}`).toMatchObject({ topic: commandTopic(device), qos: 1, retain: false });
      }
    }
  });

  it("says what CONTRACT §10 says, format by format", () => {
    const off = (format: string) => commandMessage(byFormat(format), { ...command, action: "switch_off" }, 7);
    expect(off("native")).toMatchObject({ topic: "campus/devices/feeder-d1/commands", payload: '{"id":"cmd-1","action":"switch_off","issued_by":"operator:ab12","expires_at":"2026-12-05T00:00:30.000Z"}' });
    expect(off("tasmota")).toMatchObject({ topic: "cmnd/tasmota_5A1B2C/POWER", payload: "OFF" });
    expect(off("shelly-gen1")).toMatchObject({ topic: "shellies/shellyplug-s-7C87CE/relay/0/command", payload: "off" });
    expect(off("zigbee2mqtt")).toMatchObject({ topic: "zigbee2mqtt/lab/din-breaker-1/set", payload: '{"state":"OFF"}' });
    const gen2 = off("shelly-gen2");
    expect(gen2.topic).toBe("shellyplus1pm-a8032ab12345/rpc");
    // The reply comes on src + "/rpc": the topic the ingest reads for this device.
    expect(JSON.parse(gen2.payload)).toEqual({ id: 7, src: "campus-power/brk-c1-s2", method: "Switch.Set", params: { id: 0, on: false } });
    const replyRule = FORMATS["shelly-gen2"]!.topics.find((rule) => rule.kind === "relay")!;
    expect(`${JSON.parse(gen2.payload).src}/rpc`).toBe(topicFor(replyRule, byFormat("shelly-gen2")));
  });
});

describe("every decoder, given anything", () => {
  const payloads = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    fc.json().map((text) => Buffer.from(text)),
    // Near misses of the answers the decoders look for: right keys, any values.
    fc
      .record(
        {
          id: fc.oneof(fc.integer(), fc.anything()),
          result: fc.oneof(fc.object(), fc.anything()),
          error: fc.oneof(fc.record({ code: fc.anything(), message: fc.anything() }, { requiredKeys: [] }), fc.anything()),
          POWER: fc.oneof(fc.constantFrom("ON", "OFF"), fc.anything()),
          type: fc.constantFrom("switch", "fault"),
          reason: fc.constantFrom("remote", "command refused"),
          detail: fc.oneof(fc.string(), fc.anything()),
        },
        { requiredKeys: [] },
      )
      .map((o) => Buffer.from(JSON.stringify(o) ?? "")),
  );

  for (const device of campus.devices.filter((d) => d.format !== "native" || d.id === "brk-c1-lab")) {
    for (const rule of FORMATS[device.format]!.topics) {
      it(`answers ${topicFor(rule, device)} with a value, and with valid relay reports only`, () => {
        fc.assert(
          fc.property(payloads, fc.anything(), (payload, previous) => {
            // An exception here fails the property: a decoder must answer any payload with a value.
            const decoded = rule.decode(payload, { device: device.id, timeZone: "Asia/Shanghai", receivedAt: 1_684_500_780_000, maxAgeMs: 90 * 86_400_000, previous });
            for (const relay of decoded.relays) expect(Value.Check(RelayReportSchema, relay) && relay.device === device.id, JSON.stringify(relay)).toBe(true);
          }),
          { numRuns: 200 },
        );
      });
    }
  }
});
