// History buckets across a daylight-saving change, against the real InfluxDB: a campus in Europe/Berlin,
// where 2026-03-29 has 23 hours and 2026-10-25 has 25. One point per hour of 1 kWh (and 1 kW), as the
// ingest writes them: every local day must start at local midnight and hold exactly its hours.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";

const VIEWER = "viewer-token-dst-01234567";
const HOUR = 3_600_000;
const campus = loadCampus("tests/fixtures/test-campus-berlin.yaml");
const at = Date.parse;
let app: FastifyInstance;

/** Half past every UTC hour in [fromMs, toMs): one point of 1 kWh used and 1,000 W. */
const hourlyPoints = (fromMs: number, toMs: number) => {
  const points = [];
  for (let hour = fromMs; hour < toMs; hour += HOUR) {
    points.push({ measurement: "electrical", tags: { device: "meter-h1", kind: "meter", building: "hall-1" }, fields: { energy_delta_kwh: 1, power_w: 1000 }, ts: hour + HOUR / 2 });
  }
  return points;
};

beforeAll(async () => {
  const influx = await freshDatabase("api_dst");
  await influx.write(toLines([...hourlyPoints(at("2026-03-20T00:00:00+01:00"), at("2026-04-02T00:00:00+02:00")), ...hourlyPoints(at("2026-10-23T00:00:00+02:00"), at("2026-10-28T00:00:00+01:00"))]));
  app = buildApp({
    campus,
    tokens: parseApiTokens(`viewer:${VIEWER}`),
    state: new LiveState(campus),
    influx,
    ack: async () => ({ ok: false, code: "NOT_FOUND", message: "no alerts service here" }),
    probes: { mqtt: () => true, influxdb: () => true },
    metrics: createRegistry(false),
    log: createLogger("silent"),
    now: () => at("2026-12-01T00:00:00Z"),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

const get = async (url: string) => {
  const res = await app.inject({ url, headers: { authorization: `Bearer ${VIEWER}` } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const range = (from: string, to: string) => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

describe("daily energy across a daylight-saving change", () => {
  const spring = range("2026-03-28T00:00:00+01:00", "2026-03-31T00:00:00+02:00");
  const springDays = [
    [at("2026-03-28T00:00:00+01:00"), 24],
    [at("2026-03-29T00:00:00+01:00"), 23],
    [at("2026-03-30T00:00:00+02:00"), 24],
  ];
  const autumn = range("2026-10-24T00:00:00+02:00", "2026-10-27T00:00:00+01:00");
  const autumnDays = [
    [at("2026-10-24T00:00:00+02:00"), 24],
    [at("2026-10-25T00:00:00+02:00"), 25],
    [at("2026-10-26T00:00:00+01:00"), 24],
  ];

  it("starts each day at local midnight and sums the 23-hour and the 25-hour day, with the after-hours split", async () => {
    for (const [query, days, total] of [[spring, springDays, 71], [autumn, autumnDays, 73]] as const) {
      const body = await get(`/api/energy?by=device&every=1d&${query}`);
      expect(body.time_zone).toBe("Europe/Berlin");
      expect(body.series.map((s: { key: string }) => s.key)).toEqual(["meter-h1"]);
      expect(body.series[0].points).toEqual(days);
      expect(body.total_kwh).toBe(total);
    }
  });

  it("gives the same days when InfluxDB sums them (after_hours=false), per device and per building", async () => {
    for (const [query, days] of [[spring, springDays], [autumn, autumnDays]] as const) {
      for (const by of ["device", "building"]) {
        const body = await get(`/api/energy?by=${by}&every=1d&after_hours=false&${query}`);
        expect(body.series[0].points, `${by} ${query}`).toEqual(days);
      }
    }
  });

  it("starts the week after the spring change on Monday at local midnight", async () => {
    const body = await get(`/api/energy?by=device&every=1w&after_hours=false&${range("2026-03-23T00:00:00+01:00", "2026-04-02T00:00:00+02:00")}`);
    // Mon 23 – Sun 29: 7 days, one of 23 hours; Mon 30 – Wed 1 April (the data ends there): 3 days.
    expect(body.series[0].points).toEqual([
      [at("2026-03-23T00:00:00+01:00"), 7 * 24 - 1],
      [at("2026-03-30T00:00:00+02:00"), 3 * 24],
    ]);
  });
});

describe("a device's daily readings across a daylight-saving change", () => {
  it("counts the hours of each local day, 23 and 25 on the days of the change", async () => {
    const spring = await get(`/api/devices/meter-h1/readings?field=power_w&agg=count&every=1d&${range("2026-03-28T00:00:00+01:00", "2026-03-31T00:00:00+02:00")}`);
    expect(spring.points).toEqual([
      [at("2026-03-28T00:00:00+01:00"), 24],
      [at("2026-03-29T00:00:00+01:00"), 23],
      [at("2026-03-30T00:00:00+02:00"), 24],
    ]);
    // From noon on the 25-hour day: its bucket still starts at that day's local midnight.
    const autumn = await get(`/api/devices/meter-h1/readings?field=power_w&agg=count&every=1d&${range("2026-10-25T12:00:00+01:00", "2026-10-27T00:00:00+01:00")}`);
    expect(autumn.points).toEqual([
      [at("2026-10-25T00:00:00+02:00"), 12],
      [at("2026-10-26T00:00:00+01:00"), 24],
    ]);
  });
});
