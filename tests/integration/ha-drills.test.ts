// The failure drills of issue 15 (CONTRACT §12), as integration tests: two of every service as real processes
// on a real Redis (AOF, appendfsync always) and the real InfluxDB, 200 devices giving 500 readings/s over both
// brokers, and one `kill -9` at a time: (a) a broker node, (b) an ingest worker, (c) the active alerts service,
// (d) an API instance, (e) Redis restarted. After each, the killed process is started again, as its supervisor
// would. What must hold: every acknowledged reading stored (each reading has its own timestamp, so a reading
// stored twice would be one point: InfluxDB's writes are idempotent), devices connected again within 10 s, open
// alerts still open and never opened twice, a breach starting during the failover still alerts, the live stream
// served by the other API instance. How long each takeover took goes to test-artifacts/ha-drills.json.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_USERNAME } from "../../domain/campus.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { type Cluster, drillCampus, HA_ADMIN, HA_KEY, HA_PASSWORD, startCluster } from "../helpers/ha-cluster.js";
import { activeAlerts, type Drill, killActiveAlerts, liveClient, killApi, killBroker, killIngest, restartRedis, roleOf } from "../helpers/ha-drills.js";
import { DrillDevices } from "../helpers/ha-devices.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { connectRedis, type Redis } from "../../infra/redis.js";
import { createLogger } from "../../infra/logger.js";

const dir = mkdtempSync(join(tmpdir(), "campus-ha-drills-"));
const db = `ha_${randomBytes(3).toString("hex")}`;
const influx = new InfluxClient({ url: influxUrl(), db });
let cluster: Cluster;
let devices: DrillDevices;
let watcher: MqttClient;
let redis: Redis;
/** Every alert message seen on campus/alerts/#, in order. */
const alertMessages: { topic: string; id: string | null; at: number }[] = [];
const startedAt = Date.now();

const idsOf = (device: string, rule: string) => new Set(alertMessages.filter((m) => m.topic === `campus/alerts/${device}/${rule}` && m.id).map((m) => m.id));
const api = (side: "a" | "b", path: string) =>
  fetch(`http://127.0.0.1:${cluster.apiPorts[side]}${path}`, { headers: { authorization: `Bearer ${HA_ADMIN}` }, signal: AbortSignal.timeout(5_000) });
/** A drill whose kill starts a breach on `breached` (its temperature over the limit from then on). */
const drill = (breached?: string): Drill => ({ cluster, devices, redis, ...(breached ? { atKill: () => devices.set(breached, { temperature_c: 90 }) } : {}) });
/** Each drill's breach, begun at its kill: (a) brk-2, (b) brk-3, (c) brk-1, (d) brk-4, (e) brk-5. */
const BREACHED = ["brk-0", "brk-1", "brk-2", "brk-3", "brk-4", "brk-5"];
const report: Record<string, object> = {};

beforeAll(async () => {
  await influx.ensureDatabase();
  const campus = drillCampus(dir, 200);
  cluster = await startCluster({ influxUrl: influxUrl(), db, campusFile: campus.file, dir });
  redis = connectRedis(cluster.redis.url, { name: "drill-watcher", log: createLogger("silent") });
  const servers = Object.values(cluster.brokerPorts).map((port) => ({ host: "127.0.0.1", port, protocol: "mqtt" as const }));
  watcher = mqtt.connect({ servers, clientId: `drill-watcher-${randomBytes(3).toString("hex")}`, username: SERVICE_USERNAME, password: HA_PASSWORD, reconnectPeriod: 300 });
  watcher.on("message", (topic, payload) => alertMessages.push({ topic, id: payload.length ? (JSON.parse(payload.toString()) as { id: string }).id : null, at: Date.now() }));
  await new Promise((resolve) => watcher.once("connect", resolve));
  await watcher.subscribeAsync("campus/alerts/#", { qos: 1 });
  devices = new DrillDevices({ brokerPorts: Object.values(cluster.brokerPorts), devices: campus.devices, key: HA_KEY, rate: 2.5 });
  await devices.connect();
  devices.start();
  // Load first: a breach that is open through every drill.
  devices.set("brk-0", { temperature_c: 90 });
  await waitFor(() => idsOf("brk-0", "overtemperature").size === 1, 30_000, { what: "the first alert" });
}, 180_000);

afterAll(async () => {
  await devices?.stopPublishing(5_000);
  await devices?.end();
  await watcher?.endAsync(true);
  redis?.disconnect();
  await cluster?.stop();
  mkdirSync("test-artifacts", { recursive: true });
  writeFileSync("test-artifacts/ha-drills.json", `${JSON.stringify({ ...report, alertsMissedLiveByTheWatcher: missedLive }, null, 2)}\n`);
}, 60_000);

/** Alerts the watcher did not receive live, found retained (reported in test-artifacts/ha-drills.json). */
const missedLive: string[] = [];
/**
 * The last 60 lines the alerts processes printed, for a failing drill's message, without the offline alerts the
 * drills cause by the hundred (their ids are `<device>.offline.<opened>.<n>`; the lines carry no rule field).
 */
const alertsLogTail = () => cluster.logs("alerts").split("\n").filter((l) => !l.includes('.offline.')).slice(-60).join("\n");

/**
 * The alert retained on campus/alerts/{device}/{rule}, as a new subscriber (a dashboard opened now) gets it; added
 * to the messages seen. The watcher alone is not enough after a Redis restart: a message one broker node publishes
 * before another node's subscription to Redis is back reaches nobody on that node (docs/ha.md), and the watcher may
 * be there. Then whether it was seen live goes to the report.
 */
async function retainedAlert(device: string, rule: string): Promise<boolean> {
  const servers = Object.values(cluster.brokerPorts).map((port) => ({ host: "127.0.0.1", port, protocol: "mqtt" as const }));
  const fresh = mqtt.connect({ servers, clientId: `drill-fresh-${randomBytes(3).toString("hex")}`, username: SERVICE_USERNAME, password: HA_PASSWORD, reconnectPeriod: 0, connectTimeout: 3_000 });
  try {
    const retained = new Promise<Buffer>((resolve) => fresh.on("message", (_topic, payload, packet) => { if (packet.retain && payload.length) resolve(payload); }));
    await new Promise((resolve, reject) => (fresh.once("connect", resolve), fresh.once("error", reject)));
    await fresh.subscribeAsync(`campus/alerts/${device}/${rule}`, { qos: 1 });
    // The broker sends the retained message right after the SUBACK; a second after, there is none.
    const payload = await Promise.race([retained, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1_000))]);
    if (payload === null) return false;
    const id = (JSON.parse(payload.toString()) as { id: string }).id;
    if (!idsOf(device, rule).has(id)) {
      alertMessages.push({ topic: `campus/alerts/${device}/${rule}`, id, at: Date.now() });
      missedLive.push(`${device}/${rule}`);
    }
    return true;
  } catch {
    return false;
  } finally {
    fresh.end(true);
  }
}
/** Until alerts-a and alerts-b say on /metrics that one is active and the other a standby; then the active one's name. */
async function activeByMetrics(): Promise<string> {
  let said: unknown[] = [];
  const settled = await waitFor(async () => {
    said = await Promise.all([roleOf(cluster, "alerts-a"), roleOf(cluster, "alerts-b")]);
    return said.map((r) => (r as { role?: string } | null)?.role).sort().join() === "active,standby";
  }, 30_000, 200);
  expect(settled, `alerts-a and alerts-b said: ${JSON.stringify(said)}`).toBe(true);
  return (said as { role: string; instance: string }[]).find((r) => r.role === "active")!.instance;
}

/**
 * What must hold after every drill (issue 15 §3): the breach begun at the kill alerted (once: checked at the
 * end), every device connected, the alert open before the drills still open under its first id on both API
 * instances, and readings on both instances' live streams.
 */
async function stillServing(breached: string): Promise<void> {
  const alerted = await waitFor(async () => idsOf(breached, "overtemperature").size > 0 || (await retainedAlert(breached, "overtemperature")), 30_000, 500);
  if (!alerted) {
    const roles = await Promise.all([roleOf(cluster, "alerts-a"), roleOf(cluster, "alerts-b")]);
    throw new Error(`the alert of the breach on ${breached}, begun at the kill: not within 30 s; alerts-a and alerts-b say ${JSON.stringify(roles)}\n${alertsLogTail()}`);
  }
  await waitFor(() => devices.disconnected === 0, 10_000, { what: "every device connected" });
  const first = [...idsOf("brk-0", "overtemperature")];
  for (const side of ["a", "b"] as const) {
    let open: string[] = [];
    const kept = await waitFor(async () => {
      const answer = await api(side, "/api/alerts?state=open").catch(() => null);
      open = answer?.ok ? ((await answer.json()) as { id: string; device: string; rule: string }[]).filter((a) => a.device === "brk-0" && a.rule === "overtemperature").map((a) => a.id) : [];
      return open.join() === first.join();
    }, 30_000, 500);
    expect(kept, `api-${side}: brk-0's open overtemperature alerts ${JSON.stringify(open)}, first opened ${JSON.stringify(first)}`).toBe(true);
    const live = liveClient(cluster, side);
    await waitFor(() => live.readings.length > 0, 15_000, { what: `readings on api-${side}'s live stream` });
    live.socket.close();
  }
}

describe("failure drills: two of every service on Redis, 500 readings/s from 200 devices", () => {
  it("every process says on /metrics and /ready which role it holds", async () => {
    for (const side of ["a", "b"] as const) {
      expect(await roleOf(cluster, `broker-${side}`)).toEqual({ role: "node", instance: `broker-${side}`, ready: { status: 200, role: "node" } });
      expect(await roleOf(cluster, `ingest-${side}`)).toEqual({ role: "worker", instance: `ingest-${side}`, ready: { status: 200, role: "worker" } });
      const api = await (await fetch(`http://127.0.0.1:${cluster.apiPorts[side]}/metrics`)).text();
      expect(api).toMatch(new RegExp(`campus_power_api_instance_info\\{role="instance",name="api-${side}"\\} 1`));
    }
    // One alerts process is active, the other waits; /metrics names the one that holds the lease in Redis.
    expect(await activeByMetrics()).toBe((await activeAlerts(redis))?.instance);
  }, 60_000);

  it("(a) kill -9 of a broker node: its devices connect to the other within 10 s; a breach begun at the kill alerts, open alerts stay open", async () => {
    const result = (report.broker = await killBroker(drill("brk-2")));
    expect(result.slowestMs, cluster.logs().slice(-3_000)).toBeLessThanOrEqual(10_000);
    await stillServing("brk-2");
  }, 120_000);

  it("(b) kill -9 of an ingest worker: the other takes its partitions of the device stream; a breach begun at the kill alerts, open alerts stay open", async () => {
    const result = (report.ingest = await killIngest(drill("brk-3")));
    expect(result.recoveredMs).toBeLessThanOrEqual(10_000);
    await stillServing("brk-3");
  }, 120_000);

  it("(c) kill -9 of the active alerts service: the standby takes over within 10 s with the open alert, and a breach during the failover alerts", async () => {
    const result = (report.alerts = await killActiveAlerts(drill(), () => devices.set("brk-1", { temperature_c: 90 }), () => idsOf("brk-1", "overtemperature").size === 1).catch((error: Error) => {
      throw new Error(`${error.message}\n${alertsLogTail()}`);
    }));
    expect(result.takeoverMs).toBeLessThanOrEqual(10_000);
    // The survivor now says it is active, and the restarted process that it waits as a standby.
    expect(await activeByMetrics()).toBe((await activeAlerts(redis))?.instance);
    // The alert open before the kill is still open, under the same id: not opened a second time.
    const open = (await (await api("b", "/api/alerts?state=open")).json()) as { id: string; device: string; rule: string }[];
    const first = [...idsOf("brk-0", "overtemperature")];
    expect(first).toHaveLength(1);
    expect(open.filter((a) => a.device === "brk-0" && a.rule === "overtemperature").map((a) => a.id)).toEqual(first);
    await stillServing("brk-1");
  }, 120_000);

  it("(d) kill -9 of an API instance: the live stream resumes on the other, with the same answers; a breach begun at the kill alerts, open alerts stay open", async () => {
    const result = (report.api = await killApi(drill("brk-4")));
    expect(result.recoveredMs).toBeLessThanOrEqual(10_000);
    await waitFor(async () => (await api("a", "/api/health").catch(() => null))?.ok, 30_000, { what: "api-a back" });
    // The restarted instance builds its live view from the retained alerts and the stream: the two answers are
    // compared until they agree (alerts may open or resolve meanwhile), and shown if they never do.
    const ids = async (side: "a" | "b") => ((await (await api(side, "/api/alerts?state=open")).json()) as { id: string }[]).map((x) => x.id).sort().join(" ");
    let answers: string[] = [];
    const same = await waitFor(async () => ((answers = await Promise.all([ids("a"), ids("b")])), answers[0] === answers[1]), 15_000, 500);
    expect(same, `open alerts on api-a: ${answers[0]}\non api-b: ${answers[1]}`).toBe(true);
    await stillServing("brk-4");
  }, 120_000);

  it("(e) Redis restarted: no device is acknowledged while it is away, and all are again within 10 s; a breach begun at the kill alerts, open alerts stay open", async () => {
    const result = (report.redis = await restartRedis(drill("brk-5")));
    expect(result.ackedWhileDown).toBe(0);
    expect(result.slowestMs).toBeLessThanOrEqual(10_000);
    await stillServing("brk-5");
  }, 120_000);

  it("stored every acknowledged reading, and opened no alert twice", async () => {
    await devices.stopPublishing(60_000);
    expect(devices.inFlight).toBe(0);
    const stored = async () => {
      const result = rows(await influx.query(`SELECT count(current_a) FROM electrical WHERE time >= ${startedAt - 60_000}ms GROUP BY device`).catch(() => []));
      return new Map(result.map((r) => [String(r.device), Number(r.count)]));
    };
    const expected = new Map([...devices.acked].map(([id, set]) => [id, set.size]));
    const same = async () => { const now = await stored(); return [...expected].every(([id, n]) => now.get(id) === n); };
    await waitFor(same, 90_000, 500);
    const now = await stored();
    const short = [...expected].filter(([id, n]) => now.get(id) !== n).map(([id, n]) => `${id}: ${now.get(id) ?? 0} of ${n}`);
    expect(short, cluster.logs().slice(-4_000)).toEqual([]);
    // Every breach, the one open through all the drills and each begun at a kill, alerted exactly once.
    expect(Object.fromEntries(BREACHED.map((device) => [device, idsOf(device, "overtemperature").size]))).toEqual(Object.fromEntries(BREACHED.map((device) => [device, 1])));
  }, 180_000);
});
