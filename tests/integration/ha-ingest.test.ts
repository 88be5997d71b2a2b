// Ingest workers sharing the partitioned device stream (CONTRACT §12; ingest/redis-source.ts, ingest/partitions.ts): a real redis-server with
// AOF (appendfsync always), the shared real influxd (a fresh database per test), a real broker for the
// workers' MQTT side (the normalised stream, the health topic), and entries appended as broker nodes append
// them (`appendDeviceMessage`). Every assertion on storage is an exact count of points in InfluxDB.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { INGEST_GROUP, PARTITIONS, PARTITION_KEYS, PAYLOAD_FIELD, TOPIC_FIELD, appendDeviceMessage, partitionKey, partitionOf } from "../../infra/device-stream.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { connectService } from "../../infra/mqtt.js";
import { type Redis, connectRedis, untilReady } from "../../infra/redis.js";
import type { ServiceContext } from "../../infra/service.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { WORKERS_KEY, partitionLeaseKey } from "../../ingest/partitions.js";
import { ensureGroup, parseConsumers } from "../../ingest/stream-group.js";
import { freshDatabase } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const SERVICE_PASSWORD = "ha-ingest-service-password";
const DEVICES = Array.from({ length: 20 }, (_, i) => `meter-${String(i + 1).padStart(2, "0")}`);
const LEASE_MS = 3_000;
const CLAIM_IDLE_MS = 2_000;
const FAST_RETRY = { baseMs: 50, capMs: 500 };
const silent = createLogger("silent");

let dir: string;
let campusFile: string;
let redisServer: LocalRedis;
let redis: Redis;
let broker: RunningBroker;
const workers: RunningIngest[] = [];
const children: ChildProcess[] = [];
const mqttClients: MqttClient[] = [];

function context(dataDir: string, db: string, metrics: Registry = createRegistry(false)): ServiceContext {
  const env = readEnv({
    DATA_DIR: dataDir,
    DEVICE_GROUP_KEY: "ha-ingest-group-key-0123456789",
    SERVICE_PASSWORD,
    INFLUX_DB: db,
    MQTT_URL: `mqtt://127.0.0.1:${broker?.tcpPort ?? 1883}`,
    LOG_LEVEL: "silent",
  });
  return { env, campus: loadCampus(campusFile), log: silent, metrics };
}

interface Worker {
  ingest: RunningIngest;
  metrics: Registry;
}

async function startWorker(name: string, influx: InfluxClient, dataDir: string, forgetConsumerAfterMs = 3_600_000): Promise<Worker> {
  const metrics = createRegistry(false);
  const ingest = await startIngest(context(dataDir, influx.config.db, metrics), {
    influx,
    clientId: name,
    retry: FAST_RETRY,
    redis: { url: redisServer.url, claimIdleMs: CLAIM_IDLE_MS, upkeepEveryMs: 500, forgetConsumerAfterMs, leaseMs: LEASE_MS, renewEveryMs: 500 },
  });
  workers.push(ingest);
  return { ingest, metrics };
}

/** A worker in a process of its own (tests/integration/ha-ingest-worker.ts), to be killed with SIGKILL. */
async function startChildWorker(name: string, influx: InfluxClient, dataDir: string): Promise<ChildProcess> {
  const settings = {
    campus: campusFile, dataDir, influxUrl: influx.config.url, db: influx.config.db, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}`,
    redisUrl: redisServer.url, servicePassword: SERVICE_PASSWORD, clientId: name, claimIdleMs: CLAIM_IDLE_MS, leaseMs: LEASE_MS,
  };
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "ha-ingest-worker.ts")], {
    env: { PATH: process.env.PATH, HA_WORKER: JSON.stringify(settings) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${output}`);
    return output.includes("worker ready");
  }, 60_000, { what: `worker ${name} ready` });
  return child;
}

const T0 = Date.now() - 3_600_000;
/** Reading `i` of a device: its own timestamp (100 ms apart), so each reading is one point of its own. */
const telemetry = (device: string, i: number) => ({ topic: `campus/devices/${device}/telemetry`, payload: Buffer.from(JSON.stringify({ ts: T0 + i * 100, power_w: i })) });

/** Appends readings `from`…`from + perDevice - 1` of every device, interleaved, 100 XADDs in flight at a time. */
async function appendReadings(from: number, perDevice: number): Promise<number> {
  let pending: Promise<string>[] = [];
  for (let i = from; i < from + perDevice; i++) {
    for (const device of DEVICES) {
      const { topic, payload } = telemetry(device, i);
      pending.push(appendDeviceMessage(redis, device, topic, payload));
      if (pending.length >= 100) await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  pending = [];
  return perDevice * DEVICES.length;
}

const countStored = async (influx: InfluxClient) =>
  Number(rows(await influx.query(`SELECT count(power_w) FROM electrical WHERE "phase" = ''`).catch(() => []))[0]?.count ?? 0);

/** Waits until exactly `expected` readings are stored, then checks that no more arrive once every worker is idle. */
async function expectStored(influx: InfluxClient, expected: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await countStored(influx)) >= expected, timeoutMs, { intervalMs: 250, what: `${expected} readings stored` });
  await Promise.all(workers.map((w) => w.flush()));
  expect(await countStored(influx)).toBe(expected);
}

const sumOverPartitions = async (count: (key: string) => Promise<number>) => (await Promise.all(PARTITION_KEYS.map(count))).reduce((a, b) => a + b, 0);
const pendingInGroup = () => sumOverPartitions(async (key) => Number(((await redis.xpending(key, INGEST_GROUP)) as [number])[0]));
const consumersOf = async (key: string) => parseConsumers(await redis.xinfo("CONSUMERS", key, INGEST_GROUP).catch(() => []));
const pendingOf = (consumer: string) => sumOverPartitions(async (key) => (await consumersOf(key)).find((c) => c.name === consumer)?.pending ?? 0);
const streamLength = () => sumOverPartitions((key) => redis.xlen(key));
/** Who holds each partition's lease (null: nobody). */
const holders = async () => redis.mget(...Array.from({ length: PARTITIONS }, (_, k) => partitionLeaseKey(k)));
const heldBy = async (worker: string) => (await holders()).filter((h) => h === worker).length;

async function metricSum(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  return metric ? (await metric.get()).values.reduce((sum, v) => sum + v.value, 0) : 0;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-ha-ingest-"));
  campusFile = join(dir, "campus.yaml");
  writeFileSync(
    campusFile,
    [
      "site: { id: ha-school, name: HA School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }",
      "buildings:",
      "  - { id: block-1, name: Block 1, kind: classroom }",
      "devices:",
      ...DEVICES.map((id) => `  - { id: ${id}, kind: meter, building: block-1 }`),
      "",
    ].join("\n"),
  );
  redisServer = await startLocalRedis({ dir: join(dir, "redis") });
  redis = connectRedis(redisServer.url, { name: "ha-ingest-test", log: silent, maxBackoffMs: 200 });
  await untilReady(redis, redisServer.url, silent);
  broker = await startBroker(context(join(dir, "broker"), "unused"), { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
}, 60_000);

beforeEach(async () => {
  await redis.del(...PARTITION_KEYS, WORKERS_KEY, ...Array.from({ length: PARTITIONS }, (_, k) => partitionLeaseKey(k)));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(mqttClients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  redis?.disconnect();
  await broker?.stop();
  await redisServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("ingest workers on the device stream", () => {
  it("stores every reading once when two workers share 2,000 entries, publishes them all, and trims the stream", async () => {
    const influx = await freshDatabase("ha_share");
    const observer = await connectService(`mqtt://127.0.0.1:${broker.tcpPort}`, SERVICE_PASSWORD, "ha-observer");
    mqttClients.push(observer);
    let published = 0;
    observer.on("message", (topic, payload) => {
      if (topic.startsWith("campus/internal/readings-batch/")) published += (JSON.parse(payload.toString()) as unknown[]).length;
    });
    await observer.subscribeAsync("campus/internal/readings-batch/+", { qos: 1 });
    const a = await startWorker("ingest-a", influx, join(dir, "share"));
    const b = await startWorker("ingest-b", influx, join(dir, "share"));
    await untilShared(["ingest-a", "ingest-b"]);

    let appended = 0;
    for (let burst = 0; burst < 10; burst++) appended += await appendReadings(burst * 10, 10);
    expect(appended).toBe(2_000);

    await expectStored(influx, 2_000);
    const readA = await metricSum(a.metrics, "campus_power_ingest_stream_entries_read_total");
    const readB = await metricSum(b.metrics, "campus_power_ingest_stream_entries_read_total");
    expect(readA, "worker a took part").toBeGreaterThan(0);
    expect(readB, "worker b took part").toBeGreaterThan(0);
    expect(readA + readB).toBe(2_000); // nobody died: each entry was handed to exactly one worker
    const received = (await metricSum(a.metrics, "campus_power_ingest_readings_received_total")) + (await metricSum(b.metrics, "campus_power_ingest_readings_received_total"));
    expect(received).toBe(2_000);
    await waitFor(() => published >= 2_000, 20_000, { what: "the normalised stream carried every reading" });
    expect(published).toBe(2_000);

    await waitFor(async () => (await pendingInGroup()) === 0, 20_000, { what: "nothing pending" });
    const acked = (await metricSum(a.metrics, "campus_power_ingest_stream_entries_acknowledged_total")) + (await metricSum(b.metrics, "campus_power_ingest_stream_entries_acknowledged_total"));
    expect(acked).toBe(2_000);
    // Trimmed to the last entry delivered (MINID keeps it): everything else was acknowledged.
    // Per partition (each keeps its last delivered entry): at most one entry per partition left.
    await waitFor(async () => (await streamLength()) <= PARTITIONS, 20_000, { what: "stream trimmed" });
    const trimmed = (await metricSum(a.metrics, "campus_power_ingest_stream_entries_trimmed_total")) + (await metricSum(b.metrics, "campus_power_ingest_stream_entries_trimmed_total"));
    expect(trimmed).toBeGreaterThanOrEqual(2_000 - PARTITIONS);

    // A stop ends the blocked read (≤ 1 s) and closes Redis within the ingest's 5 s budget.
    const stopping = Date.now();
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    expect(Date.now() - stopping).toBeLessThan(5_000);
  }, 120_000);

  it("claims at once, on taking the partitions over, what a worker that died left pending, and forgets that worker", async () => {
    const influx = await freshDatabase("ha_claim");
    for (const key of PARTITION_KEYS) await ensureGroup(redis, key);
    let appended = await appendReadings(0, 30);
    // A worker that read all 600 entries and died before acknowledging any (its leases long expired).
    const dead = connectRedis(redisServer.url, { name: "ingest-dead", log: silent });
    await untilReady(dead, redisServer.url, silent);
    const taken = (await dead.xreadgroup("GROUP", INGEST_GROUP, "ingest-dead", "COUNT", 600, "STREAMS", ...PARTITION_KEYS, ...PARTITION_KEYS.map(() => ">"))) as [string, unknown[]][];
    expect(taken.reduce((sum, [, entries]) => sum + entries.length, 0)).toBe(600);
    dead.disconnect();

    const b = await startWorker("ingest-b", influx, join(dir, "claim"), 3_000);
    appended += await appendReadings(30, 20);
    await expectStored(influx, appended);
    expect(await metricSum(b.metrics, "campus_power_ingest_stream_entries_claimed_total")).toBe(600);
    expect(await heldBy("ingest-b")).toBe(PARTITIONS); // alone: it holds every partition
    await waitFor(async () => (await pendingInGroup()) === 0, 20_000, { what: "nothing pending" });
    // Idle 3 s with nothing pending (its entries now belong to ingest-b): removed from every group.
    const dying = async () => sumOverPartitions(async (key) => ((await consumersOf(key)).some((c) => c.name === "ingest-dead") ? 1 : 0));
    await waitFor(async () => (await dying()) === 0, 20_000, { what: "dead consumer forgotten" });
  }, 120_000);

  it("stores every reading once a worker killed with SIGKILL while holding entries is taken over and restarted", async () => {
    const influx = await freshDatabase("ha_kill");
    const dataDir = join(dir, "kill");
    const child = await startChildWorker("ingest-a", influx, dataDir);
    const b = await startWorker("ingest-b", influx, dataDir);
    let appended = 0;
    // Freeze the worker right after a burst; kill it once it is caught holding entries it has not acknowledged.
    let held = 0;
    for (let burst = 0; burst < 60 && held === 0; burst++) {
      appended += await appendReadings(burst * 5, 5);
      child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 20)); // commands already on the wire reach Redis
      held = await pendingOf("ingest-a");
      if (held > 0) child.kill("SIGKILL");
      else child.kill("SIGCONT");
    }
    expect(held, "the worker was caught holding unacknowledged entries").toBeGreaterThan(0);
    await waitFor(() => child.signalCode === "SIGKILL", 10_000, { what: "worker killed" });
    expect(await pendingOf("ingest-a")).toBe(held);
    appended += await appendReadings(300, 10);

    await waitFor(async () => (await pendingOf("ingest-a")) === 0, 30_000, { what: "the dead worker's entries claimed" });
    expect(await metricSum(b.metrics, "campus_power_ingest_stream_entries_claimed_total")).toBeGreaterThanOrEqual(held);
    // What the killed worker had acknowledged is in its spool: its restart (same id, same folder) drains it.
    await startWorker("ingest-a", influx, dataDir);
    await expectStored(influx, appended);
    await waitFor(async () => (await pendingInGroup()) === 0, 20_000, { what: "nothing pending" });
  }, 180_000);

  it("resumes after Redis is killed and restarted mid-stream, and stores every reading", async () => {
    const influx = await freshDatabase("ha_redis");
    const dataDir = join(dir, "restart");
    const started = [await startWorker("ingest-a", influx, dataDir), await startWorker("ingest-b", influx, dataDir)];
    const total = async (name: string) => (await metricSum(started[0]!.metrics, name)) + (await metricSum(started[1]!.metrics, name));
    // Handed = read + claimed (a partition taken over after Redis came back is claimed first); each handed entry is acknowledged once by whoever handed it.
    const notAcknowledged = async () =>
      (await total("campus_power_ingest_stream_entries_read_total")) + (await total("campus_power_ingest_stream_entries_claimed_total")) - (await total("campus_power_ingest_stream_entries_acknowledged_total"));
    // A crash (SIGKILL) as soon as the workers are caught with entries read and not yet acknowledged. With
    // appendfsync always, every XADD that answered and every XACK Redis answered are in the append-only file.
    let appended = 0;
    let inFlight = 0;
    for (let burst = 0; burst < 50 && inFlight === 0; burst++) {
      appended += await appendReadings(burst, 1);
      inFlight = await notAcknowledged();
      if (inFlight > 0) await redisServer.kill();
    }
    expect(inFlight, "Redis went away while entries were not yet acknowledged").toBeGreaterThan(0);
    await redisServer.restart();
    await untilReady(redis, redisServer.url, silent);
    appended += await appendReadings(50, 25);
    await expectStored(influx, appended);
    await waitFor(async () => (await pendingInGroup()) === 0, 30_000, { what: "nothing pending after the restart" });
    // The acknowledgements refused while Redis was away were sent once it was back.
    await waitFor(async () => (await notAcknowledged()) === 0, 20_000, { what: "every entry read acknowledged" });
  }, 120_000);

  it("dead-letters a malformed payload, skips an entry without topic or payload, and acknowledges both", async () => {
    const influx = await freshDatabase("ha_bad");
    const dataDir = join(dir, "bad");
    const worker = await startWorker("ingest-a", influx, dataDir);
    await appendReadings(0, 2);
    await appendDeviceMessage(redis, "meter-01", "campus/devices/meter-01/telemetry", Buffer.from("{not json"));
    await redis.xadd(partitionKey(partitionOf("meter-02")), "*", TOPIC_FIELD, "campus/devices/meter-02/telemetry"); // no payload
    await redis.xadd(partitionKey(0), "*", PAYLOAD_FIELD, "{}"); // no topic
    await appendReadings(2, 2);

    await expectStored(influx, 80);
    await waitFor(async () => (await pendingInGroup()) === 0, 20_000, { what: "nothing pending" });
    expect(await metricSum(worker.metrics, "campus_power_ingest_stream_entries_malformed_total")).toBe(2);
    expect(await metricSum(worker.metrics, "campus_power_ingest_refusals_total")).toBe(1);
    expect(await metricSum(worker.metrics, "campus_power_ingest_stream_entries_acknowledged_total")).toBe(83);
    const letters = readdirSync(join(dataDir, "dead-letter")).map((file) => readFileSync(join(dataDir, "dead-letter", file), "utf8")).join("");
    expect(letters).toContain("{not json");
    expect(letters).toContain("campus/devices/meter-01/telemetry");
  }, 60_000);
});

/** Meter `m`'s counter at reading `i`: rises by an uneven 5–20 Wh a reading (deterministic), so any overlap shows. */
const counterAt = (m: number, i: number) => 1_000 * (m + 1) + Array.from({ length: i }, (_, j) => 0.005 + (((j * 7 + m * 3) % 16) / 16) * 0.015).reduce((a, b) => a + b, 0);

/** Waits until `expected` workers hold every partition between them, each some. */
async function untilShared(names: readonly string[], timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    const all = await holders();
    return all.every((h) => h !== null && names.includes(h)) && names.every((name) => all.includes(name));
  }, timeoutMs, { intervalMs: 200, what: `partitions shared by ${names.join(", ")}` });
}

describe("one device, one ingest worker at a time (partitions)", () => {
  it("books each meter's energy once with two workers: the deltas sum to the counter's rise, and each device's readings are published in order", async () => {
    const influx = await freshDatabase("ha_energy");
    const observer = await connectService(`mqtt://127.0.0.1:${broker.tcpPort}`, SERVICE_PASSWORD, "ha-energy-observer");
    mqttClients.push(observer);
    const seen = new Map<string, number[]>();
    observer.on("message", (topic, payload) => {
      if (!topic.startsWith("campus/internal/readings-batch/")) return;
      for (const reading of JSON.parse(payload.toString()) as { device: string; ts: number }[]) (seen.get(reading.device) ?? seen.set(reading.device, []).get(reading.device)!).push(reading.ts);
    });
    await observer.subscribeAsync("campus/internal/readings-batch/+", { qos: 1 });
    await startWorker("ingest-a", influx, join(dir, "energy"));
    await startWorker("ingest-b", influx, join(dir, "energy"));
    await untilShared(["ingest-a", "ingest-b"]);

    const meters = DEVICES.slice(0, 6);
    const readings = 200;
    let pending: Promise<string>[] = [];
    for (let i = 0; i < readings; i++) {
      for (const [m, device] of meters.entries()) {
        const payload = Buffer.from(JSON.stringify({ ts: T0 + i * 1_000, energy_kwh: counterAt(m, i), power_w: 500 }));
        pending.push(appendDeviceMessage(redis, device, `campus/devices/${device}/telemetry`, payload));
      }
      if (pending.length >= 60) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    pending = [];
    await expectStored(influx, readings * meters.length);

    const sums = rows(await influx.query(`SELECT sum(energy_delta_kwh) FROM electrical WHERE "phase" = '' GROUP BY device`));
    for (const [m, device] of meters.entries()) {
      const booked = Number(sums.find((r) => r.device === device)?.sum ?? 0);
      expect(booked, `energy booked for ${device}`).toBeCloseTo(counterAt(m, readings - 1) - counterAt(m, 0), 6);
    }
    await waitFor(() => meters.every((d) => (seen.get(d)?.length ?? 0) >= readings), 20_000, { what: "every reading on the internal stream" });
    for (const device of meters) {
      const ts = seen.get(device)!;
      expect(ts, `${device} in order`).toEqual([...ts].sort((a, b) => a - b));
      expect(ts).toHaveLength(readings);
    }
  }, 120_000);

  it("books no period twice when partitions move to another worker and back", async () => {
    const influx = await freshDatabase("ha_handover");
    const a = await startWorker("ingest-a", influx, join(dir, "handover"));
    await untilShared(["ingest-a"]);
    const meters = DEVICES.slice(0, 6);
    const append = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await Promise.all(meters.map((device, m) => appendDeviceMessage(redis, device, `campus/devices/${device}/telemetry`, Buffer.from(JSON.stringify({ ts: T0 + i * 1_000, energy_kwh: counterAt(m, i), power_w: 500 })))));
      }
      await expectStored(influx, to * meters.length);
    };
    await append(0, 50); // ingest-a alone
    const b = await startWorker("ingest-b", influx, join(dir, "handover"));
    await untilShared(["ingest-a", "ingest-b"]);
    await append(50, 100); // half the meters on ingest-b
    await b.ingest.stop();
    await untilShared(["ingest-a"]);
    await append(100, 150); // all back on ingest-a, which last saw half of them at reading 49
    const sums = rows(await influx.query(`SELECT sum(energy_delta_kwh) FROM electrical WHERE "phase" = '' GROUP BY device`));
    for (const [m, device] of meters.entries()) {
      const booked = Number(sums.find((r) => r.device === device)?.sum ?? 0);
      const rise = counterAt(m, 149) - counterAt(m, 0);
      const step = Math.max(...Array.from({ length: 149 }, (_, i) => counterAt(m, i + 1) - counterAt(m, i)));
      // Never more than the counter rose; at most one reading's step left unbooked at each of the two handovers.
      expect(booked, `energy booked for ${device}`).toBeLessThanOrEqual(rise + 1e-6);
      expect(booked, `energy booked for ${device}`).toBeGreaterThanOrEqual(rise - 2 * step - 1e-6);
    }
    void a;
  }, 120_000);

  it("moves a worker's partitions killed with SIGKILL to the other within 10 s, stores every reading once, and shares with a third that joins", async () => {
    const influx = await freshDatabase("ha_share_kill");
    const dataDir = join(dir, "share-kill");
    const child = await startChildWorker("ingest-a", influx, dataDir);
    const b = await startWorker("ingest-b", influx, dataDir);
    await untilShared(["ingest-a", "ingest-b"]);
    expect(await heldBy("ingest-a")).toBeGreaterThan(0);
    let appended = await appendReadings(0, 10);
    await waitFor(async () => (await countStored(influx)) >= 100, 30_000, { what: "readings flowing" });

    child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(() => child.signalCode === "SIGKILL", 10_000, { what: "worker killed" });
    appended += await appendReadings(10, 10);
    await waitFor(async () => (await heldBy("ingest-b")) === PARTITIONS, 15_000, { intervalMs: 100, what: "ingest-b holds every partition" });
    expect(Date.now() - killedAt, "takeover time").toBeLessThan(10_000);
    // The killed worker's spool (acknowledged entries) drains when it restarts; until then its readings wait there.
    appended += await appendReadings(20, 10);
    await waitFor(async () => (await pendingOf("ingest-a")) === 0, 30_000, { what: "the dead worker's entries claimed" });

    const c = await startWorker("ingest-c", influx, join(dir, "share-kill-c"));
    await untilShared(["ingest-b", "ingest-c"]);
    appended += await appendReadings(30, 10);
    await startWorker("ingest-a", influx, dataDir); // its spool drains; it takes a share too
    await expectStored(influx, appended);
    expect(await metricSum(c.metrics, "campus_power_ingest_stream_partition_takeovers_total")).toBeGreaterThan(0);
    expect(await metricSum(b.metrics, "campus_power_ingest_stream_partition_releases_total")).toBeGreaterThan(0);
    await waitFor(async () => (await pendingInGroup()) === 0, 20_000, { what: "nothing pending" });
  }, 180_000);
});
