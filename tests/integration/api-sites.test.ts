// GET /api/sites (CONTRACT §9) and each school's own time zone in the history routes, on the test district:
// two schools in Shanghai, one in Urumqi (UTC+6), at Monday 01:30 in Shanghai = Sunday 23:30 in Urumqi.
// Real InfluxDB; the figures are the fixture's points (./api-district.ts ENERGY), worked out by hand below.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, districtApp, TOKENS } from "./api-district.js";

const at = (iso: string) => Date.parse(iso);
const RANGE = "from=2026-11-28T00:00:00%2B08:00&to=2026-11-30T01:30:00%2B08:00";
const NONE = { critical: 0, major: 0, minor: 0, warning: 0, info: 0 };

// Today: north since 00:00 Shanghai (feeder 1.5 at 00:30, classrooms 0.25 at 00:45, both after hours on a
// Monday night); south 4.321 (its meter; the breaker under it is not counted again), its classrooms occupied
// all week by its own file; west since 00:00 Sunday in Urumqi: 2 at 21:00 (after hours), not the 3 of Saturday.
const NORTH = {
  id: "north-middle", name: "North Middle School", timezone: "Asia/Shanghai", devices_total: 3, devices_online: 3, power_w: 1800,
  open_alerts: 1, energy_today_kwh: 1.75, open_alerts_by_severity: { ...NONE, major: 1 }, after_hours_share_today: 1, calendar: null,
};
const SOUTH = {
  id: "south-primary", name: "South Primary School", timezone: "Asia/Shanghai", devices_total: 2, devices_online: 2, power_w: 4321,
  open_alerts: 1, energy_today_kwh: 4.321, open_alerts_by_severity: { ...NONE, critical: 1 }, after_hours_share_today: 0, calendar: null,
};
const WEST = {
  id: "west-kindergarten", name: "West Kindergarten", timezone: "Asia/Urumqi", devices_total: 1, devices_online: 1, power_w: 700,
  open_alerts: 0, energy_today_kwh: 2, open_alerts_by_severity: NONE, after_hours_share_today: 1, calendar: null,
};

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await districtApp());
});
afterAll(async () => {
  await app?.close();
});

const get = async (token: string, url: string) => {
  const res = await app.inject({ url, headers: as(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

describe("GET /api/sites", () => {
  it("gives the district's principal every school with live totals and today's energy in its own zone", async () => {
    expect(await get(TOKENS.admin, "/api/sites")).toEqual([NORTH, SOUTH, WEST]);
  });

  it("gives a principal scoped to one school that school only", async () => {
    expect(await get(TOKENS.northViewer, "/api/sites")).toEqual([NORTH]);
    expect(await get(TOKENS.northViewer, "/api/sites?site=north-middle")).toEqual([NORTH]);
  });

  it("narrows to one school with site=, and to nothing for a school outside the scope or unknown", async () => {
    expect(await get(TOKENS.admin, "/api/sites?site=south-primary")).toEqual([SOUTH]);
    expect(await get(TOKENS.northViewer, "/api/sites?site=south-primary")).toEqual([]);
    expect(await get(TOKENS.admin, "/api/sites?site=nowhere-school")).toEqual([]);
  });

  it("is documented in the OpenAPI document with site=", async () => {
    const docs = await get(TOKENS.northViewer, "/api/docs/json");
    expect(docs.paths["/api/sites"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["site"]);
    const { $ref } = docs.paths["/api/sites"].get.responses["200"].content["application/json"].schema.items;
    const site = docs.components.schemas[$ref.replace("#/components/schemas/", "")];
    expect(Object.keys(site.properties)).toEqual(Object.keys(NORTH));
  });
});

describe("each school's days in its own time zone", () => {
  it("buckets each school's energy from its own midnight, and says so per series when the zones differ", async () => {
    const body = await get(TOKENS.admin, `/api/energy?by=building&every=1d&${RANGE}`);
    expect(body.time_zone).toBeNull();
    const series = (key: string) => body.series.find((s: { key: string }) => s.key === key);
    expect(series("west-hall")).toMatchObject({ site: "west-kindergarten", time_zone: "Asia/Urumqi", points: [[at("2026-11-28T00:00:00+06:00"), 3], [at("2026-11-29T00:00:00+06:00"), 2]] });
    expect(series("north-dorm")).toMatchObject({ site: "north-middle", time_zone: "Asia/Shanghai", points: [[at("2026-11-29T00:00:00+08:00"), 0.5], [at("2026-11-30T00:00:00+08:00"), 1.5]] });
    // The south school's own classroom hours: nothing of it is after hours.
    expect(series("south-class")).toMatchObject({ after_hours_kwh: 0, total_kwh: 14.197 });
  });

  it("gives one time zone when every school in view shares it", async () => {
    const body = await get(TOKENS.northViewer, `/api/energy?by=building&every=1d&${RANGE}`);
    expect(body.time_zone).toBe("Asia/Shanghai");
    // Read from the district's per-building rollup, the hourly rollup and raw points: the rollup's other schools are left out.
    expect(body.source).toMatch(/^energy_building_[0-9a-f]{8}\+rollup_1h\+raw$/);
    expect(body.series.map((s: { key: string }) => s.key)).toEqual(["north-class", "north-dorm"]);
    expect(body.total_kwh).toBe(2.25);
  });

  it("buckets a device's daily readings from its own school's midnight", async () => {
    const body = await get(TOKENS.admin, `/api/devices/west-meter/readings?field=power_w&every=1d&agg=max&${RANGE}`);
    expect(body.points).toEqual([[at("2026-11-28T00:00:00+06:00"), 700], [at("2026-11-29T00:00:00+06:00"), 700]]);
  });
});
