// Simulator output in every device format, through the real broker and the real ingest into a real
// InfluxDB: each device's readings are stored with the fields its format carries and values a real
// device of that kind would show, nothing is refused, and the availability messages land.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Device } from "../../domain/campus.js";
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

const ELECTRICAL = ["current_a", "energy_kwh", "power_factor", "power_w", "voltage_v"];

/**
 * The `electrical` fields a device's stored readings carry: what its format sends (simulator/payloads.ts,
 * foreign-payloads.ts) as the ingest's decoders read it (domain/formats/), and the positive counter delta
 * the ingest adds to every reading with an energy counter (`energy_delta_kwh`, ingest/durable-sink.ts).
 */
function expectedFields(device: Device): string[] {
  return [...sentFields(device), "energy_delta_kwh"].sort();
}

function sentFields(device: Device): string[] {
  switch (device.format) {
    case "native": {
      // A meter measures no temperature and switches nothing; leakage only where the device has an RCD.
      const fields = [...ELECTRICAL, "frequency_hz"];
      if (device.kind !== "meter") fields.push("temperature_c", "switch_on");
      if (device.rcd_ma !== undefined) fields.push("leakage_ma");
      return fields;
    }
    case "tasmota": // ENERGY: Voltage, Current, Power, Factor, Total (the simulated plug sends no Frequency)
      return ELECTRICAL;
    case "shelly-gen1": // one value per topic: relay/0/power, relay/0/energy (watt-minutes), temperature, relay/0
      return ["energy_kwh", "power_w", "switch_on", "temperature_c"];
    case "shelly-gen2": // switch:0: apower, voltage, current, pf, freq, aenergy.total (Wh), temperature.tC, output
    case "zigbee2mqtt": // power, voltage, current, power_factor (%), ac_frequency, energy, temperature, state
      return [...ELECTRICAL, "frequency_hz", "switch_on", "temperature_c"];
  }
}

/** Whether a stored value is one a device of this campus can show (nominal 220 V; no fault injected). */
function plausible(field: string, value: unknown, device: Device): boolean {
  const n = typeof value === "number" ? value : Number.NaN;
  switch (field) {
    case "voltage_v": // GB/T 12325: 220 V +7 % / −10 %
      return n >= 198 && n <= 235.4;
    case "current_a":
      return n >= 0 && n < (device.rating_a ?? 63) * 1.5;
    case "power_w":
    case "energy_kwh":
      return n > 0;
    case "energy_delta_kwh": // never negative consumption (CONTRACT §4)
      return n >= 0;
    case "power_factor": // as cos φ, also where the device sent percent (Zigbee2MQTT)
      return n >= 0.5 && n <= 1;
    case "frequency_hz": // the simulated grid stays within 50 ± 0.05 Hz
      return n >= 49.95 && n <= 50.05;
    case "temperature_c":
      return n >= 10 && n <= 65; // below the overtemperature warning: nothing here is faulty
    case "leakage_ma":
      return n >= 0 && n < 0.5 * device.rcd_ma!; // below the leakage warning (0.5 × rcd_ma)
    case "switch_on":
      return value === true;
    default:
      return false;
  }
}

describe("simulator output in each device format", () => {
  it("is accepted by the ingest and stored with the fields and values of each format", async () => {
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

    const formats = new Set(stack.campus.devices.map((d) => d.format));
    expect([...formats].sort()).toEqual(["native", "shelly-gen1", "shelly-gen2", "tasmota", "zigbee2mqtt"]);
    for (const device of stack.campus.devices) {
      const stored = await waitFor(async () => (await storedReadings(stack.influx, [device.id])).length > 0, 5_000);
      expect(stored, `${device.format} device ${device.id} has stored readings`).toBe(true);
    }
    // The latest of each field, totals only (3-phase devices also store per-phase points, tagged `phase`).
    const latest = rows(await stack.influx.query("SELECT last(*) FROM electrical WHERE phase = '' GROUP BY device"));
    for (const device of stack.campus.devices) {
      const row = latest.find((r) => r.device === device.id) ?? {};
      const values = Object.fromEntries(
        Object.entries(row)
          .filter(([column, value]) => column.startsWith("last_") && value !== null)
          .map(([column, value]) => [column.slice("last_".length), value]),
      );
      expect(Object.keys(values).sort(), `fields stored for ${device.format} device ${device.id}`).toEqual(expectedFields(device));
      for (const [field, value] of Object.entries(values)) expect(plausible(field, value, device), `${device.id} ${field} = ${String(value)}`).toBe(true);
    }
    // The foreign counters in kWh, near what the model starts a socket (20–400 kWh) or a circuit (500–5 000 kWh)
    // at (model.ts): Gen1 watt-minutes ÷ 60 000 (not watt-minutes), Gen2 Wh ÷ 1 000, Tasmota and Zigbee kWh as sent.
    const kwh = (id: string) => Number(latest.find((r) => r.device === id)?.last_energy_kwh);
    const gen1 = kwh("plug-d1-102-a");
    expect(gen1).toBeGreaterThan(1);
    expect(gen1).toBeLessThan(1_000);
    for (const id of ["plug-d1-102-a", "plug-d1-101-a"]) expect(kwh(id), `${id} energy_kwh`).toSatisfy((v: number) => v >= 20 && v <= 401);
    for (const id of ["brk-t1-201-light", "brk-l1-fridge"]) expect(kwh(id), `${id} energy_kwh`).toSatisfy((v: number) => v >= 500 && v <= 5_001);
    expect(await refusals()).toBe(refusalsBefore);

    // Every device said it was online when it connected and offline when it left (retained availability in
    // its own format, then the stop's clean "offline": a clean DISCONNECT discards the will, [MQTT-3.14.4-3]).
    const onlineSeries = async () => {
      await stack.flush();
      const statuses = rows(await stack.influx.query("SELECT online FROM device_status GROUP BY device"));
      const byDevice = new Map<string, unknown[]>();
      for (const s of statuses) byDevice.set(String(s.device), [...(byDevice.get(String(s.device)) ?? []), s.online]);
      return stack.campus.devices.every((d) => byDevice.get(d.id)?.at(-1) === false) ? byDevice : null;
    };
    const series = await waitFor(onlineSeries, 5_000);
    for (const device of stack.campus.devices) {
      const said = series?.get(device.id) ?? [];
      expect(said[0], `${device.format} device ${device.id} said it was online first`).toBe(true);
      expect(said.at(-1), `${device.format} device ${device.id} said it was offline last`).toBe(false);
    }
  });
});

async function refusals(): Promise<number> {
  const metrics = await stack.metrics.getMetricsAsJSON();
  const metric = metrics.find((m) => m.name === "campus_power_ingest_refusals_total");
  if (!metric) throw new Error("the ingest's refusal counter is missing");
  return (metric?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}
