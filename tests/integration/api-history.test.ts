// The API's history, energy, silences and access rules against the real stack: real broker, the real
// alerts service (startAlerts answers silence requests), real InfluxDB with the rollup retention
// policies the ingest creates (made here if absent) and points written as the ingest writes them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { buildApp } from "../../api/app.js";
import { buildingRollupSelect } from "../../api/energy-building-rollup.js";
import { startApi, type RunningApi } from "../../api/index.js";
import { LiveState } from "../../api/live-state.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { parseApiTokens, readEnv } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const VIEWER = "viewer-token-history-0123";
const OPERATOR = "operator-token-history-0123";
const PASSWORD = "service-password-history-0123";
const HOUR = 3_600_000;
const campus = loadCampus("tests/fixtures/test-campus.yaml");
const NOW = Date.now();
const hourStart = Math.floor(NOW / HOUR) * HOUR;
const DAYS_30 = 30 * 24 * HOUR;

let dataDir: string;
let influx: InfluxClient;
let broker: RunningBroker;
let alerts: RunningAlerts;
let api: RunningApi;

const call = async (path: string, token: string | null = VIEWER, init: RequestInit = {}) => {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (init.body) headers["content-type"] = "application/json";
  const res = await fetch(`${api.url}${path}`, { ...init, headers });
  return { status: res.status, body: (await res.json()) as any };
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-api-history-"));
  influx = await freshDatabase("api_history");
  const db = influx.config.db;
  // As the ingest creates them (idempotent): raw stays the default.
  await influx.query(`CREATE RETENTION POLICY "rollup_1m" ON "${db}" DURATION 400d REPLICATION 1`);
  await influx.query(`CREATE RETENTION POLICY "rollup_1h" ON "${db}" DURATION INF REPLICATION 1`);

  const tags = (device: string) => {
    const d = campus.deviceById.get(device)!;
    return { device, kind: d.kind, building: d.building, ...(d.room ? { room: d.room } : {}) };
  };
  // Rolled-up hours: 30 days of feeder-d1 (the root of dorm-1) at 2 kWh/h and of its child brk-d1-101 at 1 kWh/h.
  const rollup = [];
  for (let h = 30 * 24; h >= 3; h--) {
    const ts = hourStart - h * HOUR;
    rollup.push({ measurement: "electrical", tags: tags("feeder-d1"), fields: { energy_delta_kwh: 2, power_w_mean: 2000, power_w_max: 2500, current_a_max: 9, voltage_v_mean: 221 }, ts });
    rollup.push({ measurement: "electrical", tags: tags("brk-d1-101"), fields: { energy_delta_kwh: 1, power_w_mean: 1000, power_w_max: 1200, current_a_max: 5, voltage_v_mean: 221 }, ts });
  }
  await influx.write(toLines(rollup), "rollup_1h");
  // Raw points of the same old hours: they must not be counted again next to their rollup.
  await influx.write(toLines([{ measurement: "electrical", tags: tags("feeder-d1"), fields: { energy_kwh: 10, energy_delta_kwh: 500 }, ts: hourStart - 10 * HOUR }]));
  // The newest hour from raw points, with a counter reset: 500 → 502, then 0.2 → 1.2 (a new cycle).
  const counter = [500, 501, 502, 0.2, 1.2];
  const deltas = [0.5, 1, 1, 0.2, 1];
  await influx.write(toLines(counter.map((energy_kwh, i) => ({ measurement: "electrical", tags: tags("brk-c1-main"), fields: { energy_kwh, energy_delta_kwh: deltas[i]! }, ts: NOW - 50 * 60_000 + i * 60_000 }))));

  const env = readEnv({
    API_TOKENS: `viewer:${VIEWER},operator:${OPERATOR}`, SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "device-group-key-history-01",
    HTTP_PORT: "0", INFLUX_URL: influxUrl(), INFLUX_DB: db, LOG_LEVEL: "silent", DATA_DIR: dataDir,
  });
  const base = { campus, log: createLogger("silent"), metrics: createRegistry(false) };
  broker = await startBroker({ ...base, env }, { port: 0, wsPort: 0, host: "127.0.0.1" });
  const ctx: ServiceContext = { ...base, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` } };
  alerts = await startAlerts({ ...ctx, metrics: createRegistry(false) }, { influx });
  api = await startApi({ ...ctx, metrics: createRegistry(false) }, { influx, host: "127.0.0.1", ackTimeoutMs: 5_000 });
});

afterAll(async () => {
  await api?.stop();
  await alerts?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("energy", () => {
  it("sums the rollup for old hours and raw deltas for the newest, through a counter reset, per building", async () => {
    const { status, body } = await call(`/api/energy?by=building&every=1d&from=${hourStart - DAYS_30 - 6 * HOUR}&to=${NOW}`);
    expect(status).toBe(200);
    expect(body.source).toBe("rollup_1h+raw");
    const dorm = body.series.find((s: any) => s.key === "dorm-1");
    const classes = body.series.find((s: any) => s.key === "class-1");
    // Only the root feeder counts for dorm-1 (its child breaker is inside it): 718 h × 2 kWh, no raw double count.
    expect(dorm.total_kwh).toBeCloseTo(2 * (30 * 24 - 2), 6);
    expect(dorm.name).toBe("Dormitory 1");
    expect(classes.total_kwh).toBeCloseTo(3.7, 6); // never negative across the reset
    expect(body.series.flatMap((s: any) => s.points.map((p: number[]) => p[1])).every((kwh: number) => kwh >= 0)).toBe(true);
    // 2 kWh every hour: after hours are every hour outside Mon–Fri 07–18 local, so a bit above half.
    expect(dorm.after_hours_share).toBeGreaterThan(0.5);
    expect(dorm.after_hours_share).toBeLessThan(0.8);
    expect(body.total_kwh).toBeCloseTo(dorm.total_kwh + classes.total_kwh, 6);
    // Without the after-hours split InfluxDB sums per day itself: the same kWh per day.
    const daily = await call(`/api/energy?by=building&every=1d&after_hours=false&from=${hourStart - DAYS_30 - 6 * HOUR}&to=${NOW}`);
    expect(daily.body.series.map((s: any) => s.points)).toEqual(body.series.map((s: any) => s.points));
    expect(daily.body.after_hours_share).toBeNull();
  });

  it("answers hourly points per room and per device, and refuses what it cannot answer", async () => {
    const rooms = await call(`/api/energy?by=room&every=1h&from=${hourStart - 5 * HOUR}&to=${NOW}`);
    expect(rooms.body.series.map((s: any) => s.key)).toEqual(["dorm-1/101"]);
    expect(rooms.body.series[0].points.length).toBe(3);
    const devices = await call(`/api/energy?by=device&every=1mo&building=class-1&from=${NOW - 2 * HOUR}&to=${NOW}`);
    expect(devices.body.series.map((s: any) => [s.key, s.total_kwh])).toEqual([["brk-c1-main", 3.7]]);
    expect((await call(`/api/energy?by=floor`)).body.error.code).toBe("VALIDATION_FAILED");
    expect((await call(`/api/energy?from=yesterday`)).status).toBe(400);
    expect((await call(`/api/energy?from=0&to=${NOW}`)).body.error.code).toBe("TOO_MANY_POINTS");
  });

  it("reads a 30-day hourly power history of a device from the rollup", async () => {
    const { body } = await call(`/api/devices/feeder-d1/readings?field=power_w&every=1h&agg=max&from=${hourStart - DAYS_30}&to=${NOW}`);
    expect(body.source).toBe("rollup_1h+raw");
    expect(body.points.length).toBe(30 * 24 - 2);
    expect(body.points.every((p: number[]) => p[1] === 2500)).toBe(true);
  });
});

describe("energy from the building rollup", () => {
  it("answers by building from the rollup the building CQ writes, with the same kWh as summing the devices", async () => {
    const query = `/api/energy?by=building&every=1d&from=${hourStart - DAYS_30 - 6 * HOUR}&to=${NOW}`;
    const summed = (await call(query)).body;
    // The CQ's SELECT … INTO over the whole range (a backfill), then an API that has not cached its absence.
    await influx.query(buildingRollupSelect(influx.config.db, campus, ` AND time >= ${hourStart - DAYS_30 - 6 * HOUR}ms AND time < ${hourStart}ms`));
    const app = buildApp({ campus, tokens: parseApiTokens(`viewer:${VIEWER}`), state: new LiveState(campus), influx, ack: async () => ({ ok: false, code: "X", message: "" }), probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent") });
    const res = await app.inject({ url: query, headers: { authorization: `Bearer ${VIEWER}` } });
    const rolled = res.json();
    await app.close();
    expect(rolled.source).toMatch(/^energy_building_[0-9a-f]{8}\+rollup_1h\+raw$/);
    expect(rolled.series).toEqual(summed.series);
    expect(rolled.total_kwh).toBe(summed.total_kwh);
  });
});

describe("alert history pages", () => {
  const MINUTE = 60_000;
  // Five alerts as the alerts service records them (one `alert` point per change, its series per device and
  // rule); two open at the same instant (the order then goes by the newest change, then the id).
  const startedAgo = { "hist-1": 50, "hist-2": 40, "hist-3": 30, "hist-4": 30, "hist-5": 10 } as const;
  const devices = { "hist-1": "feeder-d1", "hist-2": "brk-d1-main", "hist-3": "brk-d1-101", "hist-4": "brk-d1-102", "hist-5": "brk-c1-main" } as const;
  beforeAll(async () => {
    const point = (id: keyof typeof startedAgo, state: string, minutesAgo: number) => ({
      measurement: "alert",
      tags: { device: devices[id], building: campus.deviceById.get(devices[id])!.building, rule: "overload", severity: "major" },
      fields: { alert_id: id, state, message: `${id} ${state}`, value: 17, threshold: 16 },
      ts: NOW - minutesAgo * MINUTE,
    });
    await influx.write(toLines([
      ...Object.entries(startedAgo).map(([id, ago]) => point(id as keyof typeof startedAgo, "firing", ago)),
      point("hist-3", "acknowledged", 5),
      point("hist-1", "resolved", 45),
    ]));
  });

  it("splits state=all into pages newest first, each cursor leading to the next page, the last one without", async () => {
    const query = `/api/alerts?state=all&from=${NOW - 2 * HOUR}&to=${NOW}`;
    const all = (await call(query)).body as { id: string; state: string; started_at: string }[];
    // hist-3 and hist-4 opened together: hist-3's newer change (its acknowledgement) puts it first.
    expect(all.map((a) => [a.id, a.state])).toEqual([["hist-5", "firing"], ["hist-3", "acknowledged"], ["hist-4", "firing"], ["hist-2", "firing"], ["hist-1", "resolved"]]);
    expect(all.map((a) => a.started_at)).toEqual(["hist-5", "hist-3", "hist-4", "hist-2", "hist-1"].map((id) => new Date(NOW - startedAgo[id as keyof typeof startedAgo] * MINUTE).toISOString()));

    const pages: { items: { id: string }[]; next: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(`${query}&limit=2${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(page.status).toBe(200);
      pages.push(page.body);
      cursor = page.body.next;
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((p) => p.items.map((a) => a.id))).toEqual([["hist-5", "hist-3"], ["hist-4", "hist-2"], ["hist-1"]]);
    expect(pages.map((p) => p.next === null)).toEqual([false, false, true]);
    // A cursor names a position, not a page number: from hist-3's, a page of 3 is everything after it.
    const after = await call(`${query}&limit=3&cursor=${pages[0]!.next}`);
    expect(after.body.items.map((a: { id: string }) => a.id)).toEqual(["hist-4", "hist-2", "hist-1"]);
    expect(after.body.next).toBeNull();
    expect((await call(`${query}&limit=2&cursor=not-a-cursor`)).body.error.code).toBe("VALIDATION_FAILED");
  });
});

describe("silences, with the real alerts service", () => {
  it("are created, listed and ended by operators, and only listed for viewers", async () => {
    const endsAt = new Date(NOW + HOUR).toISOString();
    const create = { scope: { buildings: ["dorm-1"], rules: ["overload"] }, ends_at: endsAt, reason: "rewiring room 101" };
    expect((await call("/api/silences", VIEWER, { method: "POST", body: JSON.stringify(create) })).status).toBe(403);
    const created = await call("/api/silences", OPERATOR, { method: "POST", body: JSON.stringify(create) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scope: create.scope, reason: create.reason, source: "api", created_by: expect.stringMatching(/^operator:/) });
    const listed = await waitFor(async () => ((await call("/api/silences")).body as any[]).find((s) => s.id === created.body.id));
    expect(listed).toMatchObject({ id: created.body.id });
    const ended = await call(`/api/silences/${created.body.id}`, OPERATOR, { method: "DELETE" });
    expect(ended.status).toBe(200);
    expect(ended.body.ended_at).toEqual(expect.any(String));
    expect(await waitFor(async () => !((await call("/api/silences")).body as any[]).some((s) => s.id === created.body.id))).toBe(true);
  });

  it("answer 404 for an unknown silence and 400 for a bad one", async () => {
    expect((await call("/api/silences/no-such/end", OPERATOR, { method: "POST" })).body.error.code).toBe("SILENCE_NOT_FOUND");
    expect((await call("/api/silences", OPERATOR, { method: "POST", body: JSON.stringify({ scope: {}, ends_at: "soon", reason: "x" }) })).status).toBe(400);
    expect((await call("/api/silences", OPERATOR, { method: "POST", body: JSON.stringify({ scope: {}, ends_at: new Date(NOW - HOUR).toISOString(), reason: "x" }) })).status).toBe(400);
  });
});

describe("access", () => {
  const routes: [string, string, "viewer" | "operator"][] = [
    ["GET", "/api/ready", "viewer"], ["GET", "/api/me", "viewer"], ["GET", "/api/devices", "viewer"], ["GET", "/api/buildings", "viewer"],
    ["GET", "/api/devices/feeder-d1/readings", "viewer"], ["GET", "/api/energy", "viewer"], ["GET", "/api/alerts?state=all", "viewer"],
    ["GET", "/api/silences", "viewer"], ["GET", "/api/docs/json", "viewer"], ["POST", "/api/alerts/x/ack", "operator"],
    ["POST", "/api/silences", "operator"], ["DELETE", "/api/silences/x", "operator"], ["POST", "/api/silences/x/end", "operator"],
  ];

  it("asks every route for its role: 401 without a token, 403 below the role, JSON errors", async () => {
    for (const [method, path, role] of routes) {
      const init = { method, ...(method === "POST" ? { body: "{}" } : {}) };
      const anonymous = await call(path, null, init);
      expect([anonymous.status, anonymous.body.error?.code], path).toEqual([401, "UNAUTHORIZED"]);
      const viewer = await call(path, VIEWER, init);
      if (role === "operator") expect([viewer.status, viewer.body.error?.code], path).toEqual([403, "FORBIDDEN"]);
      else expect(viewer.status, path).toBe(200);
    }
  });

  it("answers 429 to an address after too many wrong tokens, valid tokens included, other addresses unaffected", async () => {
    const app = buildApp({
      campus, tokens: parseApiTokens(`viewer:${VIEWER}`), state: new LiveState(campus), influx, ack: async () => ({ ok: false, code: "X", message: "" }),
      probes: { mqtt: () => true, influxdb: () => true }, metrics: createRegistry(false), log: createLogger("silent"), authLimits: { maxFailures: 3 },
    });
    const get = (token: string, remoteAddress: string) => app.inject({ url: "/api/devices", headers: { authorization: `Bearer ${token}` }, remoteAddress });
    for (let i = 0; i < 3; i++) expect((await get("wrong-token-000000000000", "10.1.1.1")).statusCode).toBe(401);
    const limited = await get(VIEWER, "10.1.1.1");
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await get(VIEWER, "10.1.1.2")).statusCode).toBe(200);
    await app.close();
  });
});
