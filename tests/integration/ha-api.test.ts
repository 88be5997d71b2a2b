// CONTRACT §12, API side: two API instances (startApi twice in this process, each with its own registry, ctx,
// DATA_DIR and port) on one real Redis (infra/local-redis.ts), the real broker and the real InfluxDB answer
// alike: a person signed in on one is signed in on the other, a logout on one ends the session on both, failed
// authentications are counted once for both, and /api/ready and /metrics say each instance's role, the active
// alerts service, and that Redis is away (503) for as long as it is.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startApi, type RunningApi } from "../../api/index.js";
import { SESSION_KEY_PREFIX } from "../../api/ha/redis-sessions.js";
import { ALERTS_LEASE_KEY } from "../../api/ha/instance.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { hashPassword, SALT_BYTES } from "../../domain/accounts.js";
import { sha256Hex } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";
import type { ServiceContext } from "../../infra/service.js";
import { updateUsersFile } from "../../infra/users-file.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const VIEWER = "viewer-token-abcdef012345";
const SERVICE_PASSWORD = "service-password-0123456789";
const PASSWORD = "correct horse battery staple";
/** Failed authentications per address and window on each instance (the default 20 would make the test long). */
const MAX_FAILURES = 6;

const dir = mkdtempSync(join(tmpdir(), "campus-ha-api-"));
const usersFile = join(dir, "users.json");
const campus = loadCampus("tests/fixtures/test-campus.yaml");
const log = createLogger("silent");
let redis: LocalRedis;
let client: Redis;
let influx: InfluxClient;
let broker: RunningBroker;
const apis: RunningApi[] = [];

function contextOf(name: string): ServiceContext {
  const env = readEnv({
    API_TOKENS: `viewer:${VIEWER}`,
    SERVICE_PASSWORD,
    DEVICE_GROUP_KEY: "device-group-key-0123456789",
    HTTP_PORT: "0",
    INFLUX_URL: influxUrl(),
    INFLUX_DB: influx.config.db,
    LOG_LEVEL: "silent",
    // Each instance its own DATA_DIR: nothing may be shared through it. The users file is the deployment's.
    DATA_DIR: join(dir, name),
    USERS_FILE: usersFile,
    MQTT_URL: `mqtt://127.0.0.1:${broker.tcpPort}`,
  });
  return { env, campus, log, metrics: createRegistry(false) };
}

const startInstance = (name: string) =>
  startApi(contextOf(name), { influx, host: "127.0.0.1", redis: { url: redis.url, instance: name }, authLimits: { maxFailures: MAX_FAILURES, windowMs: 60_000 } });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
  text: string;
}

/** A request from a loopback address of our choice (the limiter counts per address). */
function call(api: RunningApi, method: string, path: string, options: { token?: string; body?: unknown; from?: string } = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(payload ? { "content-type": "application/json" } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: api.port, method, path, headers, localAddress: options.from ?? "127.0.0.1" }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text, json: text && res.headers["content-type"]?.includes("json") ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

async function signIn(api: RunningApi): Promise<string> {
  const answer = await call(api, "POST", "/api/login", { body: { username: "wang.li", password: PASSWORD } });
  expect(answer.status, answer.text).toBe(200);
  return answer.json.token as string;
}
const me = (api: RunningApi, token: string) => call(api, "GET", "/api/me", { token });
const ready = (api: RunningApi) => call(api, "GET", "/api/ready", { token: VIEWER });

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, "redis") });
  client = connectRedis(redis.url, { name: "ha-api-test", log, maxBackoffMs: 200 });
  await untilReady(client, redis.url, log);
  influx = await freshDatabase("ha_api");
  // 2^14 scrypt: about 40 ms a sign-in here instead of the default's 0.6 s.
  const password_hash = await hashPassword(PASSWORD, randomBytes(SALT_BYTES), { logN: 14, r: 8, p: 1 });
  const at = new Date().toISOString();
  await updateUsersFile(usersFile, () => ({ version: 1, users: [{ name: "wang.li", role: "operator", sites: null, password_hash, created_at: at, password_changed_at: at }] }));
  const env = readEnv({ SERVICE_PASSWORD, DEVICE_GROUP_KEY: "device-group-key-0123456789", API_TOKENS: `viewer:${VIEWER}`, LOG_LEVEL: "silent" });
  broker = await startBroker({ env, campus, log, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1" });
  apis.push(await startInstance("api-1"), await startInstance("api-2"));
  for (const api of apis) await waitFor(async () => (await ready(api)).status === 200, 20_000, { what: "the instance is ready" });
}, 60_000);

afterAll(async () => {
  for (const api of apis) await api.stop();
  client?.disconnect();
  await broker?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("two API instances on one Redis", () => {
  it("share sign-in sessions: signed in on one, signed in on the other; a logout on either ends it on both", async () => {
    const [one, two] = [apis[0]!, apis[1]!];
    const token = await signIn(one);
    expect(await me(two, token)).toMatchObject({ status: 200, json: { name: "wang.li", role: "operator", sites: null } });
    expect((await me(one, token)).status).toBe(200);
    // In Redis: the token's SHA-256 as the key, never the token; it expires with the session (12 h, sliding).
    const keys = await client.keys(`${SESSION_KEY_PREFIX}*`);
    expect(keys).toContain(`${SESSION_KEY_PREFIX}${sha256Hex(token)}`);
    const stored = await client.get(`${SESSION_KEY_PREFIX}${sha256Hex(token)}`);
    expect(stored).not.toContain(token);
    expect(await client.pttl(`${SESSION_KEY_PREFIX}${sha256Hex(token)}`)).toBeGreaterThan(11 * 3_600_000);
    // Nothing in either instance's DATA_DIR: the file store is single-process mode's.
    expect(existsSync(join(dir, "api-1", "sessions.json")) || existsSync(join(dir, "api-2", "sessions.json"))).toBe(false);

    expect((await call(two, "POST", "/api/logout", { token })).status).toBe(204);
    expect((await me(one, token)).status).toBe(401);
    expect((await me(two, token)).status).toBe(401);
    expect(await client.exists(`${SESSION_KEY_PREFIX}${sha256Hex(token)}`)).toBe(0);
  });

  it("open the live stream with a session signed in on the other instance", async () => {
    const token = await signIn(apis[0]!);
    const socket = new WebSocket(`${apis[1]!.url.replace("http", "ws")}/api/live`, { headers: { authorization: `Bearer ${token}` } });
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      socket.once("message", (data) => resolve(JSON.parse(data.toString()) as { type: string }));
      socket.once("close", (code) => reject(new Error(`closed with ${code}`)));
      socket.once("error", reject);
    });
    socket.close();
    expect(first.type).toBe("snapshot");
  });

  it("say their role and name in /api/ready, and which alerts service holds the lease", async () => {
    await client.del(ALERTS_LEASE_KEY);
    for (const [i, api] of apis.entries()) {
      const answer = await ready(api);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ status: "ready", checks: { mqtt: true, influxdb: true, redis: true }, role: "instance", instance: `api-${i + 1}`, alerts: { active: null } });
      expect(answer.headers["x-alerts-instance"]).toBe("none");
    }
    const since = Date.now();
    await client.set(ALERTS_LEASE_KEY, JSON.stringify({ instance: "alerts-b", token: 7, since }), "PX", 60_000);
    for (const api of apis) {
      const answer = await ready(api);
      expect(answer.json).toMatchObject({ status: "ready", role: "instance", alerts: { active: "alerts-b", since } });
      expect(answer.json.alerts.token).toBeUndefined();
      expect(answer.headers["x-alerts-instance"]).toBe("alerts-b");
    }
    await client.del(ALERTS_LEASE_KEY);
  });

  it("say their role in /metrics, and whether Redis is up", async () => {
    for (const [i, api] of apis.entries()) {
      const text = (await call(api, "GET", "/metrics")).text;
      expect(text).toContain(`campus_power_api_instance_info{role="instance",name="api-${i + 1}"} 1`);
      expect(text).toMatch(/^campus_power_redis_up 1$/m);
    }
  });

  it("answer 503 naming Redis while it is away (at start too), keep known sessions, and are ready again once it is back", async () => {
    const token = await signIn(apis[0]!);
    // A sign-in reaches the other instance through Redis a moment later: known everywhere before Redis goes.
    for (const api of apis) await waitFor(async () => (await me(api, token)).status === 200, 5_000, { what: "the session known on every instance" });
    await redis.stop();
    for (const api of apis) {
      const answer = await waitFor(async () => ((await ready(api)).status === 503 ? ready(api) : null), 20_000, { what: "503 while Redis is away" });
      expect(answer!.json).toMatchObject({ status: "not_ready", checks: { mqtt: true, influxdb: true, redis: false }, role: "instance", error: { code: "NOT_READY", message: "not reachable: redis" } });
      expect(answer!.json.alerts).toBeUndefined();
      expect(answer!.headers["x-alerts-instance"]).toBe("unknown");
      expect((await call(api, "GET", "/metrics")).text).toMatch(/^campus_power_redis_up 0$/m);
      // A session known before goes on (a Redis restart does not sign the district out); a new one cannot begin.
      expect((await me(api, token)).status).toBe(200);
      const refused = await call(api, "POST", "/api/login", { body: { username: "wang.li", password: PASSWORD } });
      expect([refused.status, refused.json.error.code]).toEqual([503, "NOT_READY"]);
    }
    // An instance started while Redis is away waits, saying so on /api/ready.
    const late = await startInstance("api-3");
    try {
      expect(await ready(late)).toMatchObject({ status: 503, json: { checks: { redis: false }, instance: "api-3", error: { message: "not reachable: redis" } } });
      await redis.restart();
      for (const api of [...apis, late]) {
        const answer = await waitFor(async () => ((await ready(api)).status === 200 ? ready(api) : null), 20_000, { what: "ready once Redis is back" });
        expect(answer!.json.checks).toEqual({ mqtt: true, influxdb: true, redis: true });
      }
      // The late instance read the sessions from Redis (kept on disk through the restart: AOF).
      expect((await me(late, token)).status).toBe(200);
      const after = await signIn(apis[1]!);
      expect((await me(late, after)).status).toBe(200);
      expect((await me(apis[0]!, after)).status).toBe(200);
    } finally {
      await late.stop();
    }
  });

  it("count failed authentications once for both: an address alternating between them gets about one allowance, not two", async () => {
    const from = "127.0.0.2"; // its own address: the tests above failed from 127.0.0.1
    const failures = async () => Number(await client.get(`campus:auth-failures:address:${from}`));
    const statuses: number[] = [];
    for (let i = 0; i < 2 * MAX_FAILURES; i++) {
      statuses.push((await call(apis[i % 2]!, "GET", "/api/me", { token: `wrong-${i}`, from })).status);
      // Redis answers a write after its fsync (appendfsync always): the next attempt waits until the count is there.
      if (statuses.at(-1) === 401) await waitFor(async () => (await failures()) >= i + 1, 5_000, { what: `failure ${i + 1} counted in Redis` });
    }
    // Alone, each instance would answer 401 MAX_FAILURES times (2 × MAX_FAILURES in all). Shared, the failure that
    // reaches the limit blocks its instance, and the other blocks at its next failure, which it still answers 401.
    expect(statuses.filter((status) => status === 401)).toHaveLength(MAX_FAILURES + 1);
    expect(statuses.slice(MAX_FAILURES + 1).every((status) => status === 429)).toBe(true);
    for (const api of apis) {
      const answer = await waitFor(async () => ((await call(api, "GET", "/api/me", { token: VIEWER, from })).status === 429 ? true : null), 5_000, { what: "429 on every instance" });
      expect(answer).toBe(true);
    }
    expect(await failures()).toBe(MAX_FAILURES + 1);
  });
});
