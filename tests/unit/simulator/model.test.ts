import { afterEach, describe, expect, it, vi } from "vitest";
import { loadCampus } from "../../../infra/campus-file.js";
import { DEMO_CAMPUS_FILE } from "../../../domain/env.js";
import { parseTelemetry } from "../../../domain/reading.js";
import { advanceTo, createCampusModel, type CampusModel } from "../../../simulator/model.js";
import { nativeReading, tasmotaSensor } from "../../../simulator/payloads.js";

const campus = loadCampus(DEMO_CAMPUS_FILE);
// 2026-11-25 is a Wednesday; Asia/Shanghai is UTC+8 all year.
const at = (localIso: string) => Date.parse(`${localIso}+08:00`);

/** Every device's payload, as JSON text, every `everyMs` for `forMs` of event time. */
function transcript(model: CampusModel, forMs: number, everyMs: number): string[] {
  const lines: string[] = [];
  for (let t = model.nowMs + everyMs; t <= model.startMs + forMs; t += everyMs) {
    advanceTo(model, t);
    for (const device of campus.devices) {
      const payload = device.format === "tasmota" ? tasmotaSensor(model, device.id) : nativeReading(model, device.id);
      lines.push(JSON.stringify(payload));
    }
  }
  return lines;
}

function meanPower(deviceId: string, localIso: string, seed = 3): number {
  const model = createCampusModel(campus, { seed, startMs: at(localIso) });
  let sum = 0;
  for (let minute = 1; minute <= 10; minute++) {
    advanceTo(model, model.startMs + minute * 60_000);
    sum += nativeReading(model, deviceId).power_w ?? 0;
  }
  return sum / 10;
}

describe("simulated campus model", () => {
  afterEach(() => vi.restoreAllMocks());

  it("produces byte-identical readings for the same seed", () => {
    const first = transcript(createCampusModel(campus, { seed: 42, startMs: at("2026-11-25T20:00:00") }), 600_000, 5_000);
    const second = transcript(createCampusModel(campus, { seed: 42, startMs: at("2026-11-25T20:00:00") }), 600_000, 5_000);
    expect(first.length).toBe(120 * campus.devices.length);
    expect(second).toEqual(first);
  });

  it("produces different readings for a different seed", () => {
    const first = transcript(createCampusModel(campus, { seed: 42, startMs: at("2026-11-25T20:00:00") }), 60_000, 5_000);
    const other = transcript(createCampusModel(campus, { seed: 43, startMs: at("2026-11-25T20:00:00") }), 60_000, 5_000);
    expect(other).not.toEqual(first);
  });

  it("never reads the wall clock or Math.random", () => {
    vi.spyOn(Date, "now").mockImplementation(() => {
      throw new Error("Date.now() in the pure core");
    });
    vi.spyOn(Math, "random").mockImplementation(() => {
      throw new Error("Math.random() in the pure core");
    });
    expect(transcript(createCampusModel(campus, { seed: 1, startMs: at("2026-11-25T08:00:00") }), 30_000, 5_000).length).toBeGreaterThan(0);
  });

  it("draws more in a dorm room at 21:00 local time than at 03:00", () => {
    for (const room of ["brk-d3-302", "brk-d3-305"]) {
      const evening = meanPower(room, "2026-11-25T21:00:00");
      const night = meanPower(room, "2026-11-25T03:00:00");
      expect(evening).toBeGreaterThan(4 * night);
      // Under the usual 800–1000 W dorm room limit (reference/domain.md §4.2).
      expect(evening).toBeLessThan(1000);
    }
  });

  it("follows working hours in offices and keeps the lab's fridges running at night", () => {
    expect(meanPower("brk-ad-sock-2f", "2026-11-25T10:00:00")).toBeGreaterThan(3 * meanPower("brk-ad-sock-2f", "2026-11-25T03:00:00"));
    expect(meanPower("brk-ls-fridge", "2026-11-25T03:00:00")).toBeGreaterThan(200);
    expect(meanPower("brk-ls-main", "2026-11-25T03:00:00")).toBeGreaterThan(1500);
  });

  it("never decreases the energy counter and accumulates the integral of power", () => {
    const model = createCampusModel(campus, { seed: 5, startMs: at("2026-11-25T18:30:00") });
    const ids = ["brk-d3-main", "brk-d3-304", "plug-ls-fridge-a", "meter-ta-main"];
    const start = new Map(ids.map((id) => [id, nativeReading(model, id).energy_kwh!]));
    const integralKwh = new Map(ids.map((id) => [id, 0]));
    const last = new Map(start);
    for (let s = 1; s <= 3600; s++) {
      advanceTo(model, model.startMs + s * 1000);
      for (const id of ids) {
        const reading = nativeReading(model, id);
        expect(reading.energy_kwh!).toBeGreaterThanOrEqual(last.get(id)!);
        last.set(id, reading.energy_kwh!);
        integralKwh.set(id, integralKwh.get(id)! + (reading.power_w! * 1) / 3_600_000);
      }
    }
    for (const id of ids) {
      const counted = last.get(id)! - start.get(id)!;
      expect(counted).toBeGreaterThan(0);
      // Rounding: 0.001 kWh on the counter, 0.1 W on the power.
      expect(Math.abs(counted - integralKwh.get(id)!)).toBeLessThan(0.0015);
    }
  });

  it("sums a 3-phase feeder's phases to its total, its children plus a base load, a little unbalanced", () => {
    const model = createCampusModel(campus, { seed: 9, startMs: at("2026-11-25T21:00:00") });
    advanceTo(model, model.startMs + 300_000);
    for (const feeder of ["brk-d3-main", "meter-ta-main", "brk-ls-main", "meter-ad-main"]) {
      const reading = nativeReading(model, feeder);
      const phases = Object.values(reading.phases!);
      expect(phases).toHaveLength(3);
      const phaseSum = phases.reduce((sum, phase) => sum + phase.power_w, 0);
      expect(Math.abs(phaseSum - reading.power_w!)).toBeLessThan(0.5);
      expect(reading.current_a).toBe(Math.max(...phases.map((p) => p.current_a)));
      const children = campus.devices.filter((d) => d.parent === feeder);
      const childSum = children.reduce((sum, d) => sum + nativeReading(model, d.id).power_w!, 0);
      expect(reading.power_w!).toBeGreaterThan(childSum);
      expect(reading.power_w! - childSum).toBeLessThan(2500); // the unmetered remainder (corridors, pumps)
      for (const phase of phases) expect(phase.voltage_v).toBeGreaterThan(198); // GB/T 12325: −10 %
      for (const phase of phases) expect(phase.voltage_v).toBeLessThan(235.4); // +7 %
    }
  });

  it("reports leakage only where an RCD is rated, well below half its rating", () => {
    const model = createCampusModel(campus, { seed: 2, startMs: at("2026-11-25T21:00:00") });
    advanceTo(model, model.startMs + 600_000);
    for (const device of campus.devices) {
      const leakage = nativeReading(model, device.id).leakage_ma;
      if (device.rcd_ma === undefined) expect(leakage).toBeUndefined();
      else if (device.rcd_ma >= 300) expect(leakage).toBeGreaterThanOrEqual(40), expect(leakage).toBeLessThan(150);
      else expect(leakage).toBeGreaterThan(0.5), expect(leakage).toBeLessThan(6);
    }
  });

  it("publishes native readings the ingest accepts without a refusal", () => {
    const model = createCampusModel(campus, { seed: 4, startMs: at("2026-11-25T12:00:00") });
    advanceTo(model, model.startMs + 60_000);
    for (const device of campus.devices.filter((d) => d.format === "native")) {
      const parsed = parseTelemetry(device.id, JSON.stringify(nativeReading(model, device.id)), { receivedAt: model.nowMs, maxAgeMs: 86_400_000 });
      expect(parsed.refusals).toEqual([]);
      expect(parsed.readings[0]?.ts).toBe(model.nowMs);
    }
  });

  it("stamps Tasmota payloads with the site's local time and no zone", () => {
    const model = createCampusModel(campus, { seed: 1, startMs: Date.parse("2026-11-25T13:00:00Z") });
    advanceTo(model, model.startMs + 7_000);
    const sensor = tasmotaSensor(model, "plug-d3-301-a") as { Time: string; ENERGY: Record<string, unknown> };
    expect(sensor.Time).toBe("2026-11-25T21:00:07"); // 13:00:07 UTC is 21:00:07 in Asia/Shanghai
    expect(sensor.ENERGY.TotalStartTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(Object.keys(sensor.ENERGY).sort()).toEqual(
      ["ApparentPower", "Current", "Factor", "Power", "ReactivePower", "Today", "Total", "TotalStartTime", "Voltage", "Yesterday"].sort(),
    );
  });

  it("rolls Tasmota's Today into Yesterday at local midnight", () => {
    const model = createCampusModel(campus, { seed: 1, startMs: at("2026-11-25T22:00:00") });
    advanceTo(model, at("2026-11-25T23:59:59"));
    const before = (tasmotaSensor(model, "plug-d3-301-a") as { ENERGY: { Today: number } }).ENERGY.Today;
    advanceTo(model, at("2026-11-26T00:00:30"));
    const after = (tasmotaSensor(model, "plug-d3-301-a") as { ENERGY: { Today: number; Yesterday: number } }).ENERGY;
    expect(before).toBeGreaterThan(0);
    expect(after.Yesterday).toBeCloseTo(before, 2);
    expect(after.Today).toBeLessThan(0.001);
  });
});
