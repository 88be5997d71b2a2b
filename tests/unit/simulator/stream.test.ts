import { describe, expect, it, vi } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import type { Fault } from "../../../simulator/faults.js";
import { createStream, type StreamItem } from "../../../simulator/stream.js";

const campus = loadCampus("scenarios/campus.yaml");
const start = Date.parse("2026-11-25T20:00:00+08:00"); // a Wednesday evening
const fault = (f: Partial<Fault> & Pick<Fault, "type" | "device">): Fault => ({ atMs: 60_000, forMs: Infinity, rampMs: 0, value: 0, ...f });

/** Every item of `forMs` of event time, as text, taken in chunks of `chunkMs` (how a shell would). */
function transcript(seed: number, forMs: number, chunkMs: number, faults: Fault[] = []): string[] {
  const stream = createStream({ campus, devices: campus.devices, seed, startMs: start, faults });
  const lines: string[] = [];
  for (let t = start; t < start + forMs; t += chunkMs) lines.push(...stream.take(t).map(asText));
  lines.push(...stream.take(start + forMs).map(asText));
  return lines;
}
const asText = (item: StreamItem) =>
  item.kind === "report" ? item.messages.map((m) => `${item.eventMs} ${m.topic} ${m.payload}`).join("\n") : `${item.eventMs} ${item.kind} ${item.device.id}`;

describe("simulated stream", () => {
  it("gives byte-identical streams for the same seed, however it is consumed", () => {
    const a = transcript(7, 600_000, 1_000);
    const b = transcript(7, 600_000, 37_000);
    expect(a.length).toBeGreaterThan(900);
    expect(b.join("\n")).toBe(a.join("\n"));
  });

  it("gives a different stream for another seed", () => {
    expect(transcript(8, 60_000, 1_000)).not.toEqual(transcript(7, 60_000, 1_000));
  });

  it("never reads the wall clock or Math.random", () => {
    const now = vi.spyOn(Date, "now").mockImplementation(() => {
      throw new Error("Date.now() in the pure core");
    });
    const random = vi.spyOn(Math, "random").mockImplementation(() => {
      throw new Error("Math.random() in the pure core");
    });
    try {
      expect(transcript(1, 30_000, 5_000).length).toBeGreaterThan(0);
    } finally {
      now.mockRestore();
      random.mockRestore();
    }
  });

  it("reports each device on its own interval, in event-time order", () => {
    const stream = createStream({ campus, devices: campus.devices, seed: 1, startMs: start });
    const items = stream.take(start + 120_000);
    const times = items.map((i) => i.eventMs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const of = (id: string) => items.filter((i) => i.device.id === id).map((i) => i.eventMs);
    const room = of("brk-d1-101");
    expect(room.length).toBeGreaterThanOrEqual(24);
    expect(room.slice(1).map((t, i) => t - room[i]!)).toEqual(Array(room.length - 1).fill(5_000));
  });

  it("publishes each format on the real device's own topics", () => {
    const stream = createStream({ campus, devices: campus.devices, seed: 1, startMs: start });
    const topics = new Set(stream.take(start + 30_000).flatMap((i) => (i.kind === "report" ? i.messages.map((m) => m.topic) : [])));
    expect(topics).toEqual(
      new Set([
        ...["brk-d1-main", "brk-d1-101", "brk-d1-102", "brk-d1-103", "brk-t1-main", "brk-l1-main", "meter-o1-main", "brk-o1-101"].map((d) => `campus/devices/${d}/telemetry`),
        "tele/tasmota_d1101a/STATE", // the relay's state, with every SENSOR (each TelePeriod), as Tasmota sends it
        "tele/tasmota_d1101a/SENSOR",
        "shellies/shellyplug-s-d1102a/relay/0",
        "shellies/shellyplug-s-d1102a/relay/0/power",
        "shellies/shellyplug-s-d1102a/relay/0/energy",
        "shellies/shellyplug-s-d1102a/temperature",
        "shellypro1pm-t1201/status/switch:0",
        "shellypro1pm-t1201/events/rpc",
        "zigbee2mqtt/lab_fridge_breaker",
      ]),
    );
  });

  it("drops a whole feeder and brings it back, and sends nothing while it is down", () => {
    const stream = createStream({ campus, devices: campus.devices, seed: 1, startMs: start, faults: [fault({ type: "offline", device: "brk-d1-main", atMs: 60_000, forMs: 120_000 })] });
    const items = stream.take(start + 240_000);
    const controls = items.filter((i) => i.kind !== "report").map((i) => `${i.kind} ${i.device.id} +${(i.eventMs - start) / 1000}s`);
    const below = ["brk-d1-main", "brk-d1-101", "brk-d1-102", "brk-d1-103", "plug-d1-101-a", "plug-d1-102-a"];
    expect(controls.sort()).toEqual([...below.map((d) => `drop ${d} +60s`), ...below.map((d) => `restore ${d} +180s`)].sort());
    const silent = items.filter((i) => i.kind === "report" && below.includes(i.device.id) && i.eventMs >= start + 60_000 && i.eventMs < start + 180_000);
    expect(silent).toEqual([]);
    expect(items.some((i) => i.kind === "report" && i.device.id === "brk-o1-101" && i.eventMs > start + 60_000 && i.eventMs < start + 180_000)).toBe(true);
  });

  it("stamps a skewed device's readings with its wrong clock", () => {
    const stream = createStream({ campus, devices: campus.devices, seed: 1, startMs: start, faults: [fault({ type: "clock-skew", device: "brk-o1-101", value: 600_000 })] });
    const reports = stream.take(start + 120_000).filter((i) => i.kind === "report" && i.device.id === "brk-o1-101");
    for (const r of reports) {
      const ts = Date.parse((JSON.parse(r.kind === "report" ? r.messages[0]!.payload : "{}") as { ts: string }).ts);
      expect(ts - r.eventMs).toBe(r.eventMs - start >= 60_000 ? 600_000 : 0);
    }
  });
});

describe("scenario faults in the physics", () => {
  const last = (faults: Fault[], device: string, atS: number) => {
    const stream = createStream({ campus, devices: campus.devices.filter((d) => d.id === device), seed: 1, startMs: start, faults });
    const reports = stream.take(start + atS * 1000).filter((i) => i.kind === "report");
    const item = reports[reports.length - 1]!;
    return JSON.parse(item.kind === "report" ? item.messages[0]!.payload : "{}") as Record<string, number>;
  };
  it("degrades insulation, heats a loose terminal, adds a kettle, overloads and resets the counter", () => {
    expect(last([], "brk-d1-102", 600).leakage_ma).toBeLessThan(10);
    expect(last([fault({ type: "leakage", device: "brk-d1-102", rampMs: 300_000, value: 27 })], "brk-d1-102", 600).leakage_ma).toBeGreaterThan(25);
    expect(last([fault({ type: "overheat", device: "brk-o1-101", rampMs: 120_000, value: 80 })], "brk-o1-101", 600).temperature_c).toBeGreaterThan(78);
    const base = last([], "brk-d1-101", 120).power_w!;
    expect(last([fault({ type: "malignant-load", device: "brk-d1-101", value: 1800 })], "brk-d1-101", 120).power_w! - base).toBeGreaterThan(1700);
    expect(last([fault({ type: "overload", device: "brk-d1-103", value: 1.45 })], "brk-d1-103", 200).current_a).toBeGreaterThan(16 * 1.4);
    expect(last([], "brk-o1-101", 200).energy_kwh).toBeGreaterThan(100);
    expect(last([fault({ type: "counter-reset", device: "brk-o1-101" })], "brk-o1-101", 200).energy_kwh).toBeLessThan(1);
  });
});
