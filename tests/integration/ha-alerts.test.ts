// Alerts services with REDIS_URL (CONTRACT §12, issue 15): exactly one active, a standby taking over from a
// `kill -9` within 10 s with the open alerts, fencing of a frozen active that wakes up, and waiting for Redis.
// Real Redis (one per file), a real broker, real InfluxDB, real MQTT clients; the active that is killed or
// frozen runs in a child process (tests/helpers/ha-alerts-child.ts), the other in this one.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { createLease, FENCE_KEY, LEASE_KEY, parseLease } from "../../alerts/lease.js";
import { fencedSet } from "../../alerts/redis-store.js";
import { DEVICES_KEY, STATE_KEY } from "../../alerts/redis-state.js";
import { defaultRules } from "../../alerts/rules/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import type { Alert } from "../../domain/alert.js";
import { readEnv } from "../../domain/env.js";
import { internalTopic } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/test-campus.yaml");
const CHILD = fileURLToPath(new URL("../helpers/ha-alerts-child.ts", import.meta.url));
const PASSWORD = "service-password-for-tests";
const HOST = "127.0.0.1";
/** CONTRACT §12: a standby takes over within 10 s. */
const TAKEOVER_LIMIT_MS = 10_000;
/** Event time of the first reading: traffic "replayed" from ten minutes ago, sent fast. */
const base = Date.now() - 10 * 60_000;
/** As the child's: no wall-clock watchdog, so only the test's readings make alerts. */
const rules = () => defaultRules().filter((rule) => rule.id !== "offline" && rule.id !== "after-hours");

let dir: string;
let redisServer: LocalRedis;
let redis: Redis;
let influx: InfluxClient;
let broker: RunningBroker;
let ctx: ServiceContext;
let publisher: MqttClient;
let watcher: MqttClient;
/** Everything the watcher received, in order, with when. */
const seen: { topic: string; payload: string; at: number }[] = [];
const children: Child[] = [];
const local: InProcess[] = [];

interface LogLine {
  msg?: string;
  event?: string;
  alert?: Alert;
  [field: string]: unknown;
}

interface Child {
  process: ChildProcess;
  lines: LogLine[];
  exited: Promise<number | null>;
  waitForLog(test: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

/** An alerts service with the lease in a child process (kill -9 and SIGSTOP are real there). */
function spawnChild(instance: string): Child {
  const settings = {
    instance, redisUrl: redisServer.url, mqttUrl: ctx.env.mqttUrl, influxUrl: influxUrl(), influxDb: influx.config.db,
    dataDir: join(dir, instance), campusFile: FIXTURE, servicePassword: PASSWORD,
  };
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], { env: { PATH: process.env.PATH, HA_ALERTS_CHILD: JSON.stringify(settings) }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: LogLine[] = [];
  let rest = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split("\n");
    rest = parts.pop()!;
    for (const part of parts) if (part.trim() !== "") lines.push(JSON.parse(part) as LogLine);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const handle: Child = {
    process: child,
    lines,
    exited,
    async waitForLog(test, what, timeoutMs = 30_000) {
      const found = await waitFor(() => lines.find(test), timeoutMs);
      if (!found) throw new Error(`${instance}: no log line ${what} within ${timeoutMs} ms; stderr: ${stderr}\nlog: ${lines.map((l) => l.msg).join("\n")}`);
      return found;
    },
  };
  children.push(handle);
  return handle;
}

interface InProcess {
  alerts: RunningAlerts;
  lines: LogLine[];
  registry: Registry;
  deposed: () => number;
}

/** An alerts service with the lease in this process, with its own logs and metrics. */
async function inProcess(instance: string, options: { url?: string; leaseMs?: number } = {}): Promise<InProcess> {
  const lines: LogLine[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const registry = createRegistry(false);
  let deposed = 0;
  const alerts = await startAlerts({ ...ctx, log, metrics: registry }, {
    influx,
    rules: rules(),
    tickMs: 200,
    redis: { url: options.url ?? redisServer.url, instance, ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}), onDeposed: () => void deposed++ },
  });
  const running = { alerts, lines, registry, deposed: () => deposed };
  local.push(running);
  return running;
}

/** A series' value, e.g. `campus_power_alerts_opened_total{rule="overload"}` (0 when it has none yet). */
const metric = async (registry: Registry, series: string): Promise<number> => {
  const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(" ").pop()) : 0;
};

/** Readings of `device` every 5 s of event time, in one batch as the ingest streams them. */
async function readings(device: string, fromS: number, toS: number, currentA: number, qos: 0 | 1 = 1) {
  const batch = [];
  for (let t = fromS; t <= toS; t += 5) batch.push({ device, ts: base + t * 1000, values: { current_a: currentA } });
  await publisher.publishAsync(internalTopic.readingBatch("test-tool"), JSON.stringify(batch), { qos });
}

const published = (topic: string, since = 0) => seen.filter((m) => m.topic === topic && m.at >= since);
const alertsOn = (topic: string, since = 0) => published(topic, since).filter((m) => m.payload !== "").map((m) => JSON.parse(m.payload) as Alert);

let probes = 0;
/**
 * An ack request the active service answers (NOT_FOUND): resolves once an instance is connected, subscribed
 * and handling input. Asked again every 2 s: one sent before the very first subscription reaches nobody.
 */
async function probe(timeoutMs = 20_000): Promise<void> {
  const asked: string[] = [];
  const answered = () => asked.some((id) => published(internalTopic.ackResult(id)).length > 0);
  const deadline = Date.now() + timeoutMs;
  while (!answered() && Date.now() < deadline) {
    const requestId = `probe-${++probes}`;
    asked.push(requestId);
    await publisher.publishAsync("campus/internal/ack", JSON.stringify({ alert_id: "no-such-alert", by: "operator:test", request_id: requestId }), { qos: 1 });
    await waitFor(answered, 2_000);
  }
  if (!answered()) throw new Error(`no alerts service answered a probe within ${timeoutMs} ms`);
}

/** A marker through the broker after everything before it: the negative checks look only at what came before. */
async function marker(): Promise<void> {
  const topic = `campus/alerts/test-marker/${randomBytes(4).toString("hex")}`;
  await publisher.publishAsync(topic, "{}", { qos: 1 });
  await waitFor(() => published(topic).length > 0, 10_000, { what: "the marker" });
}

async function retained(topic: string, waitMs = 500): Promise<Alert | null> {
  const reader = await connectService(ctx.env.mqttUrl, PASSWORD, `reader-${randomBytes(4).toString("hex")}`);
  try {
    return await new Promise<Alert | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      reader.on("message", (t, payload, packet) => {
        if (t !== topic || !packet.retain || payload.length === 0) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()) as Alert);
      });
      reader.subscribe(topic, { qos: 1 });
    });
  } finally {
    await reader.endAsync();
  }
}

const lease = async () => parseLease(await redis.get(LEASE_KEY));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-power-ha-alerts-"));
  redisServer = await startLocalRedis({ dir: join(dir, "redis") });
  redis = connectRedis(redisServer.url, { name: "ha-alerts-test", log: createLogger("silent") });
  await untilReady(redis, redisServer.url, createLogger("silent"));
  influx = await freshDatabase("ha_alerts");
  const envFor = (port: number) => readEnv({
    DATA_DIR: dir, LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "group-key-for-tests-0123456789",
    INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: FIXTURE, MQTT_URL: `mqtt://${HOST}:${port}`,
  });
  ctx = { env: envFor(1883), campus: loadCampus(FIXTURE), log: createLogger("silent"), metrics: createRegistry(false) };
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: HOST });
  ctx = { ...ctx, env: envFor(broker.tcpPort) };
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
  watcher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-watcher");
  watcher.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString(), at: Date.now() }));
  await watcher.subscribeAsync({ "campus/alerts/#": { qos: 1 }, "campus/internal/#": { qos: 0 } });
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill("SIGKILL");
  await Promise.all(local.map((l) => l.alerts.stop()));
  await Promise.all([publisher?.endAsync(), watcher?.endAsync()]);
  await broker?.stop();
  redis?.disconnect();
  await redisServer?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("alerts services sharing one Redis", () => {

  let b: InProcess;
  let opened: Alert;

  it("keeps one active, and a standby takes over from a kill -9 within 10 s with the open alert, never opening it twice", async () => {
    const a = spawnChild("A");
    await a.waitForLog((l) => l.msg === "active: alerts service A holds the lease and starts", "A active");
    await probe(); // A connected and subscribed: the first session of the alerts client id starts here
    b = await inProcess("B");
    await waitFor(() => b.lines.some((l) => l.msg === "standby: alerts service A is active"), 20_000, { what: "B standing by for A" });
    expect(b.alerts.role()).toBe("standby");
    expect(await metric(b.registry, "campus_power_alerts_active")).toBe(0);
    const heldByA = await lease();
    expect(heldByA).toMatchObject({ instance: "A", token: expect.any(Number) });
    expect(Number.isNaN(Date.parse(heldByA!.since))).toBe(false);
    // A renews its lease on a Redis connection of its own, never queued behind the state's reads and saves.
    await waitFor(async () => /name=alerts-lease-A .*cmd=eval\b/.test(String(await redis.call("CLIENT", "LIST"))), 5_000, { what: "A renewing on its lease connection" });
    expect(String(await redis.call("CLIENT", "LIST"))).toMatch(/name=alerts-A /);

    await readings("brk-d1-101", 0, 75, 20);
    const topic = "campus/alerts/brk-d1-101/overload";
    await waitFor(() => alertsOn(topic).length > 0, 20_000, { what: "the overload alert from A" });
    opened = alertsOn(topic)[0]!;
    expect(opened).toMatchObject({ rule: "overload", device: "brk-d1-101", state: "firing", value: 20 });
    // A publishes an alert only once the state holding it is saved in Redis, so a kill -9 at once loses nothing
    // (before, saves came up to 250 ms after the publication, and a kill in between had B open it again).
    expect(await redis.hget(DEVICES_KEY, "brk-d1-101")).toContain(opened.id);

    const killedAt = Date.now();
    a.process.kill("SIGKILL");
    await a.exited;
    // B connects under the alerts client id and republishes the open alerts: that is B at work.
    await waitFor(() => alertsOn(topic, killedAt).length > 0, 20_000, { what: "B republishing the open alert" });
    const takeoverMs = Date.now() - killedAt;
    console.info(`alerts takeover after kill -9 of the active: ${takeoverMs} ms (lease TTL 5,000 ms)`);
    expect(takeoverMs).toBeLessThan(TAKEOVER_LIMIT_MS);
    expect(b.alerts.role()).toBe("active");
    expect(await metric(b.registry, "campus_power_alerts_active")).toBe(1);
    expect(await metric(b.registry, "campus_power_alerts_takeovers_total")).toBe(1);
    expect(await lease()).toMatchObject({ instance: "B", token: heldByA!.token + 1 });
    expect(alertsOn(topic, killedAt)[0]).toMatchObject({ id: opened.id, state: "firing" });
    expect(b.alerts.state().devices["brk-d1-101"]?.rules.overload?.alert?.id).toBe(opened.id);
    expect(await retained(topic)).toMatchObject({ id: opened.id });

    // The same breach goes on: B updates the alert it took over, it opens nothing.
    await readings("brk-d1-101", 80, 120, 21);
    await waitFor(() => alertsOn(topic).some((alert) => alert.value === 21), 20_000, { what: "B updating the alert" });
    expect(new Set(alertsOn(topic).map((alert) => alert.id))).toEqual(new Set([opened.id]));
    expect(await metric(b.registry, 'campus_power_alerts_opened_total{rule="overload"}')).toBe(0);

    // A breach that starts after the takeover alerts.
    await readings("brk-d1-102", 0, 75, 20);
    await waitFor(() => alertsOn("campus/alerts/brk-d1-102/overload").length > 0, 20_000, { what: "a new alert from B" });
    expect(alertsOn("campus/alerts/brk-d1-102/overload")[0]).toMatchObject({ device: "brk-d1-102", state: "firing" });
    expect(await metric(b.registry, 'campus_power_alerts_opened_total{rule="overload"}')).toBe(1);
    await waitFor(async () => rows(await influx.query(`SELECT * FROM "alert" WHERE "device" = 'brk-d1-102'`)).length > 0, 20_000, { what: "B's alert point" });
  }, 120_000);

  it("fences an active frozen past its lease: once woken it publishes and writes nothing, and stands down", async () => {
    // A2 waits while B is active; B's clean stop hands the lease over at once (no TTL to wait).
    const a2 = spawnChild("A2");
    await a2.waitForLog((l) => l.msg === "standby: alerts service B is active", "A2 standing by for B");
    const handoverAt = Date.now();
    await b.alerts.stop();
    await waitFor(async () => (await lease())?.instance === "A2", 10_000, { what: "A2 taking the lease B released" });
    await probe();
    console.info(`alerts handover on a clean stop of the active: ${Date.now() - handoverAt} ms`);
    const b2 = await inProcess("B2");
    await waitFor(() => b2.lines.some((l) => l.msg === "standby: alerts service A2 is active"), 20_000, { what: "B2 standing by for A2" });
    const tokenA2 = (await lease())!.token;

    a2.process.kill("SIGSTOP");
    try {
      // A breach only A2 will ever see: QoS 0 is not kept for the session, so the broker writes it to the
      // frozen A2's socket alone. Were A2 to act on it once awake, its engine would open an overload that
      // B2's never does: any message on that topic can only come from A2.
      const batchAt = Date.now();
      await readings("brk-c1-main", 0, 75, 40, 0);
      await waitFor(() => published(internalTopic.readingBatch("test-tool"), batchAt).length > 0, 10_000, { what: "the breach routed" });
      expect(b2.alerts.role()).toBe("standby"); // A2's connection was still the session's when the breach went out

      const frozenAt = Date.now();
      await waitFor(() => b2.alerts.role() === "active", 20_000, { what: "B2 taking over" });
      await probe(); // B2 is connected and answering (A2 is frozen)
      console.info(`alerts takeover from a frozen active: ${Date.now() - frozenAt} ms after the breach was routed`);
      expect(await lease()).toMatchObject({ instance: "B2", token: tokenA2 + 1 });
    } finally {
      a2.process.kill("SIGCONT");
    }
    const resumedAt = Date.now();
    expect(await a2.exited).toBe(3); // stood down and exited, as the CLI will, to be restarted as a standby
    const deposed = a2.lines.find((l) => l.msg?.startsWith("deposed:"));
    expect(deposed, "A2 says it stood down").toBeDefined();
    await marker();

    // On waking, A2's renewal timer finds its lease past the TTL by its own clock and stands down before it
    // reads the breach waiting in its socket; had it published anything (its engine would open this overload,
    // B2's never sees the breach), it would be on this topic or in InfluxDB.
    expect(published("campus/alerts/brk-c1-main/overload")).toEqual([]);
    expect(rows(await influx.query(`SELECT * FROM "alert" WHERE "device" = 'brk-c1-main'`))).toEqual([]);
    expect(b2.alerts.state().devices["brk-c1-main"]?.rules.overload?.alert).toBeUndefined();
    // Every alert message since A2 woke is B2's: it republishes the open ones it holds, with their ids.
    const b2Open = new Set(Object.values(b2.alerts.state().devices).flatMap((slot) => Object.values(slot.rules).flatMap((i) => (i.alert ? [i.alert.id] : []))));
    for (const m of seen.filter((x) => x.at >= resumedAt && x.topic.startsWith("campus/alerts/brk-") && x.payload !== "")) expect(b2Open.has((JSON.parse(m.payload) as Alert).id)).toBe(true);
    // B2 kept its connection (A2 did not reconnect and take the client id back) and the lease.
    await probe();
    expect(b2.alerts.role()).toBe("active");
    expect(await lease()).toMatchObject({ instance: "B2" });
    // A write of the state under A2's token is refused by the fence (layer a).
    expect(await fencedSet(redis, tokenA2, STATE_KEY, "{}")).toBe(false);
    expect(Number(await redis.get(FENCE_KEY))).toBe(tokenA2 + 1);
    await b2.alerts.stop();
  }, 120_000);

  it("refuses a save once another instance took the lease, and stands down on the refusal", async () => {
    // A long lease, so the refused save (250 ms after a change) comes long before the next renewal would notice.
    const c = await inProcess("C", { leaseMs: 600_000 });
    await waitFor(() => c.alerts.role() === "active", 20_000, { what: "C active" });
    await probe();
    // Another instance takes the lease behind C's back, as after a pause of C longer than its TTL.
    await redis.del(LEASE_KEY);
    const other = createLease(redis, "X", 60_000);
    const tokenX = await other.acquire(new Date());
    expect(tokenX).not.toBeNull();
    const before = { rest: await redis.get(STATE_KEY), devices: await redis.hgetall(DEVICES_KEY) };

    await readings("brk-d1-main", 0, 10, 5); // a change C saves
    await waitFor(() => c.alerts.role() === "deposed", 20_000, { what: "C standing down" });
    expect(await metric(c.registry, "campus_power_alerts_fenced_writes_refused_total")).toBeGreaterThanOrEqual(1);
    expect(await metric(c.registry, "campus_power_alerts_stand_downs_total")).toBe(1);
    expect(await metric(c.registry, "campus_power_alerts_active")).toBe(0);
    expect(c.deposed()).toBe(1);
    expect(c.lines.some((l) => l.msg === "save refused by the fence: another alerts instance took the lease")).toBe(true);
    expect({ rest: await redis.get(STATE_KEY), devices: await redis.hgetall(DEVICES_KEY) }).toEqual(before);
    await c.alerts.stop();
    expect(await lease()).toMatchObject({ instance: "X" }); // a deposed instance's stop does not delete another's lease
    await other.release(tokenX!);
  }, 60_000);

  it("waits as a standby while Redis is unreachable at start, and becomes active once it is there", async () => {
    const port = await freePort();
    const d = await inProcess("D", { url: `redis://127.0.0.1:${port}` });
    await waitFor(() => d.lines.some((l) => l.msg?.startsWith("standby: Redis") && l.msg.includes("unreachable")), 10_000, { what: "D saying it waits for Redis" });
    expect(d.alerts.role()).toBe("standby");
    expect(await metric(d.registry, "campus_power_alerts_active")).toBe(0);

    const late = await startLocalRedis({ dir: join(dir, "redis-late"), port });
    try {
      await waitFor(() => d.alerts.role() === "active", 30_000, { what: "D active once Redis is there" });
      await probe();
      expect(await metric(d.registry, "campus_power_alerts_active")).toBe(1);
      await d.alerts.stop();
      expect(d.alerts.role()).toBe("stopped");
    } finally {
      await late.stop();
    }
  }, 90_000);

  it("stands down when Redis stays away longer than the lease's TTL while it is active", async () => {
    const e = await inProcess("E");
    await waitFor(() => e.alerts.role() === "active", 20_000, { what: "E active" });
    await probe();
    const lostAt = Date.now();
    await redisServer.kill();
    try {
      await waitFor(() => e.alerts.role() === "deposed", 20_000, { what: "E standing down" });
      console.info(`alerts active stood down ${Date.now() - lostAt} ms after Redis went away (lease TTL 5,000 ms)`);
      // Not at the first failed renewal: only once the lease could have expired.
      expect(await metric(e.registry, "campus_power_alerts_lease_renewal_failures_total")).toBeGreaterThanOrEqual(2);
      expect(e.lines.find((l) => l.msg?.startsWith("deposed:"))?.reason).toContain("TTL");
      expect(e.deposed()).toBe(1);
      expect(await metric(e.registry, "campus_power_alerts_active")).toBe(0);
    } finally {
      await redisServer.restart();
      await untilReady(redis, redisServer.url, createLogger("silent"));
    }
    await e.alerts.stop();
  }, 60_000);
});
