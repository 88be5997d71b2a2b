// Late readings reach the peak-demand rollup, and a counter reset never counts negative, through the real
// stack (issue 13 items 2 and 5): real broker, real ingest (its continuous queries and the rollup catch-up),
// the suite's influxd, the real API. A device flushes buffered readings 8 h old first (power only: the
// catch-up then settles which devices report power and creates the power rollup's query, backfilling it);
// then readings 6 h old with a 15-minute plateau of 8 kW and a counter reset. Only the catch-up can put those
// into the rollup: its query is no longer new (no backfill) and re-reads just the last hour. Last, readings six
// days old land in a day the daily peak rollup already holds (infra/peak-day-rollup.ts): the catch-up redoes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localDateOf } from "../../domain/calendar.js";
import { localDayStart } from "../../infra/device-energy-rollup.js";
import { readStaleHours } from "../../infra/energy-rollup.js";
import { rows } from "../../infra/influx.js";
import { peakDayMeasurement } from "../../infra/peak-day-rollup.js";
import { powerRollupMeasurement, readPowerReporters } from "../../infra/power-rollup.js";
import { waitFor } from "../helpers/wait.js";
import { type EnergyStack, HOUR, startEnergyStack } from "./energy-late-stack.js";

const NOW = Date.now();
const EARLIER_HOUR = Math.floor((NOW - 8 * HOUR) / HOUR) * HOUR;
const OLD_HOUR = Math.floor((NOW - 6 * HOUR) / HOUR) * HOUR;
const FIVE_MIN = 5 * 60_000;
/** Readings at :15, :20 and :25 make the window from :15 a mean of 8 kW; the others 1 kW. */
const PLATEAU_W = 8000;
/** The counter rises 0.25 kWh a reading, is reset to 0.5 at the 7th and rises again: 5 + 5 steps. */
const counter = (k: number) => (k < 6 ? 100 + k * 0.25 : 0.5 + (k - 6) * 0.25);
const OLD_KWH = 10 * 0.25;

let stack: EnergyStack;

/** The building power rollup's measurement for the devices that report power now, and its 15-minute points of class-1. */
async function classRollup(fromMs: number, toMs: number): Promise<Record<string, unknown>[]> {
  const measurement = powerRollupMeasurement(stack.campus, "building", await readPowerReporters(stack.influx));
  return rows(await stack.influx.query(`SELECT "power_w" FROM "rollup_1h"."${measurement}" WHERE "building" = 'class-1' AND time >= ${fromMs}ms AND time < ${toMs}ms`));
}

beforeAll(async () => {
  stack = await startEnergyStack("reports-late");
  await stack.flush("brk-c1-main", Array.from({ length: 12 }, (_, k) => ({ ts: EARLIER_HOUR + k * FIVE_MIN, power_w: 500 })));
  await waitFor(async () => (await classRollup(EARLIER_HOUR, EARLIER_HOUR + HOUR)).length === 4, 20_000, { what: "the earlier hour in the power rollup (its query created and backfilled)" });
  await stack.flush(
    "brk-c1-main",
    Array.from({ length: 12 }, (_, k) => ({ ts: OLD_HOUR + k * FIVE_MIN, power_w: k >= 3 && k <= 5 ? PLATEAU_W : 1000, energy_kwh: counter(k) })),
  );
}, 40_000);

afterAll(async () => {
  await stack?.stop();
});

describe("a device flushing six hours of buffered readings", () => {
  it("has them rolled up into the power rollup by the ingest's catch-up", async () => {
    await waitFor(async () => (await classRollup(OLD_HOUR, OLD_HOUR + HOUR)).length === 4, 20_000, { what: "the late hour in the power rollup" });
    expect((await classRollup(OLD_HOUR, OLD_HOUR + HOUR)).map((r) => [r.time, r.power_w])).toEqual([
      [OLD_HOUR, 1000],
      [OLD_HOUR + 15 * 60_000, PLATEAU_W],
      [OLD_HOUR + 30 * 60_000, 1000],
      [OLD_HOUR + 45 * 60_000, 1000],
    ]);
    // The query of the devices counted before anything reported (every root) was replaced, not left running beside.
    const queries = (await stack.influx.query("SHOW CONTINUOUS QUERIES")).find((s) => s.name === stack.influx.config.db)?.values.map((v) => String(v[0])) ?? [];
    const measurement = powerRollupMeasurement(stack.campus, "building", await readPowerReporters(stack.influx));
    expect(queries.filter((name) => name.includes("power_building_"))).toEqual([`cq_${measurement}`]);
  }, 30_000);

  it("reports their day's peak with its window and their kWh across the counter reset, never negative", async () => {
    const day = localDateOf(OLD_HOUR, "Asia/Shanghai");
    const query = `from=${encodeURIComponent(`${day}T00:00:00+08:00`)}&to=${encodeURIComponent(`${day}T23:59:59+08:00`)}&every=day&by=building`;
    let classBlock: any;
    await waitFor(async () => {
      classBlock = (await stack.get(`/api/reports/energy?${query}`)).rows.find((r: any) => r.key === "class-1");
      return classBlock?.peak_kw === PLATEAU_W / 1000;
    }, 15_000, { what: "the late plateau in the report" });
    expect(classBlock.period_start).toBe(`${day}T00:00:00+08:00`);
    expect(Date.parse(classBlock.peak_at)).toBe(OLD_HOUR + 15 * 60_000);
    expect(classBlock.kwh).toBeCloseTo(OLD_KWH, 9);
    expect(classBlock.after_hours_kwh).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it("shows readings six days old in their day's peak, also when the daily peak rollup already held the day", async () => {
    const day = localDayStart(NOW - 6 * 24 * HOUR, "Asia/Shanghai");
    const peakOfDay = async () => {
      const measurement = peakDayMeasurement(stack.campus, "building", await readPowerReporters(stack.influx));
      return rows(await stack.influx.query(`SELECT "power_w", "at_ms" FROM "rollup_1h"."${measurement}" WHERE "building" = 'class-1' AND time = ${day}ms`))[0];
    };
    // First the night: 1.5 kW flat. The catch-up rolls the day up (a complete day it lacked).
    await stack.flush("brk-c1-main", Array.from({ length: 12 }, (_, k) => ({ ts: day + 3 * HOUR + k * FIVE_MIN, power_w: 1500 })));
    await waitFor(async () => (await peakOfDay())?.power_w === 1500, 20_000, { what: "the day in the daily peak rollup" });
    // Then the morning of the same day, a 15-minute plateau of 9 kW: only a roll-up again puts it in the day's peak.
    const morning = day + 10 * HOUR;
    await stack.flush("brk-c1-main", Array.from({ length: 12 }, (_, k) => ({ ts: morning + k * FIVE_MIN, power_w: k >= 3 && k <= 5 ? 9000 : 1500 })));
    await waitFor(async () => (await peakOfDay())?.power_w === 9000, 20_000, { what: "the late plateau in the daily peak rollup" });
    expect((await peakOfDay())!.at_ms).toBe(morning + 15 * 60_000);
    // Served from the rollup once no hour of the day is stale: the report shows the plateau and its window.
    await waitFor(async () => (await readStaleHours(stack.influx, day, day + 24 * HOUR)).length === 0, 20_000, { what: "the day's stale marks cleared" });
    const date = localDateOf(day, "Asia/Shanghai");
    const body = await stack.get(`/api/reports/energy?from=${encodeURIComponent(`${date}T00:00:00+08:00`)}&to=${encodeURIComponent(`${date}T23:59:59+08:00`)}&every=day&by=building`);
    const classBlock = body.rows.find((r: any) => r.key === "class-1");
    expect([classBlock.peak_kw, Date.parse(classBlock.peak_at)]).toEqual([9, morning + 15 * 60_000]);
  }, 60_000);
});
