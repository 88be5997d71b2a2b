// `simulate` on a district file (CONTRACT §7, §9) through the real broker, ingest and InfluxDB: every school's
// devices connect with their own credentials and report, each from its own school: its site on every point,
// its school's nominal voltage, and a Tasmota `Time` in its school's zone (read right, so never refused as
// skewed).
import { afterAll, describe, expect, it } from "vitest";
import { rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { startSimulator } from "../../simulator/index.js";
import { waitFor } from "../helpers/wait.js";
import { GROUP_KEY, type Stack, startStack } from "./simulator-stack.js";

let stack: Stack | undefined;
afterAll(async () => stack?.stop());

describe("the simulator on a district file", () => {
  it("simulates every school, each device in its own school's zone and at its school's voltage", { timeout: 60_000 }, async () => {
    stack = await startStack("tests/fixtures/district-zones/district.yaml");
    const { campus } = stack;
    // Real time (speed 1): a Tasmota plug only reports live, so its Time must be now in its own zone.
    const simulator = await startSimulator({ campus, mqttUrl: stack.mqttUrl, deviceGroupKey: GROUP_KEY, log: createLogger("silent"), seed: 2, durationMs: 6_000 });
    await simulator.finished;
    await simulator.stop();

    const expected = campus.devices.map((d) => `${d.site}/${d.id}`).sort();
    const points = await waitFor(async () => {
      await stack!.flush();
      const found = rows(await stack!.influx.query(`SELECT "voltage_v", "site", "device" FROM "electrical" WHERE "phase" = ''`));
      return new Set(found.map((p) => `${p.site}/${p.device}`)).size === expected.length ? found : null;
    }, 10_000);
    expect([...new Set(points!.map((p) => `${p.site}/${p.device}`))].sort()).toEqual(expected);
    const meanVoltage = (site: string) => {
      const volts = points!.filter((p) => p.site === site && typeof p.voltage_v === "number").map((p) => p.voltage_v as number);
      return volts.reduce((sum, v) => sum + v, 0) / volts.length;
    };
    expect(meanVoltage("east-school")).toBeCloseTo(220, -1);
    expect(meanVoltage("west-school")).toBeCloseTo(230, -1);
    const fallbacks = (await stack.metrics.getSingleMetric("campus_power_ingest_timestamp_fallbacks_total")?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
    expect(fallbacks).toBe(0);
  });
});
