// Simulator output in every device format, through the real broker and the real ingest into a real
// InfluxDB: each device's readings are stored, nothing is refused, and the availability messages land.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { startSimulator } from "../../simulator/index.js";
import { waitFor } from "../helpers/wait.js";
import { GROUP_KEY, type Stack, startStack, storedReadings } from "./simulator-stack.js";

const CAMPUS = "scenarios/campus.yaml";
let stack: Stack;
beforeAll(async () => {
  stack = await startStack(CAMPUS);
});
afterAll(async () => stack?.stop());

describe("simulator output in each device format", () => {
  it("is accepted by the ingest and stored like native readings", async () => {
    const refusalsBefore = await refusals();
    // 4 minutes of event time at 40×, ending now (the clock starts in the past, CONTRACT §7).
    const simulator = await startSimulator({
      campus: stack.campus,
      mqttUrl: stack.mqttUrl,
      deviceGroupKey: GROUP_KEY,
      log: createLogger("silent"),
      seed: 5,
      speed: 40,
      durationMs: 6_000,
      startMs: (wall) => wall - 6_000 * 40,
    });
    expect(simulator.connected).toBe(stack.campus.devices.length);
    await simulator.finished;
    const stats = simulator.stats();
    await simulator.stop();
    await stack.flush();
    expect(stats.failures).toBe(0);
    expect(stats.dropped).toBe(0);

    const byFormat = new Map<string, string[]>();
    for (const d of stack.campus.devices) byFormat.set(d.format, [...(byFormat.get(d.format) ?? []), d.id]);
    expect([...byFormat.keys()].sort()).toEqual(["native", "shelly-gen1", "shelly-gen2", "tasmota", "zigbee2mqtt"]);
    for (const [format, devices] of byFormat) {
      for (const device of devices) {
        const stored = await waitFor(async () => (await storedReadings(stack.influx, [device])).length > 0, 5_000);
        expect(stored, `${format} device ${device} has stored readings`).toBe(true);
      }
    }
    // Power arrives in every format; energy too (Gen1 watt-minutes and Gen2 Wh converted to kWh).
    const energy = rows(await stack.influx.query("SELECT last(energy_kwh) AS kwh, last(power_w) AS w FROM electrical GROUP BY device"));
    const of = (device: string) => energy.find((r) => r.device === device);
    for (const device of stack.campus.devices.filter((d) => d.kind !== "meter" || d.format === "native")) {
      expect(of(device.id)?.kwh, `${device.id} energy`).toBeGreaterThan(0);
      expect(of(device.id)?.w, `${device.id} power`).toBeGreaterThan(0);
    }
    // The foreign counters match the simulated kWh within the devices' resolution.
    const gen1 = of("plug-d1-102-a")!.kwh as number;
    expect(gen1).toBeGreaterThan(1); // watt-minutes ÷ 60 000, not watt-minutes
    expect(gen1).toBeLessThan(1_000);
    expect(await refusals()).toBe(refusalsBefore);

    const statuses = rows(await stack.influx.query("SELECT last(online) AS online FROM device_status GROUP BY device"));
    for (const device of stack.campus.devices) {
      expect(statuses.find((s) => s.device === device.id)?.online, `${device.format} device ${device.id} said it was online`).toBeDefined();
    }
  });
});

async function refusals(): Promise<number> {
  const metrics = await stack.metrics.getMetricsAsJSON();
  const metric = metrics.find((m) => m.name === "campus_power_ingest_refusals_total");
  if (!metric) throw new Error("the ingest's refusal counter is missing");
  return (metric?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}
