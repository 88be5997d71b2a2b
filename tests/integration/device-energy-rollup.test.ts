// The per-device daily energy rollup (infra/device-energy-rollup.ts) against a real InfluxDB and the real API:
// /api/energy?by=device per day answers the same from it as hour by hour, and late points are never hidden by
// it (their day is read hour by hour while its hours are marked stale, and rolled up again by the catch-up).
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { parseCampusText } from "../../domain/campus.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import { deviceDayMeasurement, fillDeviceDays, localDayStart, rollUpDeviceDays } from "../../infra/device-energy-rollup.js";
import { staleMarkLine } from "../../infra/energy-rollup.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";

const VIEWER = "viewer-token-device-days-0123";
const HOUR = 3_600_000;
const TZ = "Asia/Shanghai";
const parsed = parseCampusText(`${readFileSync("tests/fixtures/test-campus.yaml", "utf8")}
calendar:
  terms: [{ name: year, from: 2020-09-01, to: 2099-07-10 }]
  holidays: []
  workdays: []
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const campus = parsed.campus;
const NOW = Date.now();
const today = localDayStart(NOW, TZ);
/** Five whole days of hourly data, from six days ago to two days ago (local). */
const FROM = localDayStart(today - 5.5 * 24 * HOUR, TZ);
const TO = localDayStart(today - 0.5 * 24 * HOUR, TZ);
/** The hour that receives a late point: 21:00 local three days ago, after hours. */
const LATE_HOUR = localDayStart(today - 2.5 * 24 * HOUR, TZ) + 21 * HOUR;
const LATE_DEVICE = "brk-d1-101";

let influx: InfluxClient;
const kwhOf = (device: number, hour: number) => Math.round(((device + 1) * 0.37 + (hour % 24) * 0.05) * 1e6) / 1e6;
const tags = (id: string) => {
  const d = campus.deviceById.get(id)!;
  return { site: d.site, device: id, kind: d.kind, building: d.building, ...(d.room ? { room: d.room } : {}) };
};

const app = () =>
  buildApp({ campus, tokens: parseApiTokens(`viewer:${VIEWER}`), state: new LiveState(campus), influx, ack: async () => ({ ok: false, code: "X", message: "" }), probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent") });
/** By device (or room) per day (or week) over the five days, with a few hours on either side (read hour by hour). */
async function byDevice(query = "", by = "device", every = "1d"): Promise<any> {
  const res = await app().inject({ url: `/api/energy?by=${by}&every=${every}&from=${FROM - 5 * HOUR}&to=${TO + 3 * HOUR}${query}`, headers: { authorization: `Bearer ${VIEWER}` } });
  expect(res.statusCode).toBe(200);
  return res.json();
}
const withoutSource = ({ source: _source, ...rest }: any) => rest;

beforeAll(async () => {
  influx = await freshDatabase("device_days");
  const db = influx.config.db;
  await influx.query(`CREATE RETENTION POLICY "rollup_1m" ON "${db}" DURATION 400d REPLICATION 1`);
  await influx.query(`CREATE RETENTION POLICY "rollup_1h" ON "${db}" DURATION INF REPLICATION 1`);
  // The hourly rollup the ingest would have written, and the raw points it was made of (one per device and hour).
  const hourly = [];
  const raw = [];
  for (let ts = FROM - 5 * HOUR, h = 0; ts < TO + 3 * HOUR; ts += HOUR, h++) {
    for (const [d, device] of campus.devices.entries()) {
      hourly.push({ measurement: "electrical", tags: tags(device.id), fields: { energy_delta_kwh: kwhOf(d, h) }, ts });
      raw.push({ measurement: "electrical", tags: tags(device.id), fields: { energy_kwh: 1000 + h, energy_delta_kwh: kwhOf(d, h) }, ts: ts + 30 * 60_000 });
    }
  }
  await influx.write(toLines(hourly), "rollup_1h");
  await influx.write(toLines(raw));
});

describe("energy per device and day from the per-device daily rollup", () => {
  it("answers exactly as hour by hour, per device and per room, for the whole district and for one building", async () => {
    const hourByHour = await byDevice();
    const oneBuilding = await byDevice("&building=class-1");
    const rooms = await byDevice("", "room");
    const weeks = await byDevice("", "device", "1w");
    expect(hourByHour.source).toBe("rollup_1h");
    expect(await fillDeviceDays(influx, campus, NOW)).toBeGreaterThanOrEqual(5);
    const rolled = await byDevice();
    expect(rolled.source).toBe(`${deviceDayMeasurement(campus)}+rollup_1h`);
    expect(withoutSource(rolled)).toEqual(withoutSource(hourByHour));
    expect(hourByHour.series).toHaveLength(campus.devices.length);
    expect(hourByHour.after_hours_kwh).toBeGreaterThan(0);
    expect(withoutSource(await byDevice("&building=class-1"))).toEqual(withoutSource(oneBuilding));
    const roomsRolled = await byDevice("", "room");
    expect(roomsRolled.source).toBe(`${deviceDayMeasurement(campus)}+rollup_1h`);
    expect(withoutSource(roomsRolled)).toEqual(withoutSource(rooms));
    expect(rooms.counted_devices).toEqual(["brk-d1-101", "brk-d1-102"]);
    expect(withoutSource(await byDevice("", "device", "1w"))).toEqual(withoutSource(weeks));
    // Nothing left to fill.
    expect(await fillDeviceDays(influx, campus, NOW)).toBe(0);
  });

  it("counts a late point at once: its day is read hour by hour until the catch-up has rolled it up again", async () => {
    const before = await byDevice();
    const day = localDayStart(LATE_HOUR, TZ);
    const dayOf = (body: any) => body.series.find((s: any) => s.key === LATE_DEVICE).points.find((p: number[]) => p[0] === day)[1];
    // As the ingest stores late points: in the same request as the hour's stale mark.
    await influx.write([toLines([{ measurement: "electrical", tags: tags(LATE_DEVICE), fields: { energy_kwh: 2000, energy_delta_kwh: 4 }, ts: LATE_HOUR + 45 * 60_000 }]), staleMarkLine("ingest-test", LATE_HOUR, true)].join("\n"));
    const stale = await byDevice();
    expect(dayOf(stale)).toBeCloseTo(dayOf(before) + 4, 6);
    expect(stale.after_hours_kwh).toBeCloseTo(before.after_hours_kwh + 4, 6);
    // The catch-up: the hour's hourly rollup again, the day again, then the mark cleared.
    const old = (await influx.query(`SELECT "energy_delta_kwh" FROM "rollup_1h"."electrical" WHERE "device" = '${LATE_DEVICE}' AND time = ${LATE_HOUR}ms`))[0]!.values[0]![1] as number;
    await influx.write(toLines([{ measurement: "electrical", tags: tags(LATE_DEVICE), fields: { energy_delta_kwh: old + 4 }, ts: LATE_HOUR }]), "rollup_1h");
    expect(await rollUpDeviceDays(influx, campus, { fromMs: LATE_HOUR, toMs: LATE_HOUR + HOUR }, NOW, [LATE_HOUR])).toBe(1);
    await influx.write(staleMarkLine("ingest-test", LATE_HOUR, false));
    const caughtUp = await byDevice();
    expect(caughtUp.source).toBe(`${deviceDayMeasurement(campus)}+rollup_1h`);
    expect(withoutSource(caughtUp)).toEqual(withoutSource(stale));
  });

  it("leaves a day with a stale hour to the catch-up instead of rolling up what it has not redone", async () => {
    const hour = LATE_HOUR - 24 * HOUR;
    await influx.write(staleMarkLine("ingest-test", hour, true));
    expect(await rollUpDeviceDays(influx, campus, { fromMs: hour, toMs: hour + HOUR }, NOW)).toBe(0);
    expect(await rollUpDeviceDays(influx, campus, { fromMs: hour, toMs: hour + HOUR }, NOW, [hour])).toBe(1);
  });
});
