import { describe, expect, it } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { progressLine } from "../../../cli/progress.js";
import { deviceForTopic, parseRecordedLine, restamp, topicMatches } from "../../../simulator/recording.js";
import { scaleCampus } from "../../../simulator/scale.js";

const campus = loadCampus("scenarios/campus.yaml");
const H = 3_600_000;
const text = (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown>;

describe("recording", () => {
  it("matches MQTT topic filters", () => {
    expect(topicMatches("campus/devices/+/telemetry", "campus/devices/a/telemetry")).toBe(true);
    expect(topicMatches("campus/devices/+/telemetry", "campus/devices/a/status")).toBe(false);
    expect(topicMatches("tele/#", "tele/x/SENSOR")).toBe(true);
    expect(topicMatches("tele/+", "tele/x/SENSOR")).toBe(false);
  });

  it("finds the device of a topic in every format", () => {
    expect(deviceForTopic(campus, "campus/devices/brk-o1-101/telemetry")).toBe("brk-o1-101");
    expect(deviceForTopic(campus, "tele/tasmota_d1101a/SENSOR")).toBe("plug-d1-101-a");
    expect(deviceForTopic(campus, "shellies/shellyplug-s-d1102a/relay/0/energy")).toBe("plug-d1-102-a");
    expect(deviceForTopic(campus, "shellypro1pm-t1201/events/rpc")).toBe("brk-t1-201-light");
    expect(deviceForTopic(campus, "zigbee2mqtt/lab_fridge_breaker/availability")).toBe("brk-l1-fridge");
    expect(deviceForTopic(campus, "zigbee2mqtt/lab_fridge_breaker_2")).toBeNull();
  });

  it("refuses lines that are not recorded messages", () => {
    expect(parseRecordedLine('{"t":1,"topic":"a","payload":{"base64":"AA=="}}')).toEqual({ t: 1, topic: "a", payload: { base64: "AA==" } });
    expect(parseRecordedLine("{")).toEqual({ error: "not JSON" });
    expect(parseRecordedLine('{"t":"1","topic":"a","payload":""}')).toHaveProperty("error");
  });

  it("moves the times of every format by the offset", () => {
    const native = restamp("campus/devices/d/telemetry", Buffer.from('{"ts":"2026-11-25T12:00:00.000Z","power_w":1}'), H, "Asia/Shanghai");
    expect(text(native).ts).toBe("2026-11-25T13:00:00.000Z");
    const tasmota = restamp("tele/t/SENSOR", Buffer.from('{"Time":"2026-11-25T23:30:00","ENERGY":{}}'), H, "Asia/Shanghai");
    expect(text(tasmota).Time).toBe("2026-11-26T00:30:00");
    const state = restamp("tele/t/STATE", Buffer.from('{"Time":"2026-11-25T23:30:00","POWER":"ON"}'), H, "Asia/Shanghai");
    expect(text(state)).toEqual({ Time: "2026-11-26T00:30:00", POWER: "ON" });
    const gen2 = restamp("s/events/rpc", Buffer.from('{"method":"NotifyStatus","params":{"ts":1000.5,"switch:0":{"aenergy":{"minute_ts":960}}}}'), H, "UTC");
    expect(text(gen2)).toEqual({ method: "NotifyStatus", params: { ts: 4600.5, "switch:0": { aenergy: { minute_ts: 4560 } } } });
    const z2m = restamp("zigbee2mqtt/z", Buffer.from('{"power":1,"last_seen":"2026-11-25T20:00:00.000+08:00"}'), H, "Asia/Shanghai");
    expect(Date.parse(text(z2m).last_seen as string)).toBe(Date.parse("2026-11-25T13:00:00Z"));
    expect(restamp("shellies/s/relay/0/power", Buffer.from("12.5"), H, "UTC").toString()).toBe("12.5");
  });
});

describe("campus scaling", () => {
  it("clones the campus to exactly N devices with unique ids and sources, parents first", () => {
    const big = scaleCampus(campus, 100);
    expect(big.devices).toHaveLength(100);
    expect(new Set(big.devices.map((d) => d.id)).size).toBe(100);
    const sources = big.devices.filter((d) => d.source).map((d) => d.source);
    expect(new Set(sources).size).toBe(sources.length);
    expect(big.deviceById.get("brk-d1-101-k3")?.parent).toBe("brk-d1-main-k3");
    expect(big.devices.filter((d) => d.parent !== null).every((d) => big.deviceById.has(d.parent!))).toBe(true);
  });
});

describe("progress", () => {
  it("draws a bar with the share done", () => {
    expect(progressLine("replay", 45, 100, "45/100")).toBe(`replay [${"#".repeat(13)}${".".repeat(15)}]  45% 45/100`);
    expect(progressLine("record", 7, null, "x")).toBe("record: 7 x");
  });
});
