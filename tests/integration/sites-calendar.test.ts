// Each school's calendar in GET /api/sites (CONTRACT §11; an extension the dashboard's energy views shade
// days off with): as the campus file gives it, a single-day holiday as a one-day range, null for a school
// without one, and only for the schools in the caller's scope (CONTRACT §9). Real InfluxDB behind the API.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../api/app.js";
import { LiveState } from "../../api/live-state.js";
import { parseApiTokens } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";

const TOKENS = { eastViewer: "east-viewer-token-0123456789", admin: "district-admin-token-0123456789" };
const school = (id: string, name: string, extra: object) => ({
  site: { id, name, timezone: "Asia/Shanghai", nominal_voltage_v: 220 },
  buildings: [{ id: `${id}-class`, name: "Classroom Block", kind: "classroom" }],
  devices: [{ id: `${id}-meter`, kind: "meter", building: `${id}-class` }],
  ...extra,
});
const EAST_FILE_CALENDAR = {
  terms: [{ name: "autumn", from: "2026-09-01", to: "2027-01-22" }],
  holidays: ["2026-09-25", { from: "2026-10-01", to: "2026-10-07" }],
  workdays: ["2026-10-10"],
};
const EAST_CALENDAR = {
  terms: [{ name: "autumn", from: "2026-09-01", to: "2027-01-22" }],
  holidays: [{ from: "2026-09-25", to: "2026-09-25" }, { from: "2026-10-01", to: "2026-10-07" }],
  workdays: ["2026-10-10"],
};
// The other school's year is its own: none of its dates may reach a principal of the east school.
const WEST_CALENDAR = { terms: [{ name: "spring", from: "2027-02-23", to: "2027-07-08" }], holidays: [{ from: "2027-04-06", to: "2027-04-06" }], workdays: [] };
const DISTRICT = {
  district: { id: "calendar-district", name: "Calendar District" },
  sites: [school("east-middle", "East Middle School", { calendar: EAST_FILE_CALENDAR }), school("west-primary", "West Primary School", { calendar: WEST_CALENDAR }), school("north-kg", "North Kindergarten", {})],
};

const dir = mkdtempSync(join(tmpdir(), "sites-calendar-"));
let app: FastifyInstance;

beforeAll(async () => {
  writeFileSync(join(dir, "district.yaml"), JSON.stringify(DISTRICT));
  const campus = loadCampus(join(dir, "district.yaml"));
  const influx = await freshDatabase("sites_calendar");
  app = buildApp({
    campus,
    tokens: parseApiTokens(`viewer@east-middle:${TOKENS.eastViewer},admin:${TOKENS.admin}`),
    state: new LiveState(campus),
    influx,
    ack: async () => ({ ok: false, code: "NOT_FOUND", message: "no alerts service in this test" }),
    probes: { mqtt: () => true, influxdb: () => influx.ping() },
    metrics: createRegistry(false),
    log: createLogger("silent"),
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sites = async (token: string, query = "") => {
  const res = await app.inject({ url: `/api/sites${query}`, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, res.body).toBe(200);
  return { body: res.body, sites: res.json() as { id: string; calendar: unknown }[] };
};

describe("the calendar of each school in GET /api/sites", () => {
  it("gives the district's principal every school's calendar, single days as one-day ranges, null without one", async () => {
    const { sites: all } = await sites(TOKENS.admin);
    expect(all.map(({ id, calendar }) => ({ id, calendar }))).toEqual([
      { id: "east-middle", calendar: EAST_CALENDAR },
      { id: "west-primary", calendar: WEST_CALENDAR },
      { id: "north-kg", calendar: null },
    ]);
  });

  it("gives a principal of one school its own calendar and nothing of another school's", async () => {
    const own = await sites(TOKENS.eastViewer);
    expect(own.sites.map(({ id, calendar }) => ({ id, calendar }))).toEqual([{ id: "east-middle", calendar: EAST_CALENDAR }]);
    for (const date of ["2027-02-23", "2027-04-06", "2027-07-08"]) expect(own.body).not.toContain(date);
    expect((await sites(TOKENS.eastViewer, "?site=west-primary")).sites).toEqual([]);
  });

  it("documents the calendar in the OpenAPI document", async () => {
    const res = await app.inject({ url: "/api/docs/json", headers: { authorization: `Bearer ${TOKENS.eastViewer}` } });
    const docs = res.json();
    const { $ref } = docs.paths["/api/sites"].get.responses["200"].content["application/json"].schema.items;
    const calendar = docs.components.schemas[$ref.replace("#/components/schemas/", "")].properties.calendar;
    expect(calendar.description).toContain("CONTRACT §11");
    // OpenAPI 3.0 writes "an object or null" as a nullable object.
    expect(calendar).toMatchObject({ type: "object", nullable: true, required: ["terms", "holidays", "workdays"] });
    expect(calendar.properties.holidays.items.properties.to.description).toBe('last day, inclusive, "YYYY-MM-DD" in the site\'s time zone');
  });
});
