// The daily peak rollup (infra/peak-day-rollup.ts) against a real InfluxDB and the real API, on a district of two
// zones (Asia/Shanghai and Europe/Berlin: days start at each site's midnight): GET /api/reports/energy answers
// exactly the same with it as computed from the power rollup per period (by room and building, per day, week and
// month, whole district and one site), reads it for the days it holds, and never for a day with a stale hour.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toLines } from "../../domain/line-protocol.js";
import { loadCampus } from "../../infra/campus-file.js";
import { completeMeasurement } from "../../infra/device-energy-rollup.js";
import { staleMarkLine } from "../../infra/energy-rollup.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { fillPeakDays, peakDayMeasurement, rollUpPeakDays } from "../../infra/peak-day-rollup.js";
import { readPowerReporters } from "../../infra/power-rollup.js";
import { ensureRetention } from "../../ingest/retention.js";
import { freshDatabase } from "../helpers/influx.js";
import { appOn, localMs, monthBack, type Point, rollUp, series } from "./reports-data.js";

const VIEWER = "viewer-token-peak-days-0123456789";
const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), "campus-peak-days-"));
for (const file of ["district.yaml", "east-school.yaml", "west-school.yaml"]) writeFileSync(join(dir, file), readFileSync(`tests/fixtures/district-zones/${file}`, "utf8"));
const campus = loadCampus(join(dir, "district.yaml"));
const EAST = "Asia/Shanghai";
const WEST = "Europe/Berlin";
const LAST = { east: monthBack(1, EAST), west: monthBack(1, WEST) };

const tagsOf = (device: string) => {
  const d = campus.deviceById.get(device)!;
  return { site: d.site, device, kind: d.kind, building: d.building, ...(d.room ? { room: d.room } : {}) };
};
/** Peaks inside a day, ties inside a day (the 2nd: two windows of 6 kW) and across days (the dormitory: 300 W every night). */
const points = (): Point[] => [
  ...series(tagsOf("brk-east-main"), EAST, LAST.east, 0.5, 1000, { "01T10:00": 2500, "02T14:00": 4000, "02T14:15": 6000, "02T14:30": 6000, "03T20:45": 5000 }),
  ...series(tagsOf("plug-east-101"), EAST, LAST.east, 0.1, 200, { "03T09:30": 700, "01T23:45": 650 }),
  ...series(tagsOf("brk-east-d101"), EAST, LAST.east, 1, 300, {}, [2]),
  ...series(tagsOf("brk-west-main"), WEST, LAST.west, 0.5, 1000, { "02T14:15": 6000, "02T14:30": 6000, "01T00:00": 3000 }),
  ...series(tagsOf("plug-west-101"), WEST, LAST.west, 0.1, 150, { "03T23:45": 400 }),
];

const FROM = Math.min(localMs(`${LAST.east}-01T00:00`, EAST), localMs(`${LAST.west}-01T00:00`, WEST));
const TO = Math.max(localMs(`${LAST.east}-04T00:00`, EAST), localMs(`${LAST.west}-04T00:00`, WEST));
const ASKS = ["every=day&by=room", "every=day&by=building", "every=week&by=room", "every=month&by=building", "every=month&by=room", "every=day&by=site", "every=day&by=room&site=west-school"];

let influx: InfluxClient;
let app: FastifyInstance;
const report = async (ask: string) => {
  const res = await app.inject({ url: `/api/reports/energy?${ask}&from=${FROM}&to=${TO}`, headers: { authorization: `Bearer ${VIEWER}` } });
  expect(res.statusCode).toBe(200);
  return res.json().rows as { key: string; period_start: string; peak_kw: number | null; peak_at: string | null }[];
};
const reportAll = async () => Promise.all(ASKS.map(report));
const roomDay = (rows: Awaited<ReturnType<typeof report>>, key: string, day: string) => rows.find((r) => r.key === key && r.period_start.startsWith(day))!;

let computed: Awaited<ReturnType<typeof reportAll>>;
let roomDays: string;

beforeAll(async () => {
  influx = await freshDatabase("peak_days");
  expect(await ensureRetention(influx, 3650, createLogger("silent"), campus)).toBe(true);
  await influx.write(toLines(points()));
  await rollUp(influx, campus, FROM - 86_400_000, TO + 86_400_000);
  app = await appOn(campus, influx, `viewer:${VIEWER}`);
  computed = await reportAll();
  roomDays = peakDayMeasurement(campus, "room", await readPowerReporters(influx));
}, 60_000);

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("reports' peak demand from the daily peak rollup", () => {
  it("answers exactly as computed per period, for every grouping, period and scope", async () => {
    // The figures computed without the rollup are the known plateaus (a building: its main breaker, which includes its sockets), in local time.
    const eastClass = roomDay(computed[1]!, "east-class", `${LAST.east}-02`);
    expect([eastClass.peak_kw, eastClass.peak_at]).toEqual([6, `${LAST.east}-02T14:15:00+08:00`]);
    const westMonth = computed[3]!.find((r) => r.key === "west-class")!;
    expect([westMonth.peak_kw, westMonth.peak_at]).toEqual([6, `${LAST.west}-02T14:15:00+01:00`]);
    expect(computed[4]!.find((r) => r.key === "east-dorm/101")!.peak_at).toBe(`${LAST.east}-01T02:00:00+08:00`);

    const reporting = await readPowerReporters(influx);
    expect(await fillPeakDays(influx, campus, reporting, Date.now())).toBeGreaterThanOrEqual(2 * 3);
    const marks = rows(await influx.query(`SELECT * FROM "rollup_1h"."${completeMeasurement(roomDays)}" WHERE time >= ${FROM}ms AND time < ${TO}ms`));
    // Each site's local midnights (every complete day since the first window is marked, those without data too).
    expect(marks.filter((m) => m.site === "east-school").map((m) => m.time)).toEqual([1, 2, 3, 4].map((d) => localMs(`${LAST.east}-0${d}T00:00`, EAST)));
    expect(marks.filter((m) => m.site === "west-school").map((m) => m.time)).toEqual([1, 2, 3].map((d) => localMs(`${LAST.west}-0${d}T00:00`, WEST)));
    expect(await reportAll()).toEqual(computed);
    // Nothing left to fill.
    expect(await fillPeakDays(influx, campus, reporting, Date.now())).toBe(0);
  });

  it("reads the days it holds, and computes a day with a stale hour until the catch-up has rolled it up again", async () => {
    const day = localMs(`${LAST.east}-03T00:00`, EAST);
    // A figure only the rollup could answer: the report shows it, so the day is read from the rollup.
    await influx.write(toLines([{ measurement: roomDays, tags: { site: "east-school", building: "east-class", room: "101" }, fields: { power_w: 99_000, at_ms: day + 10 * HOUR }, ts: day }]), "rollup_1h");
    expect(roomDay(await report(ASKS[0]!), "east-class/101", `${LAST.east}-03`)).toMatchObject({ peak_kw: 99, peak_at: `${LAST.east}-03T10:00:00+08:00` });
    // A late point's hour marked stale: the day is computed from the power rollup, the rollup's figure is not used.
    await influx.write(staleMarkLine("ingest-test", day + 5 * HOUR, true));
    expect(await reportAll()).toEqual(computed);
    // The catch-up rolls the day up again (its stale hour just redone), then clears the mark: the rollup serves it, right.
    // The hour lies in a Shanghai day and a Berlin day (the 2nd, 22:00): both, in both groupings.
    expect(await rollUpPeakDays(influx, campus, await readPowerReporters(influx), { fromMs: day + 5 * HOUR, toMs: day + 6 * HOUR }, Date.now(), [day + 5 * HOUR])).toBe(4);
    await influx.write(staleMarkLine("ingest-test", day + 5 * HOUR, false));
    expect(await reportAll()).toEqual(computed);
    const stored = rows(await influx.query(`SELECT "power_w", "at_ms" FROM "rollup_1h"."${roomDays}" WHERE time = ${day}ms AND "building" = 'east-class'`));
    expect(stored.map((r) => [r.power_w, r.at_ms])).toEqual([[700, day + 9.5 * HOUR]]);
  });
});
