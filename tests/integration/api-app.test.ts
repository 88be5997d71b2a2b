// The API app through app.inject()/injectWS(): real InfluxDB (the shared test influxd), real live state.
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../api/app.js";
import { FailedAuthLimiter } from "../../api/auth-limiter.js";
import { alertRoutes } from "../../api/routes/alerts.js";
import { AckTimeoutError } from "../../api/deps.js";
import { LiveState } from "../../api/live-state.js";
import type { Alert } from "../../domain/alert.js";
import { loadCampus } from "../../infra/campus-file.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase } from "../helpers/influx.js";

const VIEWER = "viewer-token-0123456789";
const OPERATOR = "operator-token-0123456789";
const campus = loadCampus("tests/fixtures/test-campus.yaml");
const as = (token: string) => ({ authorization: `Bearer ${token}` });
// 2026-11-29T00:00:00+08:00 (midnight in Asia/Shanghai) = 2026-11-28T16:00:00Z
const MIDNIGHT = Date.parse("2026-11-29T00:00:00+08:00");

const openAlert: Alert = {
  id: "al-1", rule: "overload", device: "brk-d1-101", building: "dorm-1", site: "test-school", room: "101", severity: "major", state: "firing",
  value: 17.5, threshold: 16, message: "over the rating", started_at: "2026-11-29T08:00:00.000Z", updated_at: "2026-11-29T08:01:00.000Z",
};

// Every field of the alert object in CONTRACT §5 (required, then optional; §9 adds `site`), and the extensions of docs/alerts.md.
const CONTRACT_REQUIRED = ["id", "rule", "device", "building", "site", "severity", "state", "value", "threshold", "message", "started_at", "updated_at"];
const CONTRACT_OPTIONAL = ["room", "resolved_at", "acknowledged_by"];
const EXTENSIONS = ["ack_note", "latched", "inhibited_by", "silenced_by", "flapping", "ttt_s", "ttt_max_s", "command_id"];

let app: FastifyInstance;
let influx: InfluxClient;
let state: LiveState;
let acks: string[] = [];

beforeAll(async () => {
  influx = await freshDatabase("api_app");
  const points = [0, 1, 2, 3].map((minute) => ({
    measurement: "electrical",
    tags: { device: "brk-d1-101", kind: "breaker", building: "dorm-1", room: "101" },
    fields: { power_w: 100 * (minute + 1), current_a: minute },
    ts: MIDNIGHT + minute * 30_000, // two points in each of the first two minutes
  }));
  points.push({ measurement: "electrical", tags: { device: "brk-d1-101", kind: "breaker", building: "dorm-1", room: "101", phase: "L1" } as never, fields: { power_w: 99_999, current_a: 1 }, ts: MIDNIGHT });
  points.push({ measurement: "electrical", tags: { device: "brk-d1-101", kind: "breaker", building: "dorm-1", room: "101" }, fields: { power_w: 50, current_a: 1 }, ts: MIDNIGHT - 60_000 });
  await influx.write(toLines(points));
  await influx.write(
    toLines([
      { measurement: "alert", tags: { device: "brk-d1-102", building: "dorm-1", rule: "overload", severity: "major" }, fields: { alert_id: "al-old", state: "firing", message: "m", value: 17, threshold: 16 }, ts: MIDNIGHT },
      { measurement: "alert", tags: { device: "brk-d1-102", building: "dorm-1", rule: "overload", severity: "major" }, fields: { alert_id: "al-old", state: "resolved", message: "m", value: 10, threshold: 16 }, ts: MIDNIGHT + 600_000 },
    ]),
  );
  state = new LiveState(campus);
  state.applyStatus({ device: "feeder-d1", ts: MIDNIGHT, online: true });
  state.applyReading({ device: "feeder-d1", ts: MIDNIGHT, values: { power_w: 1500, current_a: 7 } });
  state.applyAlert("brk-d1-101", "overload", openAlert, MIDNIGHT);
  app = buildApp({
    campus,
    tokens: parseApiTokens(`viewer:${VIEWER},operator:${OPERATOR}`),
    state,
    influx,
    // The ack round trip over MQTT is tested against the real broker (api.test.ts) and the real
    // alerts service (up.test.ts); here it only records that no request went out.
    ack: async (request) => {
      acks.push(request.alert_id);
      throw new AckTimeoutError(0);
    },
    probes: { mqtt: () => false, influxdb: () => influx.ping() },
    metrics: createRegistry(false),
    log: createLogger("silent"),
    now: () => MIDNIGHT + 3_600_000,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

describe("API auth", () => {
  it("answers health without a token", async () => {
    const res = await app.inject({ url: "/api/health" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("refuses /api/devices without a token with 401 and the JSON error shape", async () => {
    const res = await app.inject({ url: "/api/devices" });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: "UNAUTHORIZED", message: expect.any(String) } });
  });

  it("refuses a wrong token with 401", async () => {
    const res = await app.inject({ url: "/api/devices", headers: as("not-a-real-token-xxxx") });
    expect(res.statusCode).toBe(401);
  });

  it("answers 403 to a viewer who tries to acknowledge", async () => {
    const res = await app.inject({ method: "POST", url: "/api/alerts/al-1/ack", headers: as(VIEWER), payload: {} });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("FORBIDDEN");
  });

  it("answers unknown routes with a JSON 404 (401 first under /api without a token)", async () => {
    expect((await app.inject({ url: "/api/nope", headers: as(VIEWER) })).json()).toEqual({ error: { code: "NOT_FOUND", message: "no such route" } });
    expect((await app.inject({ url: "/api/nope" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/nope" })).statusCode).toBe(404);
  });
});

describe("API auth against encoded and odd paths", () => {
  // The router decodes and normalises paths; auth must follow the route it matched, not the raw text.
  const ODD_PATHS = [
    "/%61pi/devices", "/%61pi/me", "/%61pi/docs/json", "/%61pi/alerts", "/%61pi/devices/brk-d1-101/readings", "/api/%64evices",
    "/API/devices", "/Api/devices", "//api/devices", "/api//devices", "/api/devices/", "/api/devices/..%2fdocs/json",
    "/api/devices/%2e%2e/me", "/%2561pi/devices", "/api/devices?x=/api/health",
  ];

  it("never serves data to a request without a token, however the path is spelled", async () => {
    for (const url of ODD_PATHS) {
      const res = await app.inject({ url });
      expect([401, 404], url).toContain(res.statusCode);
      expect(res.json(), url).toEqual({ error: { code: expect.stringMatching(/^(UNAUTHORIZED|NOT_FOUND)$/), message: expect.any(String) } });
    }
  });

  it("asks for a token on an encoded path that routes to a viewer route, and serves it with one", async () => {
    for (const url of ["/%61pi/devices", "/%61pi/me", "/api/%64evices"]) {
      expect((await app.inject({ url })).statusCode, url).toBe(401);
      expect((await app.inject({ url, headers: as(VIEWER) })).statusCode, url).toBe(200);
    }
  });

  it("keeps an operator route's role behind an encoded path", async () => {
    const res = await app.inject({ method: "POST", url: "/%61pi/alerts/al-1/%61ck", headers: as(VIEWER), payload: {} });
    expect(res.statusCode).toBe(403);
  });
});

describe("API live views", () => {
  it("lists every device for a viewer, with live values and never-heard-of devices offline", async () => {
    const res = await app.inject({ url: "/api/devices", headers: as(VIEWER) });
    expect(res.statusCode).toBe(200);
    const devices = res.json() as Record<string, unknown>[];
    expect(devices).toHaveLength(campus.devices.length);
    expect(devices.find((d) => d.id === "feeder-d1")).toEqual({
      id: "feeder-d1", site: "test-school", kind: "meter", building: "dorm-1", room: null, parent: null, rating_a: null, switchable: false, protected: false,
      online: true, last_seen: MIDNIGHT, latest: { power_w: 1500, current_a: 7 }, open_alerts: 0,
    });
    expect(devices.find((d) => d.id === "brk-d1-101")).toMatchObject({ online: false, last_seen: null, open_alerts: 1, rating_a: 16, switchable: true });
  });

  it("totals buildings from their top-level devices", async () => {
    const res = await app.inject({ url: "/api/buildings", headers: as(VIEWER) });
    expect(res.json()).toEqual([
      { id: "dorm-1", site: "test-school", name: "Dormitory 1", kind: "dormitory", power_w: 1500, devices_online: 1, devices_total: 5, open_alerts: 1 },
      { id: "class-1", site: "test-school", name: "Classroom Block 1", kind: "classroom", power_w: 0, devices_online: 0, devices_total: 2, open_alerts: 0 },
    ]);
  });

  it("says which dependency is not ready", async () => {
    const res = await app.inject({ url: "/api/ready", headers: as(VIEWER) });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: "not_ready", checks: { mqtt: false, influxdb: true }, error: { code: "NOT_READY", message: "not reachable: mqtt" } });
  });

  it("asks for METRICS_TOKEN on /metrics when one is set: another school's people reach the same port", async () => {
    const token = "metrics-token-for-prometheus-01";
    const guarded = buildApp({ campus, tokens: parseApiTokens(`viewer:${VIEWER}`), state, influx, ack: async () => ({ ok: false as const, code: "X", message: "" }), probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent"), metricsToken: token });
    try {
      expect((await guarded.inject({ url: "/metrics" })).statusCode).toBe(401);
      expect((await guarded.inject({ url: "/metrics", headers: as(VIEWER) })).statusCode).toBe(401); // an API token is not it
      const scraped = await guarded.inject({ url: "/metrics", headers: { authorization: `Bearer ${token}` } });
      expect(scraped.statusCode).toBe(200);
      expect(scraped.body).toContain("# TYPE");
    } finally {
      await guarded.close();
    }
  });

  it("serves Prometheus metrics, the OpenAPI document for viewers and the dashboard", async () => {
    expect((await app.inject({ url: "/metrics" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/api/docs/json" })).statusCode).toBe(401);
    const docs = await app.inject({ url: "/api/docs/json", headers: as(VIEWER) });
    expect(Object.keys(docs.json().paths)).toEqual(expect.arrayContaining(["/api/devices", "/api/devices/{id}/readings", "/api/alerts/{id}/ack"]));
    const page = await app.inject({ url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
  });
});

describe("API readings history", () => {
  const readings = (query: string) => app.inject({ url: `/api/devices/brk-d1-101/readings?${query}`, headers: as(VIEWER) });

  it("averages a field per minute, leaving phase points and empty minutes out", async () => {
    const res = await readings(`field=power_w&every=1m&agg=mean&from=${MIDNIGHT}&to=${MIDNIGHT + 600_000}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ device: "brk-d1-101", field: "power_w", every: "1m", agg: "mean", source: "raw", points: [[MIDNIGHT, 150], [MIDNIGHT + 60_000, 350]] });
  });

  it("starts daily buckets at midnight in the site's time zone", async () => {
    const res = await readings(`field=power_w&every=1d&agg=max&from=2026-11-28T00:00:00%2B08:00&to=2026-11-30T00:00:00%2B08:00`);
    expect(res.json().points).toEqual([[MIDNIGHT - 86_400_000, 50], [MIDNIGHT, 400]]);
  });

  it("counts and sums, and reads a phase on request", async () => {
    expect((await readings(`agg=count&every=1h&from=${MIDNIGHT}&to=${MIDNIGHT + 3_600_000}`)).json().points).toEqual([[MIDNIGHT, 4]]);
    expect((await readings(`agg=sum&every=1h&field=current_a&from=${MIDNIGHT}&to=${MIDNIGHT + 3_600_000}`)).json().points).toEqual([[MIDNIGHT, 6]]);
    expect((await readings(`phase=L1&every=1h&from=${MIDNIGHT}&to=${MIDNIGHT + 3_600_000}`)).json().points).toEqual([[MIDNIGHT, 99_999]]);
  });

  it("answers 404 for an unknown device", async () => {
    const res = await app.inject({ url: "/api/devices/nope/readings", headers: as(VIEWER) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("DEVICE_NOT_FOUND");
  });

  it("answers 400 for a field outside the contract, a bad agg, every or time", async () => {
    for (const query of ["field=power_w%22%20OR%201%3D1", "field=switch_on", "agg=median", "every=2m", "from=yesterday", "every=1m&from=0"]) {
      const res = await readings(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    expect((await readings("every=1mo")).json().error).toEqual({ code: "NOT_SUPPORTED", message: expect.stringContaining("not supported yet") });
  });
});

describe("API alerts", () => {
  it("lists open alerts from the live state", async () => {
    const res = await app.inject({ url: "/api/alerts", headers: as(VIEWER) });
    expect(res.json()).toEqual([openAlert]);
  });

  it("lists all alerts: history collapsed per alert, merged with open ones, newest first", async () => {
    const res = await app.inject({ url: `/api/alerts?state=all&from=${MIDNIGHT - 1000}&to=${Date.parse(openAlert.updated_at) + 1}`, headers: as(VIEWER) });
    const alerts = res.json() as Alert[];
    expect(alerts.map((a) => [a.id, a.state])).toEqual([["al-1", "firing"], ["al-old", "resolved"]]);
    expect(alerts[1]).toMatchObject({ started_at: new Date(MIDNIGHT).toISOString(), resolved_at: new Date(MIDNIGHT + 600_000).toISOString(), room: "102" });
  });

  it("shows an alert with its known extensions and passes unknown additive fields through as they came", async () => {
    const extended = { ...openAlert, id: "al-ext", device: "brk-d1-102", room: "102", rule: "predicted-trip", latched: true, ttt_s: 90, ttt_max_s: 400, ack_note: "on it", site: "test-school" };
    state.applyAlert("brk-d1-102", "predicted-trip", extended, MIDNIGHT);
    try {
      const res = await app.inject({ url: "/api/alerts", headers: as(VIEWER) });
      expect(res.json()).toEqual([openAlert, extended]);
    } finally {
      state.applyAlert("brk-d1-102", "predicted-trip", null, MIDNIGHT);
    }
  });

  it("documents the alert object of CONTRACT §5, every field and the severities and states, from the domain's schema", async () => {
    const docs = (await app.inject({ url: "/api/docs/json", headers: as(VIEWER) })).json();
    const alert = docs.paths["/api/alerts/{id}/ack"].post.responses["200"].content["application/json"].schema;
    expect(alert.required).toEqual(CONTRACT_REQUIRED);
    expect(Object.keys(alert.properties).sort()).toEqual([...CONTRACT_REQUIRED, ...CONTRACT_OPTIONAL, ...EXTENSIONS].sort());
    expect(alert.properties.severity.anyOf.flatMap((s: { enum: string[] }) => s.enum)).toEqual(["critical", "major", "minor", "warning", "info"]);
    expect(alert.properties.state.anyOf.flatMap((s: { enum: string[] }) => s.enum)).toEqual(["firing", "acknowledged", "resolved"]);
    expect(alert.additionalProperties).toBe(true);
  });

  it("answers 404 when an operator acknowledges an alert that is not open", async () => {
    const res = await app.inject({ method: "POST", url: "/api/alerts/al-unknown/ack", headers: as(OPERATOR), payload: { note: "x" } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("ALERT_NOT_FOUND");
    expect(acks).toEqual([]);
  });

});

describe("API plugins", () => {
  it("registers every part of the API as a named plugin", () => {
    const names = ["campus-power-auth", "campus-power-system", "campus-power-devices", "campus-power-alerts", "campus-power-energy", "campus-power-silences", "campus-power-live"];
    for (const name of [...names, "@fastify/swagger", "@fastify/websocket"]) expect(app.hasPlugin(name), name).toBe(true);
  });

  it("refuses to start a route plugin registered without the plugins it needs, naming both", async () => {
    const bare = Fastify();
    const deps = { campus, tokens: parseApiTokens(`viewer:${VIEWER}`), state, influx, ack: async () => ({ ok: false as const, code: "X", message: "" }), probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent"), authLimiter: new FailedAuthLimiter({ maxFailures: 1, windowMs: 1, maxAddresses: 1 }) };
    bare.register(alertRoutes, deps);
    await expect(bare.ready()).rejects.toThrow("The dependency 'campus-power-auth' of plugin 'campus-power-alerts' is not registered");
  });
});
