// How ingest workers share the device stream's partitions (ingest/partitions.ts), which partition a device's
// messages go to (infra/device-stream.ts), and which device a topic belongs to (domain/device-of-topic.ts).
import { describe, expect, it } from "vitest";
import { deviceOfTopicIn } from "../../../domain/device-of-topic.js";
import { PARTITIONS, partitionOf } from "../../../infra/device-stream.js";
import { rebalance, targetShare } from "../../../ingest/partitions.js";

describe("rebalance", () => {
  it("takes the free partitions up to its share", () => {
    expect(targetShare(1)).toBe(PARTITIONS);
    expect(rebalance([], [3, 1, 2], 1).take).toEqual([1, 2, 3]);
    expect(rebalance([0, 1, 2, 3, 4, 5], [9, 7, 8], 2).take).toEqual([7, 8]);
  });

  it("gives up the extras once more workers are alive", () => {
    const all = Array.from({ length: PARTITIONS }, (_, k) => k);
    expect(rebalance(all, [], 2)).toEqual({ take: [], give: [15, 14, 13, 12, 11, 10, 9, 8] });
    expect(rebalance(all.slice(0, 6), [], 3)).toEqual({ take: [], give: [] }); // ceil(16 / 3) = 6
  });
});

describe("partitionOf", () => {
  it("is stable and spreads devices over every partition", () => {
    expect(partitionOf("brk-d3-301")).toBe(partitionOf("brk-d3-301"));
    const used = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`dev-${i}`)));
    expect(used.size).toBe(PARTITIONS);
  });
});

describe("deviceOfTopicIn", () => {
  const devices = [
    { id: "plug-a", format: "tasmota", source: "tasmota_5A1B2C" },
    { id: "sh-1", format: "shelly-gen1", source: "shelly1-AB" },
    { id: "brk-1", format: "native" },
  ] as unknown as Parameters<typeof deviceOfTopicIn>[0]["devices"];
  const deviceOf = deviceOfTopicIn({ devices });

  it("maps native and foreign topics of one device to that device", () => {
    expect(deviceOf("campus/devices/brk-1/telemetry")).toBe("brk-1");
    expect(deviceOf("campus/devices/plug-a/status")).toBe("plug-a");
    expect(deviceOf("tele/tasmota_5A1B2C/SENSOR")).toBe("plug-a");
    expect(deviceOf("tele/tasmota_5A1B2C/LWT")).toBe("plug-a");
    expect(deviceOf("shellies/shelly1-AB/online")).toBe("sh-1");
  });

  it("knows no device for a topic no campus device speaks", () => {
    expect(deviceOf("tele/unknown/SENSOR")).toBeNull();
  });
});
