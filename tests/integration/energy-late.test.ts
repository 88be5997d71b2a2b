// Late readings count (issue 13 item 5): a device that flushes hours or days of buffered readings has them
// in every rollup-served view within seconds, because the ingest rolls up again the windows they touch
// (ingest/rollup-catchup.ts). The continuous queries alone never would: they re-read only the last 15 min
// (rollup_1m) and 2–3 h (rollup_1h, the building rollup), and the API serves older hours from rollups.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../../infra/influx.js";
import { waitFor } from "../helpers/wait.js";
import { bufferedReadings, type EnergyStack, HOUR, startEnergyStack } from "./energy-late-stack.js";

const NOW = Date.now();
/** Twelve readings 5 min apart inside one hour: 11 deltas of 0.25 kWh (the first reading ever has none). */
const READINGS = 12;
const STEP_KWH = 0.25;
const EXPECTED_KWH = (READINGS - 1) * STEP_KWH;

let stack: EnergyStack;

beforeAll(async () => {
  stack = await startEnergyStack("energy-late");
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

/** kWh of a building per hour over [fromMs, toMs) as the API answers it. */
async function buildingHours(building: string, fromMs: number, toMs: number) {
  const body = await stack.get(`/api/energy?by=building&every=1h&from=${fromMs}&to=${toMs}`);
  return { source: body.source as string, kwh: body.series.find((s: any) => s.key === building)?.total_kwh ?? 0 };
}

const rolledUpIn = async (on: EnergyStack, rp: string, device: string, field = "energy_delta_kwh") =>
  rows(await on.influx.query(`SELECT sum("${field}") AS total, count("${field}") AS n FROM "${rp}"."electrical" WHERE "device" = '${device}'`))[0] ?? { total: 0, n: 0 };
const rolledUp = (rp: string, device: string, field: string) => rolledUpIn(stack, rp, device, field);

describe.each([
  { late: "six hours", ago: 6 * HOUR, device: "feeder-d1", building: "dorm-1" },
  { late: "six days", ago: 6 * 24 * HOUR, device: "brk-c1-main", building: "class-1" },
])("a buffer flushed $late late", ({ ago, device, building }) => {
  const hour = Math.floor((NOW - ago) / HOUR) * HOUR;

  it("is in the hourly energy by building, and in the 1-minute and hourly rollups, within seconds", async () => {
    // Nothing of that hour before the flush.
    expect((await buildingHours(building, hour, hour + HOUR)).kwh).toBe(0);
    await stack.flush(device, bufferedReadings(hour + 60_000, READINGS, STEP_KWH, 3000));
    const flushedAt = Date.now();
    await waitFor(async () => Math.abs((await buildingHours(building, hour, hour + HOUR)).kwh - EXPECTED_KWH) < 1e-9, 15_000, {
      intervalMs: 250,
      what: `${EXPECTED_KWH} kWh of ${building} in the hour the buffer covers`,
    });
    // Then served from the rollups again (not from raw points): the hour is rolled up and its stale mark cleared.
    await waitFor(async () => !/raw/.test((await buildingHours(building, hour, hour + HOUR)).source), 15_000, { intervalMs: 250, what: "the hour served from the rollups" });
    expect(Date.now() - flushedAt).toBeLessThan(15_000);
    // The hour's stale mark named the school, as every point does (CONTRACT §9), and stands cleared.
    const marks = rows(await stack.influx.query(`SELECT "stale", "site" FROM "rollup_stale" WHERE time = ${hour}ms`));
    expect(marks.map((mark) => [mark.site, mark.stale])).toEqual([[stack.campus.site.id, false]]);
    expect((await buildingHours(building, hour, hour + HOUR)).kwh).toBeCloseTo(EXPECTED_KWH, 9);
    // The 1-minute rollup: one window per reading, power as sent, every delta once.
    const minutes = await rolledUp("rollup_1m", device, "power_w_mean");
    expect(minutes.n).toBe(READINGS);
    expect((await rolledUp("rollup_1m", device, "energy_delta_kwh")).total).toBeCloseTo(EXPECTED_KWH, 9);
    expect((await rolledUp("rollup_1h", device, "energy_delta_kwh")).total).toBeCloseTo(EXPECTED_KWH, 9);
    // And the power history at 1-minute buckets, which reads rollup_1m for a range that old.
    const history = await stack.get(`/api/devices/${device}/readings?field=power_w&every=1m&agg=mean&from=${hour}&to=${hour + HOUR}`);
    expect(history.source).toBe("rollup_1m");
    expect(history.points.map((p: number[]) => p[1])).toEqual(Array(READINGS).fill(3000));
    if (ago < 2 * 24 * HOUR) return;
    // A whole day in the past: kWh per device per day is served by the per-device daily rollup
    // (infra/device-energy-rollup.ts), which the catch-up writes for the day the late hour lies in.
    const daily = async () => {
      const body = await stack.get(`/api/energy?by=device&every=1d&from=${NOW - 8 * 24 * HOUR}&to=${NOW}`);
      return { source: body.source as string, kwh: body.series.find((s: any) => s.key === device)?.total_kwh ?? 0 };
    };
    await waitFor(async () => /^energy_device_day_/.test((await daily()).source), 15_000, { intervalMs: 250, what: "days served from the per-device daily rollup" });
    expect((await daily()).kwh).toBeCloseTo(EXPECTED_KWH, 9);
  }, 30_000);
});

describe("an hour waiting to be rolled up again", () => {
  let slow: EnergyStack;
  const hour = Math.floor((NOW - 5 * HOUR) / HOUR) * HOUR;
  const dorm = async () => {
    const body = await slow.get(`/api/energy?by=building&every=1h&from=${hour}&to=${hour + HOUR}`);
    return { source: body.source as string, kwh: body.series.find((s: any) => s.key === "dorm-1")?.total_kwh ?? 0 };
  };

  beforeAll(async () => {
    // A catch-up that waits ten minutes before its round: the late points are stored long before their rollups.
    slow = await startEnergyStack("energy-stale", { catchUpCoalesceMs: 600_000 });
  }, 30_000);

  afterAll(async () => {
    await slow?.stop();
  });

  it("is read from raw points at once, and from the rollups once the ingest (restarted meanwhile) has rolled it up", async () => {
    await slow.flush("feeder-d1", bufferedReadings(hour + 60_000, READINGS, STEP_KWH, 3000));
    await waitFor(async () => Math.abs((await dorm()).kwh - EXPECTED_KWH) < 1e-9, 10_000, { intervalMs: 250, what: "the late hour from raw points" });
    expect((await dorm()).source).toBe("raw");
    expect((await rolledUpIn(slow, "rollup_1h", "feeder-d1")).n).toBe(0); // not rolled up yet: the stale mark is why it counts
    // The device's own history of that hour too: read from raw points while its rollup is stale.
    const history = await slow.get(`/api/devices/feeder-d1/readings?field=power_w&every=1m&agg=mean&from=${hour}&to=${hour + HOUR}`);
    expect(history.source).toBe("raw");
    expect(history.points).toHaveLength(READINGS);
    // Stopped before its round, the ingest leaves the mark; started again, it takes the hour up at once.
    await slow.restartIngest();
    await waitFor(async () => (await dorm()).source !== "raw", 15_000, { intervalMs: 250, what: "the hour served from the rollups again" });
    expect((await dorm()).kwh).toBeCloseTo(EXPECTED_KWH, 9);
    expect((await rolledUpIn(slow, "rollup_1h", "feeder-d1")).total).toBeCloseTo(EXPECTED_KWH, 9);
  }, 40_000);
});
