// What the ingest does with the messages that tell a relay's state (CONTRACT §10): one publication on
// campus/internal/relay/{device}, no point of its own, and bad answers refused without touching anything else.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { processMessage } from "../../../ingest/process-message.js";
import { buildRouter } from "../../../ingest/routing.js";

const campus = loadCampus(join(import.meta.dirname, "../../fixtures/formats/campus.yaml"));
const router = buildRouter(campus);
const receivedAt = Date.parse("2023-05-19T12:53:00Z");
const options = { receivedAt, maxAgeMs: 90 * 86_400_000 };
const KEPT_STATUS = { id: 0, output: true, apower: 8.9, aenergy: { total: 14.093 } };
const handle = (topic: string, payload: string) => processMessage(router, topic, Buffer.from(payload), { ...options, previousState: () => KEPT_STATUS });

describe("relay reports in the ingest", () => {
  it("subscribes to each Shelly Gen2 device's RPC reply topic, named after its campus id", () => {
    expect(router.subscriptions).toContain("campus-power/brk-c1-s2/rpc");
    expect(router.subscriptions.filter((topic) => topic.startsWith("campus-power/"))).toEqual(["campus-power/brk-c1-s2/rpc"]);
    expect(router.subscriptions).toEqual(expect.arrayContaining(["stat/tasmota_5A1B2C/POWER", "stat/tasmota_5A1B2C/RESULT", "tele/tasmota_5A1B2C/STATE"]));
  });

  it("publishes an RPC reply as one relay report, not retained, and stores no point for it", () => {
    const effects = handle("campus-power/brk-c1-s2/rpc", '{"id":17,"src":"shellyplus1pm-a8032ab12345","result":{"was_on":true}}');
    const report = { device: "brk-c1-s2", ts: receivedAt, on: null, explicit: true, rpc_id: 17 };
    expect(effects.publish).toEqual([{ topic: "campus/internal/relay/brk-c1-s2", payload: JSON.stringify(report), retain: false, relay: report }]);
    expect(effects).toMatchObject({ kind: "relay", format: "shelly-gen2", points: [], refusals: [], readings: 0 });
    expect(effects.state).toBeUndefined(); // the kept switch status stays as it was
  });

  it("refuses a garbage RPC reply without publishing, storing or forgetting anything", () => {
    for (const garbage of ["", "ok", "[1]", '{"result":{}}', '{"id":"17","result":{}}', '{"id":17}', '{"id":17,"result":{},"error":{"code":1}}', '{"id":17,"error":"no"}']) {
      const effects = handle("campus-power/brk-c1-s2/rpc", garbage);
      expect(effects.refusals, garbage).toHaveLength(1);
      expect([effects.publish, effects.points, effects.state], garbage).toEqual([[], [], undefined]);
    }
  });

  it("publishes a Tasmota answer and a reading's switch_on, and stores switch_on only with its reading", () => {
    const answer = handle("stat/tasmota_5A1B2C/POWER", "OFF");
    expect(answer.publish.map((p) => [p.topic, p.relay])).toEqual([["campus/internal/relay/plug-d1-101-a", { device: "plug-d1-101-a", ts: receivedAt, on: false, explicit: true }]]);
    expect(answer.points).toEqual([]);
    const reading = handle("shellies/shellyplug-s-7C87CE/relay/0", "on");
    expect(reading.publish.map((p) => p.topic)).toEqual(["campus/internal/readings/plug-d1-102-s1", "campus/internal/relay/plug-d1-102-s1"]);
    expect(reading.points.map((p) => p.fields)).toEqual([{ switch_on: true }]);
  });

  it("refuses a native refusal event that names no command as a whole: no event, no point, no report", () => {
    const effects = handle("campus/devices/brk-c1-lab/events", '{"type":"fault","reason":"command refused","detail":"   "}');
    expect(effects.refusals).toEqual([{ code: "PAYLOAD_INVALID", reason: expect.stringMatching(/must name the command/) }]);
    expect([effects.publish, effects.points]).toEqual([[], []]);
  });

  it("reads a native refusal's reason after the first colon, and names a refusal without one", () => {
    const report = (detail: string) => handle("campus/devices/brk-c1-lab/events", JSON.stringify({ type: "fault", reason: "command refused", detail })).publish[1]?.relay;
    expect(report("cmd-1: relay welded: cannot open")).toMatchObject({ command_id: "cmd-1", error: "relay welded: cannot open", on: null, explicit: true });
    expect(report("cmd-2")).toMatchObject({ command_id: "cmd-2", error: "command refused" });
  });
});
