// CONTRACT §9 on every REST route: a principal scoped to the north school asks about the south school, on
// every route of the OpenAPI document (a route added later without a probe here fails the test), once as a
// scoped API_TOKENS token and once as a scoped named account signed in with POST /api/login. Each answer
// is what the same question about an unknown id gets, byte for byte once the ids are swapped; no answer holds
// a south id, name or figure; nothing about the south school is sent on to the alerts service. The district's
// admin (a token and an account) asks the same and is answered about the south school, so the ids are real.
// Real InfluxDB, real users file and session store.
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERTS, as, COMMANDS, type DistrictApp, districtApp, PASSWORD, PEOPLE, SILENCES, SOUTH_FIGURES, sentOn, TOKENS } from "./api-district.js";
import { runCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";

/** The ids a probe asks about: the south school's, or ones that exist nowhere. */
interface Ids {
  site: string;
  building: string;
  device: string;
  breaker: string;
  alert: string;
  command: string;
  silence: string;
}
const SOUTH: Ids = { site: "south-primary", building: "south-class", device: "south-meter", breaker: "south-brk-1", alert: ALERTS.south.id, command: COMMANDS.south.id, silence: SILENCES.south.id };
const NOWHERE: Ids = { site: "nowhere-school", building: "nowhere-hall", device: "nowhere-meter", breaker: "nowhere-brk-1", alert: "nowhere-brk-1.leakage.1", command: `nowhere-brk-1.switch_off.${COMMANDS.south.id.split(".")[2]}.1`, silence: "sil-nowhere" };

/** One request of a probe; `admin: "sees"` = the admin's answer shows the south school, `"acts"` = it succeeds. */
interface Probe {
  url: (ids: Ids) => string;
  payload?: (ids: Ids) => Record<string, unknown>;
  /** The bearer token to present instead of the principal's own (a token of someone at `ids.site`). */
  bearer?: (ids: Ids) => Promise<string>;
  /** What differs between two asks of the same question by nature (a new token, its expiry), blanked out. */
  unstable?: RegExp;
  admin?: "sees" | "acts";
}
const RANGE = "from=2026-11-28T00:00:00%2B08:00&to=2026-11-30T01:30:00%2B08:00";

/** Every route of the OpenAPI document, by method and path, with what to ask it about the south school. */
const PROBES: Record<string, Probe[]> = {
  "GET /api/health": [{ url: () => "/api/health" }],
  // Anyone may sign in: the north operator signs in again and is told of its own school only.
  "POST /api/login": [{ url: () => "/api/login", payload: () => ({ username: PEOPLE.northOperator.name, password: PASSWORD }), unstable: /"(token|expires_at)":"[^"]*"/g, admin: "acts" }],
  // A logout ends the token presented: a south person's session answers as a token that is nobody's does.
  "POST /api/logout": [{ url: () => "/api/logout", bearer: (x) => (x.site === SOUTH.site ? district.login(PEOPLE.southViewer) : Promise.resolve("nobody-s-session-token-0123456789")) }],
  "GET /api/ready": [{ url: () => "/api/ready" }],
  "GET /api/me": [{ url: () => "/api/me" }],
  "GET /api/sites": [{ url: () => "/api/sites", admin: "sees" }, { url: (x) => `/api/sites?site=${x.site}`, admin: "sees" }],
  "GET /api/devices": [{ url: () => "/api/devices", admin: "sees" }, { url: (x) => `/api/devices?site=${x.site}`, admin: "sees" }],
  "GET /api/buildings": [{ url: () => "/api/buildings", admin: "sees" }, { url: (x) => `/api/buildings?site=${x.site}`, admin: "sees" }],
  "GET /api/devices/{id}/readings": [{ url: (x) => `/api/devices/${x.device}/readings?${RANGE}&every=1h`, admin: "acts" }, { url: (x) => `/api/devices/${x.device}/readings?${RANGE}&every=1d&agg=max`, admin: "acts" }],
  "GET /api/alerts": [
    { url: () => "/api/alerts", admin: "sees" },
    { url: (x) => `/api/alerts?state=all&${RANGE}&site=${x.site}`, admin: "sees" },
    { url: () => `/api/alerts?state=all&${RANGE}&limit=10`, admin: "sees" },
  ],
  "POST /api/alerts/{id}/ack": [{ url: (x) => `/api/alerts/${x.alert}/ack`, payload: () => ({ note: "seen" }), admin: "acts" }],
  "GET /api/energy": [
    { url: () => `/api/energy?by=device&every=1h&${RANGE}`, admin: "sees" },
    { url: (x) => `/api/energy?by=building&${RANGE}&site=${x.site}`, admin: "sees" },
    { url: (x) => `/api/energy?by=room&${RANGE}&building=${x.building}`, admin: "acts" },
    { url: () => `/api/energy?every=1w&after_hours=false&${RANGE}`, admin: "sees" },
  ],
  "GET /api/reports/energy": [
    { url: () => `/api/reports/energy?every=day&by=building&${RANGE}`, admin: "sees" },
    { url: (x) => `/api/reports/energy?every=month&by=room&${RANGE}&site=${x.site}`, admin: "sees" },
    { url: (x) => `/api/reports/energy?every=week&by=site&${RANGE}&site=${x.site}&format=csv`, admin: "sees" },
  ],
  "GET /api/silences": [{ url: () => "/api/silences?state=all", admin: "sees" }, { url: (x) => `/api/silences?site=${x.site}`, admin: "sees" }],
  "POST /api/silences": [
    { url: () => "/api/silences", payload: (x) => ({ scope: { devices: [x.device] }, ends_at: "2026-11-30T09:00:00+08:00", reason: "works" }), admin: "acts" },
    { url: () => "/api/silences", payload: (x) => ({ scope: { buildings: [x.building], rules: ["offline"] }, ends_at: "2026-11-30T09:00:00+08:00", reason: "works" }), admin: "acts" },
  ],
  "DELETE /api/silences/{id}": [{ url: (x) => `/api/silences/${x.silence}`, admin: "acts" }],
  "POST /api/silences/{id}/end": [{ url: (x) => `/api/silences/${x.silence}/end`, admin: "acts" }],
  "POST /api/commands": [{ url: () => "/api/commands", payload: (x) => ({ device: x.breaker, action: "switch_off", reason: "heater" }), admin: "acts" }],
  "POST /api/commands/{id}/operate": [{ url: (x) => `/api/commands/${x.command}/operate`, admin: "acts" }],
  "DELETE /api/commands/{id}": [{ url: (x) => `/api/commands/${x.command}`, admin: "acts" }],
  "GET /api/commands": [
    { url: (x) => `/api/commands?${RANGE}&site=${x.site}`, admin: "sees" },
    { url: (x) => `/api/commands?${RANGE}&device=${x.breaker}`, admin: "sees" },
    { url: () => `/api/commands?${RANGE}&limit=5`, admin: "sees" },
  ],
  "GET /api/commands/{id}": [{ url: (x) => `/api/commands/${x.command}`, admin: "acts" }],
  "GET /reports/{site}/{month}": [{ url: (x) => `/reports/${x.site}/2026-11`, admin: "sees" }, { url: (x) => `/reports/${x.site}/2026-11?lang=en`, admin: "sees" }],
};

/** The south ids a probe asks about (an answer may echo those, as it echoes an unknown one), longest first. */
function askedIds(probe: Probe): (keyof Ids)[] {
  const request = probe.url(SOUTH) + JSON.stringify(probe.payload?.(SOUTH) ?? {});
  return (Object.keys(SOUTH) as (keyof Ids)[]).filter((key) => request.includes(SOUTH[key])).sort((a, b) => SOUTH[b].length - SOUTH[a].length);
}
/** An answer about the south school with the ids it was asked about written as the unknown ones. */
const asNowhere = (text: string, asked: (keyof Ids)[]) => asked.reduce((t, key) => t.replaceAll(SOUTH[key], NOWHERE[key]), text);

let district: DistrictApp;
let app: FastifyInstance;
let routes: string[] = [];
/** The query parameters the OpenAPI document gives each GET route. */
let queryOf: Record<string, string[]> = {};
/** Who walks the routes: a scoped API_TOKENS token and a scoped named account, each an operator of the north school. */
const scoped: Record<string, string> = { "an API_TOKENS token": TOKENS.northOperator, "a named account": "" };
/** The district's admins: a token and an account. */
const admins: Record<string, string> = { "an API_TOKENS token": TOKENS.admin, "a named account": "" };

beforeAll(async () => {
  district = await districtApp();
  app = district.app;
  scoped["a named account"] = await district.login(PEOPLE.northOperator);
  admins["a named account"] = await district.login(PEOPLE.bureau);
  type Operation = { parameters?: { in: string; name: string }[] };
  const docs = (await app.inject({ url: "/api/docs/json", headers: as(TOKENS.northViewer) })).json() as { paths: Record<string, Record<string, Operation>> };
  routes = Object.entries(docs.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
  queryOf = Object.fromEntries(Object.entries(docs.paths).filter(([, m]) => m.get).map(([path, m]) => [path, (m.get!.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name)]));
});

afterAll(async () => {
  await app?.close();
});

const ask = async (token: string, method: string, probe: Probe, ids: Ids) => {
  const answer = await app.inject({
    method: method as "GET",
    url: probe.url(ids),
    headers: as(probe.bearer ? await probe.bearer(ids) : token),
    ...(probe.payload ? { payload: probe.payload(ids) } : method === "POST" ? { payload: {} } : {}),
  });
  return { statusCode: answer.statusCode, body: probe.unstable ? answer.body.replace(probe.unstable, '"$1":"…"') : answer.body };
};

describe("the walk of every route", () => {
  it("has a probe for every route of the OpenAPI document", () => {
    expect(routes.length).toBeGreaterThan(15);
    expect(routes).toEqual(expect.arrayContaining(["POST /api/login", "POST /api/logout"]));
    expect(routes.filter((route) => PROBES[route] === undefined)).toEqual([]);
    expect(Object.keys(PROBES).filter((route) => !routes.includes(route))).toEqual([]);
  });

  it("documents site= on every list route", () => {
    const lists = Object.keys(queryOf).filter((path) => !path.includes("{") && !["/api/health", "/api/ready", "/api/me"].includes(path));
    expect(lists.length).toBeGreaterThanOrEqual(7);
    expect(lists.filter((path) => !queryOf[path]!.includes("site"))).toEqual([]);
  });

});

describe.each(Object.keys(scoped))("a principal scoped to one school, on every route, as %s", (walker) => {
  it("answers about the other school exactly as about an unknown id, leaks none of it, and sends nothing of it on", async () => {
    sentOn.length = 0;
    let idAnswers = 0;
    for (const route of routes) {
      const method = route.split(" ")[0]!;
      for (const probe of PROBES[route]!) {
        const south = await ask(scoped[walker]!, method, probe, SOUTH);
        const nowhere = await ask(scoped[walker]!, method, probe, NOWHERE);
        const where = `${route} ${probe.url(SOUTH)}`;
        expect(south.statusCode, where).toBe(nowhere.statusCode);
        const swapped = asNowhere(south.body, askedIds(probe));
        expect(swapped, where).toBe(nowhere.body);
        expect(swapped.toLowerCase(), where).not.toContain("south");
        for (const figure of SOUTH_FIGURES) expect(south.body, `${where}: ${figure}`).not.toContain(figure);
        if (route.includes("{id}")) {
          expect(south.statusCode, where).toBe(404);
          idAnswers++;
        }
      }
    }
    expect(idAnswers).toBe(8);
    expect(sentOn.filter((request) => request.includes("south"))).toEqual([]);
    // The walker's own session lived through the walk (the logout probe ended other tokens only).
    expect((await app.inject({ url: "/api/me", headers: as(scoped[walker]!) })).json().sites).toEqual(["north-middle"]);
  });

  it("is answered about the other school when the principal is the district's", async () => {
    for (const route of routes) {
      const method = route.split(" ")[0]!;
      for (const probe of PROBES[route]!.filter((p) => p.admin !== undefined)) {
        const res = await ask(admins[walker]!, method, probe, SOUTH);
        const where = `${route} ${probe.url(SOUTH)}`;
        expect(res.statusCode, `${where}: ${res.body}`).toBeLessThan(300);
        if (probe.admin === "sees") expect(res.body.toLowerCase(), where).toContain("south");
      }
    }
  });
});

describe("a principal scoped to one school, on its own school", () => {
  it("sees its devices, buildings, alerts and commands, each with its site", async () => {
    const get = async (url: string) => (await app.inject({ url, headers: as(TOKENS.northViewer) })).json() as { id: string; site: string }[];
    const devices = await get("/api/devices");
    expect(devices.map((d) => d.id)).toEqual(["north-feeder", "north-brk-101", "north-class-main"]);
    expect(new Set([...devices, ...(await get("/api/buildings")), ...(await get("/api/alerts"))].map((x) => x.site))).toEqual(new Set(["north-middle"]));
    expect((await get(`/api/commands?${RANGE}`)).map((c) => [c.id, c.site])).toEqual([[COMMANDS.north.id, "north-middle"]]);
    expect((await get("/api/silences?state=all")).map((s) => s.id).sort()).toEqual(["sil-everywhere", "sil-north"]);
    expect(await get("/api/me")).toEqual({ role: "viewer", name: expect.stringMatching(/^viewer@north-middle:[0-9a-f]{8}$/), sites: ["north-middle"] });
  });

  it("acknowledges its own alerts, and records who did it with the scope in the name", async () => {
    const res = await app.inject({ method: "POST", url: `/api/alerts/${ALERTS.north.id}/ack`, headers: as(TOKENS.northOperator), payload: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: ALERTS.north.id, site: "north-middle", state: "acknowledged", acknowledged_by: expect.stringMatching(/^operator@north-middle:/) });
  });

  it("creates a silence covering its own buildings when it names none, and may not end one covering the district", async () => {
    sentOn.length = 0;
    const created = await app.inject({ method: "POST", url: "/api/silences", headers: as(TOKENS.northOperator), payload: { scope: { rules: ["offline"] }, ends_at: "2026-11-30T09:00:00+08:00", reason: "works" } });
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(sentOn[0]!).silence.scope).toEqual({ rules: ["offline"], buildings: ["north-dorm", "north-class"] });
    const ended = await app.inject({ method: "DELETE", url: `/api/silences/${SILENCES.everywhere.id}`, headers: as(TOKENS.northOperator) });
    expect(ended.statusCode).toBe(403);
    expect((await app.inject({ method: "DELETE", url: `/api/silences/${SILENCES.everywhere.id}`, headers: as(TOKENS.admin) })).statusCode).toBe(200);
  });
});

describe("a scoped person's session", () => {
  it("is told of its own school only when signing in, and is that person everywhere", async () => {
    const signIn = await app.inject({ method: "POST", url: "/api/login", payload: { username: PEOPLE.northOperator.name, password: PASSWORD } });
    expect(signIn.json().user).toEqual({ name: "wang.li", role: "operator", sites: ["north-middle"] });
    expect((await app.inject({ url: "/api/me", headers: as(signIn.json().token) })).json()).toEqual({ name: "wang.li", role: "operator", sites: ["north-middle"] });
  });

  it("records the person's name on an acknowledgement and a command", async () => {
    const token = await district.login(PEOPLE.northOperator);
    sentOn.length = 0;
    const ack = await app.inject({ method: "POST", url: `/api/alerts/${ALERTS.north.id}/ack`, headers: as(token), payload: {} });
    expect(ack.json()).toMatchObject({ id: ALERTS.north.id, acknowledged_by: "wang.li" });
    const select = await app.inject({ method: "POST", url: "/api/commands", headers: as(token), payload: { device: "north-brk-101", action: "switch_off", reason: "heater" } });
    expect(select.statusCode).toBe(201);
    expect(sentOn.map((text) => JSON.parse(text).by)).toEqual(["wang.li", "wang.li"]);
  });

  it("ends at logout alone: the person's other sessions, another person's and API tokens go on", async () => {
    const [ended, other, south] = [await district.login(PEOPLE.northOperator), await district.login(PEOPLE.northOperator), await district.login(PEOPLE.southViewer)];
    const me = async (token: string) => (await app.inject({ url: "/api/me", headers: as(token) })).statusCode;
    expect((await app.inject({ method: "POST", url: "/api/logout", headers: as(ended) })).statusCode).toBe(204);
    expect([await me(ended), await me(other), await me(south)]).toEqual([401, 200, 200]);
    // An API_TOKENS token is no session: a logout with it answers the same and changes nothing.
    expect((await app.inject({ method: "POST", url: "/api/logout", headers: as(TOKENS.northViewer) })).statusCode).toBe(204);
    expect(await me(TOKENS.northViewer)).toBe(200);
  });

  it("loses a school at its next request once an admin takes the school from the account", async () => {
    const token = await district.login(PEOPLE.northViewer);
    const northReadings = async () => (await app.inject({ url: `/api/devices/north-feeder/readings?${RANGE}&every=1h`, headers: as(token) })).statusCode;
    expect(await northReadings()).toBe(200);
    await district.setSites(PEOPLE.northViewer, ["south-primary"]);
    await waitFor(async () => (await northReadings()) === 404, 5_000, { what: "north-feeder gone from the moved account" });
    const devices = (await app.inject({ url: "/api/devices", headers: as(token) })).json() as { site: string }[];
    expect(new Set(devices.map((d) => d.site))).toEqual(new Set(["south-primary"]));
  });
});

describe("API_TOKENS at start", () => {
  it("refuses a token scoped to a site the district does not have, naming its position and never the token", () => {
    const secret = "scoped-to-nowhere-0123456789";
    const { status, stderr } = runCli(["api"], {
      CAMPUS_CONFIG: "tests/fixtures/district/district.yaml",
      API_TOKENS: `viewer:${TOKENS.northViewer},admin@north-middle:${TOKENS.admin},operator@north-middle+nowhere-school:${secret}`,
      SERVICE_PASSWORD: "service-password-0123456789",
      MQTT_URL: "mqtt://127.0.0.1:9",
      HTTP_PORT: "0",
    });
    expect(status).toBe(1);
    expect(stderr).toContain("API_TOKENS[2]");
    expect(stderr).toContain('"nowhere-school"');
    expect(stderr).not.toContain(secret);
    expect(stderr).not.toMatch(/API_TOKENS\[[01]\]/);
  });
});
