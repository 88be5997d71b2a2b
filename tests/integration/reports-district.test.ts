// GET /api/reports/energy (CONTRACT §11) on a district across two zones (Asia/Shanghai and Europe/Berlin),
// against the real InfluxDB: points written as the ingest writes them for the first three local days of last
// month and of the month before, rolled up with the ingest's own SELECT … INTO (power rollup included), and
// every figure derived here from those points: kWh of known counter steps, a known 15-minute power plateau,
// last month against the month before; then CSV (BOM, quotes, Chinese) and the workbook read back with exceljs,
// scope, bad input and a month in the future. A second database holds the same points without any rollup:
// the report computed from raw points must be the same.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toLines } from "../../domain/line-protocol.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { ensureRetention } from "../../ingest/retention.js";
import { freshDatabase } from "../helpers/influx.js";
import { appOn, ISO_LOCAL, localMs, monthBack, type Point, readCsv, rollUp, series } from "./reports-data.js";

const VIEWER = "viewer-token-reports-0123456789";
const WEST_VIEWER = "viewer-token-reports-west-0123";
const EAST_CLASS_NAME = '东教学楼 "A", Classrooms';
const dir = mkdtempSync(join(tmpdir(), "campus-reports-"));
for (const file of ["district.yaml", "east-school.yaml", "west-school.yaml"]) {
  const text = readFileSync(`tests/fixtures/district-zones/${file}`, "utf8");
  writeFileSync(join(dir, file), text.replace("name: East Classrooms", `name: '${EAST_CLASS_NAME}'`));
}
const campus = loadCampus(join(dir, "district.yaml"));
const EAST = "Asia/Shanghai";
const WEST = "Europe/Berlin";

const LAST = { east: monthBack(1, EAST), west: monthBack(1, WEST) };
const BEFORE = { east: monthBack(2, EAST), west: monthBack(2, WEST) };


const eastMain = { site: "east-school", device: "brk-east-main", kind: "breaker", building: "east-class" };
const eastPlug = { site: "east-school", device: "plug-east-101", kind: "socket", building: "east-class", room: "101" };
const eastDorm = { site: "east-school", device: "brk-east-d101", kind: "breaker", building: "east-dorm", room: "101" };
const westMain = { site: "west-school", device: "brk-west-main", kind: "breaker", building: "west-class" };
const westPlug = { site: "west-school", device: "plug-west-101", kind: "socket", building: "west-class", room: "101" };
/** On the 2nd at 14:00 local: 4 kW, then 6 kW for two windows; 1 kW otherwise. */
const PLATEAU = { "02T14:00": 4000, "02T14:15": 6000, "02T14:30": 6000 };

const points = (): Point[] => [
  // The classroom breaker: 0.25 kWh a window the month before, 0.5 last month (twice as much: +100 %).
  ...series(eastMain, EAST, BEFORE.east, 0.25, 1000),
  ...series(eastMain, EAST, LAST.east, 0.5, 1000, PLATEAU),
  // The socket below it: counted for its room only (its breaker already includes it).
  ...series(eastPlug, EAST, LAST.east, 0.1, 200, { "03T09:30": 700 }),
  // The dormitory room: only from 02:00 to 03:00 local (after hours whatever the day).
  ...series(eastDorm, EAST, LAST.east, 1, 300, {}, [2]),
  // The Berlin school: the same plateau in its own local time, nothing the month before.
  ...series(westMain, WEST, LAST.west, 0.5, 1000, PLATEAU),
  // Every device reports power, so the rollups filled without knowing who reports (as a backfill does) are the ones read.
  ...series(westPlug, WEST, LAST.west, 0.1, 150),
];


const apps: { rolled?: FastifyInstance; raw?: FastifyInstance } = {};
let rolledInflux: InfluxClient;


/** From the day before the month before last to the 5th of last month: every written day. */
const writtenFrom = () => Math.min(localMs(`${BEFORE.east}-01T00:00`, EAST), localMs(`${BEFORE.west}-01T00:00`, WEST)) - 86_400_000;
const writtenTo = () => Math.max(localMs(`${LAST.east}-05T00:00`, EAST), localMs(`${LAST.west}-05T00:00`, WEST));
const tokens = `viewer:${VIEWER},viewer@west-school:${WEST_VIEWER}`;

beforeAll(async () => {
  rolledInflux = await freshDatabase("reports_rolled");
  // Raw points kept ten years: the month before last may be more than the default 90 days back.
  expect(await ensureRetention(rolledInflux, 3650, createLogger("silent"), campus)).toBe(true);
  await rolledInflux.write(toLines(points()));
  await rollUp(rolledInflux, campus, writtenFrom(), writtenTo());
  const rawInflux = await freshDatabase("reports_raw");
  await rawInflux.write(toLines(points()));
  apps.rolled = await appOn(campus, rolledInflux, tokens);
  apps.raw = await appOn(campus, rawInflux, tokens);
}, 60_000);

afterAll(async () => {
  await apps.rolled?.close();
  await apps.raw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const inject = (url: string, token = VIEWER, headers: Record<string, string> = {}) => apps.rolled!.inject({ url, headers: { authorization: `Bearer ${token}`, ...headers } });
const report = async (query: string, app = apps.rolled!) => {
  const res = await app.inject({ url: `/api/reports/energy?${query}`, headers: { authorization: `Bearer ${VIEWER}` } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const monthRange = (zone: string, month: string, next: string) => `from=${localMs(`${month}-01T00:00`, zone)}&to=${localMs(`${next}-01T00:00`, zone)}`;
const lastMonth = `from=${localMs(`${LAST.east}-01T00:00`, EAST)}&to=${localMs(`${monthBack(0, EAST)}-01T00:00`, EAST)}`;
const row = (body: any, key: string) => body.rows.find((r: any) => r.key === key);

describe("an energy report of a district across two zones", () => {
  it("sums counter steps per building and month, with the month before as baseline", async () => {
    const body = await report(`${lastMonth}&every=month&by=building&site=east-school`);
    expect(body.rows.map((r: any) => r.key)).toEqual(["east-class", "east-dorm"]);
    const east = row(body, "east-class");
    // 3 days × 96 windows: 0.5 kWh each last month, 0.25 the month before.
    expect(east.kwh).toBeCloseTo(3 * 96 * 0.5, 6);
    expect(east.baseline_kwh).toBeCloseTo(3 * 96 * 0.25, 6);
    expect(east.change_pct).toBeCloseTo(100, 6);
    expect(east.name).toBe(EAST_CLASS_NAME);
    expect(east.period_start).toMatch(ISO_LOCAL);
    expect(east.period_start).toBe(`${LAST.east}-01T00:00:00+08:00`);
    // The dormitory room used power only between 02:00 and 03:00: after hours every day; nothing the month before.
    const dorm = row(body, "east-dorm");
    expect([dorm.kwh, dorm.after_hours_kwh, dorm.after_hours_share]).toEqual([3 * 4 * 1, 3 * 4 * 1, 1]);
    expect([dorm.baseline_kwh, dorm.change_pct]).toEqual([null, null]);
  });

  it("gives the largest 15-minute mean power with the start of its window, the earliest of equal ones", async () => {
    const body = await report(`${lastMonth}&every=month&by=building&site=east-school`);
    expect([row(body, "east-class").peak_kw, row(body, "east-class").peak_at]).toEqual([6, `${LAST.east}-02T14:15:00+08:00`]);
    // A site's power is the sum of its buildings' in each window: 6 kW + the dormitory's 0.3 kW at 02:00–03:00 only.
    const site = row(await report(`${lastMonth}&every=month&by=site&site=east-school`), "east-school");
    expect([site.peak_kw, site.peak_at]).toEqual([6, `${LAST.east}-02T14:15:00+08:00`]);
    expect(site.kwh).toBeCloseTo(3 * 96 * 0.5 + 12, 6);
    // Per day: the plateau's day peaks at 14:15; the others at their first window (all 1 kW).
    const days = (await report(`${lastMonth}&every=day&by=building&site=east-school`)).rows.filter((r: any) => r.key === "east-class");
    expect(days.map((r: any) => [r.period_start, r.peak_kw, r.peak_at])).toEqual([
      [`${LAST.east}-01T00:00:00+08:00`, 1, `${LAST.east}-01T00:00:00+08:00`],
      [`${LAST.east}-02T00:00:00+08:00`, 6, `${LAST.east}-02T14:15:00+08:00`],
      [`${LAST.east}-03T00:00:00+08:00`, 1, `${LAST.east}-03T00:00:00+08:00`],
    ]);
    expect(days.map((r: any) => r.baseline_kwh)).toEqual([null, 48, 48]);
  });

  it("counts a room by its topmost device that reports: the socket, whose breaker has no room", async () => {
    const body = await report(`${lastMonth}&every=month&by=room&site=east-school`);
    expect(body.rows.map((r: any) => [r.key, r.kwh, r.peak_kw, r.peak_at])).toEqual([
      ["east-class/101", 3 * 96 * 0.1, 0.7, `${LAST.east}-03T09:30:00+08:00`],
      ["east-dorm/101", 12, 0.3, `${LAST.east}-01T02:00:00+08:00`],
    ]);
    expect(row(body, "east-class/101").name).toBe(`${EAST_CLASS_NAME} 101`);
  });

  it("starts each site's periods at its own local midnight", async () => {
    const body = await report(`from=${localMs(`${LAST.east}-01T00:00`, EAST)}&to=${localMs(`${LAST.west}-04T00:00`, WEST)}&every=month&by=site`);
    const west = row(body, "west-school");
    expect(west.time_zone).toBe(WEST);
    expect(Date.parse(west.period_start)).toBe(localMs(`${LAST.west}-01T00:00`, WEST));
    expect(west.period_start).toMatch(/T00:00:00\+0[12]:00$/);
    expect(Date.parse(west.peak_at)).toBe(localMs(`${LAST.west}-02T14:15`, WEST));
    expect(west.kwh).toBeCloseTo(3 * 96 * 0.5, 6);
    expect(row(body, "east-school").period_start).toBe(`${LAST.east}-01T00:00:00+08:00`);
  });

  it("computes the same rows from raw points where no rollup exists", async () => {
    for (const query of [`${lastMonth}&every=month&by=building`, `${lastMonth}&every=day&by=room`, `${lastMonth}&every=week&by=site`]) {
      const [rolled, raw] = [await report(query), await report(query, apps.raw!)];
      expect(raw.rows).toEqual(rolled.rows);
      expect(rolled.rows.length).toBeGreaterThan(0);
    }
    // The rolled-up database answered from the power rollup: it holds the plateau.
    const names = (await rolledInflux.query(`SHOW MEASUREMENTS ON "${rolledInflux.config.db}"`))[0]!.values.map((v) => String(v[0]));
    const measurement = names.find((n) => n.startsWith("power_building_"))!;
    const top = await rolledInflux.query(`SELECT max("power_w") FROM "rollup_1h"."${measurement}" WHERE "building" = 'east-class'`);
    expect(top[0]!.values[0]![1]).toBe(6000);
    const rooms = names.find((n) => n.startsWith("power_room_"))!;
    expect((await rolledInflux.query(`SELECT max("power_w") FROM "rollup_1h"."${rooms}" GROUP BY "building", "room"`)).map((s) => [s.tags?.building, s.values[0]![1]])).toEqual([
      ["east-class", 700],
      ["east-dorm", 300],
      ["west-class", 150],
    ]);
  });

  it("answers an empty report for a month in the future", async () => {
    const future = monthBack(-2, EAST);
    const body = await report(`${monthRange(EAST, future, monthBack(-3, EAST))}&every=month`);
    expect(body.rows).toEqual([]);
  });
});

describe("the report's formats", () => {
  it("answers CSV with a BOM, a header row and RFC 4180 quoting, to format=csv and to Accept: text/csv", async () => {
    const json = await report(`${lastMonth}&every=month&by=building&site=east-school`);
    for (const res of [await inject(`/api/reports/energy?${lastMonth}&every=month&by=building&site=east-school&format=csv`), await inject(`/api/reports/energy?${lastMonth}&every=month&by=building&site=east-school`, VIEWER, { accept: "text/csv" })]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
      expect(res.headers["content-disposition"]).toBe(`attachment; filename="energy-east-school-${LAST.east}-01-${monthBack(0, EAST)}-01.csv"`);
      expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const [header, ...lines] = readCsv(res.rawPayload.toString("utf8").replace(/^\uFEFF/, ""));
      expect(header).toEqual(Object.keys(json.rows[0]));
      expect(lines.map((cells) => Object.fromEntries(header!.map((h, i) => [h, cells[i]])))).toEqual(
        json.rows.map((r: any) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? "" : String(v)]))),
      );
      expect(lines[0]![1]).toBe(EAST_CLASS_NAME);
    }
  });

  it("answers an Excel workbook with numbers as numbers and dates in the site's local time", async () => {
    const json = await report(`${lastMonth}&every=day&by=building&site=east-school`);
    const res = await inject(`/api/reports/energy?${lastMonth}&every=day&by=building&site=east-school&format=xlsx`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="energy-east-school-[\d-]+\.xlsx"$/);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(new Uint8Array(res.rawPayload).buffer); // exceljs declares its Buffer as an ArrayBuffer
    const sheet = workbook.getWorksheet("energy")!;
    expect(sheet.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual(Object.keys(json.rows[0]));
    const column = (name: string) => header.indexOf(name) + 1;
    expect(sheet.rowCount).toBe(json.rows.length + 1);
    json.rows.forEach((r: any, i: number) => {
      const cells = sheet.getRow(i + 2);
      for (const name of ["kwh", "after_hours_kwh", "after_hours_share", "peak_kw"]) expect(cells.getCell(column(name)).value).toBe(r[name]);
      expect(cells.getCell(column("baseline_kwh")).value).toBe(r.baseline_kwh);
      // An Excel date holds the wall clock: 2026-11-02 14:15 in Shanghai is shown as 2026-11-02 14:15.
      expect((cells.getCell(column("peak_at")).value as Date).toISOString().slice(0, 16)).toBe(r.peak_at.slice(0, 16));
      expect((cells.getCell(column("period_start")).value as Date).toISOString().slice(0, 16)).toBe(r.period_start.slice(0, 16));
    });
    expect(sheet.getRow(2).getCell(column("kwh")).numFmt).toBe("0.000");
    expect(sheet.getRow(2).getCell(column("after_hours_share")).numFmt).toBe("0.0%");
    expect(sheet.getRow(2).getCell(column("peak_at")).numFmt).toBe("yyyy-mm-dd hh:mm");
  });
});

describe("bad input and scope", () => {
  const badRequests: [string, string, RegExp][] = [
    ["from after to", `from=${Date.parse("2026-11-02T00:00:00Z")}&to=${Date.parse("2026-11-01T00:00:00Z")}`, /"from" must be before "to"/],
    ["over 2 years at every=day", `from=2024-01-01T00:00:00Z&to=2026-01-02T00:00:01Z&every=day`, /2 years/],
    ["an unknown by", `${lastMonth}&by=floor`, /"by" must be one of site, building, room/],
    ["an unknown every", `${lastMonth}&every=year`, /"every" must be one of day, week, month/],
    ["an unknown format", `${lastMonth}&format=pdf`, /"format" must be one of json, csv, xlsx/],
  ];
  for (const [what, query, message] of badRequests) {
    it(`answers 400 with a message to ${what}`, async () => {
      const res = await inject(`/api/reports/energy?${query}`);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.message).toMatch(message);
    });
  }

  it("answers 404 to an unknown site and, alike, to a site outside the caller's scope", async () => {
    const unknown = await inject(`/api/reports/energy?${lastMonth}&site=nowhere-school`, WEST_VIEWER);
    const outside = await inject(`/api/reports/energy?${lastMonth}&site=east-school`, WEST_VIEWER);
    expect(unknown.statusCode).toBe(404);
    expect(outside.statusCode).toBe(404);
    expect(outside.json().error.code).toBe(unknown.json().error.code);
    expect(outside.json().error.message.replace("east-school", "X")).toBe(unknown.json().error.message.replace("nowhere-school", "X"));
    // Without site=, a scoped principal's report holds its own school only.
    const own = await inject(`/api/reports/energy?from=${localMs(`${LAST.east}-01T00:00`, EAST)}&to=${localMs(`${LAST.west}-04T00:00`, WEST)}&by=site`, WEST_VIEWER);
    expect(own.json().rows.map((r: any) => r.key)).toEqual(["west-school"]);
  });

  it("documents the route in the OpenAPI document under the reports tag", async () => {
    const doc = (await inject("/api/docs/json")).json();
    const operation = doc.paths["/api/reports/energy"].get;
    expect(operation.tags).toEqual(["reports"]);
    expect(Object.keys(operation.responses["200"].content).sort()).toEqual(["application/json", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"]);
    expect(operation.description).toMatch(/\+08:00/);
  });
});
