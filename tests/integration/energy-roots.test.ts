// A root without an energy counter no longer hides its children (issue 13 item 5): building energy counts
// each branch's topmost device that reports energy_kwh. In the test campus dorm-1 is fed by feeder-d1 (here
// it reports only power and leakage, as a feeder with a residual-current detector does) through brk-d1-main
// (current only, a breaker without metering) to the room breakers brk-d1-101 and brk-d1-102, which meter;
// the socket plug-d1-101-a below brk-d1-101 meters too and must not be counted a second time. Real
// ingest, real InfluxDB (its rollups and the building rollup's continuous query), real API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnergyReader } from "../../api/energy-report.js";
import { buildingRollupMeasurement, readEnergyReporters } from "../../infra/energy-rollup.js";
import { rows } from "../../infra/influx.js";
import { waitFor } from "../helpers/wait.js";
import { bufferedReadings, type EnergyStack, HOUR, startEnergyStack } from "./energy-late-stack.js";

const NOW = Date.now();
const OLD_HOUR = Math.floor((NOW - 6 * HOUR) / HOUR) * HOUR;
/** Twelve readings 5 min apart in the old hour: 11 deltas each. */
const ROOM_101_OLD_KWH = 11 * 0.25;
const ROOM_102_OLD_KWH = 11 * 0.5;
/** Four more readings of brk-d1-101 in the last 20 minutes, its counter going on: 4 deltas of 0.25 kWh. */
const ROOM_101_RECENT_KWH = 4 * 0.25;

let stack: EnergyStack;

beforeAll(async () => {
  stack = await startEnergyStack("energy-roots");
  await stack.flush("feeder-d1", bufferedReadings(OLD_HOUR, 12, 0, 5000).map(({ ts, power_w }) => ({ ts, power_w, leakage_ma: 12 })));
  await stack.flush("brk-d1-main", bufferedReadings(OLD_HOUR, 12, 0, 0).map(({ ts }) => ({ ts, current_a: 20 })));
  await stack.flush("brk-d1-101", bufferedReadings(OLD_HOUR, 12, 0.25, 1000));
  await stack.flush("brk-d1-102", bufferedReadings(OLD_HOUR, 12, 0.5, 2000));
  const recentFrom = Math.floor(NOW / 60_000) * 60_000 - 20 * 60_000;
  await stack.flush("brk-d1-101", bufferedReadings(recentFrom, 4, 0.25, 1000, 100 + 12 * 0.25));
  // The socket below brk-d1-101 meters as well (Tasmota's ENERGY.Total, kWh).
  await stack.publish("plug-d1-101-a", "tele/tasmota_5A1B2C/SENSOR", JSON.stringify({ ENERGY: { Total: 7.5, Power: 100 } }));
  await waitFor(async () => (await stack.influx.query(`SELECT count("energy_kwh") FROM "electrical" WHERE "device" = 'plug-d1-101-a'`)).length > 0, 10_000, { what: "the socket's counter stored" });
  // The room breakers' old hour rolled up (by the ingest's catch-up): from then on InfluxDB says they meter.
  // (The API reads which devices meter at most once a minute: asked earlier, it would count brk-d1-102 a minute later.)
  await waitFor(async () => (await stack.influx.query(`SELECT count("energy_delta_kwh") FROM "rollup_1h"."electrical" WHERE "device" = 'brk-d1-102'`)).length > 0, 15_000, { what: "the old hour rolled up" });
}, 40_000);

afterAll(async () => {
  await stack?.stop();
});

const dorm = (body: any) => body.series.find((s: any) => s.key === "dorm-1")?.total_kwh ?? 0;

describe("a building whose root has no energy counter", () => {
  it("counts its room breakers' kWh in the hours served by rollups and in the newest ones from raw points", async () => {
    await waitFor(async () => Math.abs(dorm(await stack.get(`/api/energy?by=building&every=1h&from=${OLD_HOUR}&to=${OLD_HOUR + HOUR}`)) - (ROOM_101_OLD_KWH + ROOM_102_OLD_KWH)) < 1e-9, 15_000, {
      intervalMs: 250,
      what: "dorm-1's old hour from its room breakers",
    });
    const recent = await stack.get(`/api/energy?by=building&every=1h&from=${NOW - HOUR}&to=${NOW + 60_000}`);
    expect(dorm(recent)).toBeCloseTo(ROOM_101_RECENT_KWH, 9);
    expect(recent.source).toMatch(/raw$/);
    const rooms = await stack.get(`/api/energy?by=room&every=1d&from=${OLD_HOUR}&to=${NOW + 60_000}`);
    expect(rooms.series.map((s: any) => [s.key, s.total_kwh])).toEqual([
      ["dorm-1/101", ROOM_101_OLD_KWH + ROOM_101_RECENT_KWH],
      ["dorm-1/102", ROOM_102_OLD_KWH],
    ]);
  }, 30_000);

  it("says which devices were counted: the topmost that report energy, not the socket below one", async () => {
    const reader = new EnergyReader(stack.influx, stack.campus);
    const read = await reader.read({ by: "building", every: "1d", fromMs: OLD_HOUR, toMs: NOW, split: true, sites: stack.campus.sites }, Date.now());
    expect(read.counted).toEqual(["brk-d1-101", "brk-d1-102"]);
    expect(read.series.find((s) => s.key === "dorm-1")?.total_kwh).toBeCloseTo(ROOM_101_OLD_KWH + ROOM_102_OLD_KWH + ROOM_101_RECENT_KWH, 9);
  });

  it("has the ingest's building rollup sum the same devices, under the name the API reads", async () => {
    const reporting = await readEnergyReporters(stack.influx);
    expect([...(reporting ?? [])].sort()).toEqual(["brk-d1-101", "brk-d1-102", "plug-d1-101-a"]);
    const measurement = buildingRollupMeasurement(stack.campus, reporting);
    const queries = async () => (await stack.influx.query("SHOW CONTINUOUS QUERIES")).find((s) => s.name === stack.influx.config.db)?.values ?? [];
    await waitFor(async () => (await queries()).some((row) => row[0] === `cq_${measurement}`), 15_000, {
      what: "the building rollup's query for the counted devices",
    });
    const sum = async () => rows(await stack.influx.query(`SELECT sum("energy_delta_kwh") AS kwh FROM "rollup_1h"."${measurement}" WHERE "building" = 'dorm-1' AND time >= ${OLD_HOUR}ms AND time < ${OLD_HOUR + HOUR}ms`))[0]?.kwh;
    await waitFor(async () => Math.abs(Number(await sum()) - (ROOM_101_OLD_KWH + ROOM_102_OLD_KWH)) < 1e-9, 15_000, { what: "dorm-1's old hour in the building rollup" });
  }, 30_000);
});
