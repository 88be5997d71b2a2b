import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { processMessage } from "../../../ingest/process-message.js";
import { buildRouter } from "../../../ingest/routing.js";

const campus = loadCampus(join(import.meta.dirname, "../../fixtures/test-campus.yaml"));
const router = buildRouter(campus);
const options = { receivedAt: Date.parse("2026-11-29T08:00:00Z"), maxAgeMs: 90 * 86_400_000 };

describe("topic routing", () => {
  it("subscribes to the native wildcards and to each foreign device's own topics", () => {
    expect(router.subscriptions).toEqual([
      "campus/devices/+/telemetry",
      "campus/devices/+/status",
      "campus/devices/+/events",
      "tele/tasmota_5A1B2C/SENSOR",
      "tele/tasmota_5A1B2C/LWT",
      "tele/tasmota_5A1B2C/MARGINS",
      "stat/tasmota_5A1B2C/WARNING",
      "stat/tasmota_5A1B2C/POWER",
      "stat/tasmota_5A1B2C/RESULT",
      "tele/tasmota_5A1B2C/STATE",
    ]);
  });

  it("routes native and foreign topics to their campus device", () => {
    const native = router.route("campus/devices/brk-d1-101/telemetry");
    expect(native.ok && [native.route.device.id, native.route.format, native.route.kind]).toEqual(["brk-d1-101", "native", "telemetry"]);
    const foreign = router.route("tele/tasmota_5A1B2C/LWT");
    expect(foreign.ok && [foreign.route.device.id, foreign.route.format, foreign.route.kind]).toEqual(["plug-d1-101-a", "tasmota", "status"]);
  });

  it("refuses a device that is not in the campus as UNKNOWN_DEVICE", () => {
    const result = router.route("campus/devices/ghost/telemetry");
    expect(result).toMatchObject({ ok: false, device: "ghost", refusal: { code: "UNKNOWN_DEVICE" } });
    expect(router.route("tele/other/SENSOR")).toMatchObject({ ok: false, device: null, refusal: { code: "UNKNOWN_DEVICE" } });
  });
});

describe("processing one message", () => {
  it("publishes a reading retained on the internal stream and queues its points", () => {
    const effects = processMessage(router, "campus/devices/brk-d1-101/telemetry", Buffer.from('{"ts": 1795939190000, "power_w": 5}'), options);
    expect(effects.publish).toEqual([
      { topic: "campus/internal/readings/brk-d1-101", payload: JSON.stringify({ device: "brk-d1-101", ts: 1795939190000, values: { power_w: 5 } }), retain: true },
    ]);
    expect(effects.points).toHaveLength(1);
    expect(effects.refusals).toEqual([]);
  });

  it("publishes events without retain and statuses with it", () => {
    const event = processMessage(router, "campus/devices/brk-d1-101/events", Buffer.from('{"type": "trip", "reason": "overload"}'), options);
    expect(event.publish[0]).toMatchObject({ topic: "campus/internal/events/brk-d1-101", retain: false });
    const status = processMessage(router, "campus/devices/brk-d1-101/status", Buffer.from("offline"), options);
    expect(status.publish[0]).toMatchObject({ topic: "campus/internal/status/brk-d1-101", retain: true });
    expect(JSON.parse(status.publish[0]!.payload)).toEqual({ device: "brk-d1-101", ts: options.receivedAt, online: false });
  });

  it("keeps the valid readings of a batch and refuses the bad ones", () => {
    const payload = Buffer.from('[{"power_w": 1}, {"power_w": "x"}, {"ts": "2099-01-01T00:00:00Z", "power_w": 3}]');
    const effects = processMessage(router, "campus/devices/brk-d1-101/telemetry", payload, options);
    expect(effects.points).toHaveLength(2);
    expect(effects.refusals).toEqual([{ code: "PAYLOAD_INVALID", reason: '"power_w" must be a finite number (item 1)' }]);
    expect(effects.fallbacks).toEqual(["future"]);
  });
});
