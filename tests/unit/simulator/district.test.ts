// The simulator on a district (CONTRACT §9): each device reports from its own school's model (its zone,
// its nominal voltage, the hours its school gives its building kind), and `--devices N` clones every
// school to N devices.
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../../domain/district/parse.js";
import { loadCampus } from "../../../infra/campus-file.js";
import { localTime } from "../../../simulator/local-time.js";
import { scaleCampus, scaledCampusYaml } from "../../../simulator/scale.js";
import { createStream, type StreamItem } from "../../../simulator/stream.js";

const district = loadCampus("tests/fixtures/district-zones/district.yaml");
const HOUR = 3_600_000;

/** Every report of the first `forMs` of event time from `startMs`, by device: [event ms, parsed payload] per message. */
function reports(startMs: number, forMs: number): Map<string, { eventMs: number; topic: string; body: Record<string, unknown> }[]> {
  const stream = createStream({ campus: district, devices: district.devices, seed: 3, startMs });
  const byDevice = new Map<string, { eventMs: number; topic: string; body: Record<string, unknown> }[]>();
  for (const item of stream.take(startMs + forMs)) {
    if (item.kind !== "report") continue;
    const list = byDevice.get(item.device.id) ?? [];
    for (const message of (item as Extract<StreamItem, { kind: "report" }>).messages) list.push({ eventMs: item.eventMs, topic: message.topic, body: JSON.parse(message.payload) });
    byDevice.set(item.device.id, list);
  }
  return byDevice;
}
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const meanPower = (list: { body: Record<string, unknown> }[]) => mean(list.map((m) => m.body.power_w as number));

describe("the simulator on a district", () => {
  it("stamps each Tasmota plug's Time in its own school's zone and gives each device its school's voltage", () => {
    const start = Date.parse("2026-11-25T02:00:00Z"); // a Wednesday: 10:00 in Shanghai, 03:00 in Berlin
    const byDevice = reports(start, 60_000);
    for (const [id, zone] of [["plug-east-101", "Asia/Shanghai"], ["plug-west-101", "Europe/Berlin"]] as const) {
      const sensors = byDevice.get(id)!.filter((m) => m.topic.endsWith("/SENSOR"));
      expect(sensors.length).toBeGreaterThan(5);
      for (const sensor of sensors) expect(sensor.body.Time).toBe(localTime(sensor.eventMs, zone).iso);
    }
    // GB/T 156: 220 V in the east school's file; 230 V (EN 50160) in the west school's.
    expect(mean(byDevice.get("brk-east-main")!.map((m) => m.body.voltage_v as number))).toBeCloseTo(220, -1);
    expect(mean(byDevice.get("brk-west-main")!.map((m) => m.body.voltage_v as number))).toBeCloseTo(230, -1);
  });

  it("keeps a school's classrooms at their night level outside the hours its file gives them", () => {
    const wednesday = (time: string, zone: string) => Date.parse(`2026-11-25T${time}${zone}`);
    // The west school's classrooms are occupied 08:00–16:00: dark at 19:30, as a school without
    // evening self-study is; the east school's file gives none, so its classrooms keep the boarding
    // school's self-study from 19:00 to 21:30.
    const westDay = meanPower(reports(wednesday("10:00:00", "+01:00"), 120_000).get("brk-west-main")!);
    const westEvening = meanPower(reports(wednesday("19:30:00", "+01:00"), 120_000).get("brk-west-main")!);
    const eastDay = meanPower(reports(wednesday("10:00:00", "+08:00"), 120_000).get("brk-east-main")!);
    const eastEvening = meanPower(reports(wednesday("19:30:00", "+08:00"), 120_000).get("brk-east-main")!);
    expect(westEvening).toBeLessThan(0.1 * westDay);
    expect(eastEvening).toBeGreaterThan(0.5 * eastDay);
  });

  it("refuses to model a whole district as one site", async () => {
    const { createCampusModel } = await import("../../../simulator/model.js");
    expect(() => createCampusModel(district, { seed: 1, startMs: 0 })).toThrow(/one site/);
    expect(createCampusModel(district.sites[1]!, { seed: 1, startMs: 0 }).timezone).toBe("Europe/Berlin");
  });

  it("clones every school of a district to N devices with --devices N, and prints the district with its sites inline", () => {
    const scaled = scaleCampus(district, 7);
    expect(scaled.district).toEqual(district.district);
    expect(scaled.sites.map((s) => [s.site.id, s.site.timezone, s.devices.length])).toEqual([
      ["east-school", "Asia/Shanghai", 7],
      ["west-school", "Europe/Berlin", 7],
    ]);
    expect(new Set(scaled.devices.map((d) => d.id)).size).toBe(14);
    expect(scaled.devices.every((d) => scaled.siteOfDevice.get(d.id)!.site.id === d.site)).toBe(true);
    expect(scaled.siteOfDevice.get("brk-west-main-k1")?.site.id).toBe("west-school");
    // --print-config without --devices: the district as it is, every site inline.
    const printed = parseConfigText(scaledCampusYaml(district, undefined), "printed", () => ({ ok: false, message: "inline only" }));
    if (!printed.ok) throw new Error(JSON.stringify(printed.problems));
    const sites = (campus: typeof district) => campus.devices.map((d) => `${d.site}/${d.id}`).sort();
    expect(sites(printed.campus)).toEqual(sites(district)); // parents first within a site, the same devices
  });
});
