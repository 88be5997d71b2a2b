// The broker's journal (broker/journal.ts): what the broker acknowledged to a device survives the
// broker's death until the ingest has acknowledged it. Real broker, real mqtt.js clients; the last test
// kills the whole `up` process with SIGKILL under load and counts every reading in a real InfluxDB.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import mqtt, { type MqttClient, UniqueMessageIdProvider } from "mqtt";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DeviceFeed } from "../../broker/device-feed.js";
import { startBroker } from "../../broker/index.js";
import { loadCampus } from "../../infra/campus-file.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { createLogger, type Logger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { scanRecords } from "../../infra/spool/record.js";
import { holdAcks } from "../../ingest/acks.js";
import { startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "journal-group-key-0123456789";
const PASSWORD = "journal-service-password";
const dirs: string[] = [];
const clients: MqttClient[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "campus-journal-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const context = (dataDir: string, log: Logger = createLogger("silent")): ServiceContext => ({
  env: readEnv({ DATA_DIR: dataDir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, LOG_LEVEL: "silent" }),
  campus: loadCampus("tests/fixtures/test-campus.yaml"),
  log,
  metrics: createRegistry(false),
});

const journalCorruptBytes = async (ctx: ServiceContext) =>
  (await ctx.metrics.getSingleMetric("campus_power_broker_journal_corrupt_bytes_total")?.get())?.values[0]?.value ?? 0;

async function connect(port: number, options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, messageIdProvider: new UniqueMessageIdProvider(), ...options });
  clients.push(client);
  return client;
}

/** An ingest stand-in: the ingest's client id and session, collecting messages; acknowledges only if told to. */
async function subscriber(port: number, ack: boolean) {
  const received: string[] = [];
  const client = await connect(port, { clientId: "campus-ingest", clean: false, username: "campus-service", password: PASSWORD });
  // Not acknowledging: the PUBACKs are held back (as the ingest does until a reading is durable) and never sent.
  if (!ack) holdAcks(client);
  client.on("message", (_topic, message) => received.push(message.toString()));
  await client.subscribeAsync("campus/devices/+/telemetry", { qos: 1 });
  return { client, received };
}

describe("the broker journal", () => {
  it("publishes again, after a restart, what the ingest had not acknowledged, and only that", async () => {
    const dataDir = tempDir();
    let broker = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1" });
    const silent = await subscriber(broker.tcpPort, false);
    const device = await connect(broker.tcpPort, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    for (let i = 0; i < 50; i++) await device.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 1_000 + i, power_w: i }), { qos: 1 });
    expect(await waitFor(() => silent.received.length === 50)).toBe(true);
    await Promise.all([silent.client.endAsync(true), device.endAsync(true)]);
    await broker.stop(); // memory persistence: the session and its 50 unacknowledged messages are gone

    broker = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1" });
    const acking = await subscriber(broker.tcpPort, true);
    expect(await waitFor(() => acking.received.length === 50)).toBe(true);
    expect(acking.received.map((p) => JSON.parse(p).power_w)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // A round trip after the 50 PUBACKs on the same connection: the broker has handled them (in order) once it answers.
    await acking.client.publishAsync("test/acks-sent", "x", { qos: 1 });
    await acking.client.endAsync(true);
    await broker.stop();

    broker = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1" });
    const after = await subscriber(broker.tcpPort, true);
    // The marker: a new reading published after the subscription; a replay would have come before it.
    const marker = await connect(broker.tcpPort, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    await marker.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 2_000, power_w: -1 }), { qos: 1 });
    expect(await waitFor(() => after.received.some((p) => JSON.parse(p).power_w === -1))).toBe(true);
    expect(after.received.map((p) => JSON.parse(p).power_w)).toEqual([-1]); // acknowledged entries are retired
    await marker.endAsync(true);
    await broker.stop();
  });

  it("with `up`'s in-process feed: acknowledges a device once journaled, hands the ingest what an earlier start left, and retires only what the ingest stored", async () => {
    const dataDir = tempDir();
    let broker = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1" });
    const silent = await subscriber(broker.tcpPort, false);
    const device = await connect(broker.tcpPort, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    for (let i = 0; i < 20; i++) await device.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 1_000 + i, power_w: i }), { qos: 1 });
    expect(await waitFor(() => silent.received.length === 20)).toBe(true);
    await Promise.all([silent.client.endAsync(true), device.endAsync(true)]);
    await broker.stop(); // a split broker (or an `up` before the feed), stopped with 20 readings the ingest had not acknowledged

    // The ingest's side of the feed: records what it is handed; a negative reading is durable only when the test says so.
    const startWithFeed = async () => {
      const handed: string[] = [];
      const durable: (() => void)[] = [];
      const feed = new DeviceFeed(() => undefined);
      const started = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1", feed });
      feed.attach({
        full: () => false,
        onHeldBack: () => undefined,
        handle: (_topic, payload) => {
          const text = payload.toString();
          handed.push(text);
          return JSON.parse(text).power_w >= 0 ? Promise.resolve() : new Promise<void>((resolve) => durable.push(resolve));
        },
      }, ["campus/devices/+/telemetry"]);
      return { broker: started, handed, durable };
    };
    let up = await startWithFeed();
    expect(await waitFor(() => up.handed.length === 20)).toBe(true);
    expect(up.handed.map((p) => JSON.parse(p).power_w)).toEqual(Array.from({ length: 20 }, (_, i) => i));

    // Acknowledged once in the journal, before the ingest holds it; the routed copy is not handed twice.
    const live = await connect(up.broker.tcpPort, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    await live.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 3_000, power_w: -1 }), { qos: 1 });
    expect(await waitFor(() => up.handed.length === 21)).toBe(true);
    await live.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 3_001, power_w: 50 }), { qos: 1 });
    expect(await waitFor(() => up.handed.length === 22)).toBe(true);
    await live.endAsync(true);
    await up.broker.stop(); // the ingest never stored power_w -1: its entry (and what follows it) stays journaled

    up = await startWithFeed();
    // The marker: a reading published now is handed after whatever the journal held.
    const marker = await connect(up.broker.tcpPort, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    await marker.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 4_000, power_w: 99 }), { qos: 1 });
    expect(await waitFor(() => up.handed.some((p) => JSON.parse(p).power_w === 99))).toBe(true);
    expect(up.handed.map((p) => JSON.parse(p).power_w)).toEqual([-1, 50, 99]); // the 20 stored ones are retired
    up.durable.forEach((resolve) => resolve());
    await marker.endAsync(true);
    await up.broker.stop();
  });

  it("starts after a power loss tore its last record: replays every whole record, counts the torn bytes, and goes on", async () => {
    const dataDir = tempDir();
    const journalDir = join(dataDir, "broker", "journal");
    const publishReadings = async (port: number, powers: number[]) => {
      const device = await connect(port, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
      for (const power_w of powers) await device.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 1_000 + power_w, power_w }), { qos: 1 });
      await device.endAsync(true);
    };
    const powersOf = (received: string[]) => received.map((p) => JSON.parse(p).power_w as number);
    let broker = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1" });
    let silent = await subscriber(broker.tcpPort, false);
    await publishReadings(broker.tcpPort, Array.from({ length: 20 }, (_, i) => i));
    expect(await waitFor(() => silent.received.length === 20)).toBe(true);
    await silent.client.endAsync(true);
    await broker.stop();

    // Cut the last record of the last segment in half, as a write interrupted by a power loss leaves it.
    const segment = join(journalDir, readdirSync(journalDir).filter((name) => name.startsWith("seg-")).sort().at(-1)!);
    const records = scanRecords(readFileSync(segment)).filter((item) => item.kind === "record");
    expect(records).toHaveLength(20);
    const last = records.at(-1)!;
    const kept = Math.floor((last.end - last.offset) / 2);
    truncateSync(segment, last.offset + kept);

    const logged: { msg: string; bytes?: number; where?: string }[] = [];
    const log = pino({ level: "warn" }, new Writable({ write: (chunk, _encoding, done) => (logged.push(JSON.parse(chunk.toString())), done()) }));
    const torn = context(dataDir, log);
    broker = await startBroker(torn, { port: 0, wsPort: 0, host: "127.0.0.1" });
    silent = await subscriber(broker.tcpPort, false);
    expect(await waitFor(() => silent.received.length === 19)).toBe(true);
    expect(powersOf(silent.received)).toEqual(Array.from({ length: 19 }, (_, i) => i));
    const tornBytes = kept; // what is left of the torn record on disk, skipped and cut off
    expect(await journalCorruptBytes(torn)).toBe(tornBytes);
    expect(logged).toContainEqual(expect.objectContaining({ msg: "skipped a torn or damaged journal record", bytes: tornBytes, where: expect.stringContaining("torn tail") }));
    // It goes on: a new reading is journaled after the cut and survives the next restart with the others.
    await publishReadings(broker.tcpPort, [100]);
    expect(await waitFor(() => silent.received.length === 20)).toBe(true);
    await silent.client.endAsync(true);
    await broker.stop();

    const clean = context(dataDir);
    broker = await startBroker(clean, { port: 0, wsPort: 0, host: "127.0.0.1" });
    const acking = await subscriber(broker.tcpPort, true);
    expect(await waitFor(() => acking.received.length === 20)).toBe(true);
    expect(powersOf(acking.received)).toEqual([...Array.from({ length: 19 }, (_, i) => i), 100]);
    expect(await journalCorruptBytes(clean)).toBe(0); // the torn bytes were cut off, nothing after them was lost
    await broker.stop();
  });

  it("loses no reading when the whole `up` process is killed with SIGKILL under load", async () => {
    const dataDir = tempDir();
    const db = `upkill_${randomBytes(3).toString("hex")}`;
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml", MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort),
      INFLUX_URL: influxUrl(), INFLUX_DB: db, DATA_DIR: dataDir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD,
      API_TOKENS: "viewer:journal-viewer-token-0123", LOG_LEVEL: "warn",
    };
    let up = startCli(["up"], env);
    await up.waitForOutput(/campus-power is up/, 60_000);
    const ids = ["brk-d1-101", "brk-d1-102", "brk-c1-main"];
    // Devices as in the field: they reconnect and resend what was not acknowledged (mqtt.js outgoing store).
    const devices = await Promise.all(ids.map((id) => connect(mqttPort, { clientId: id, clean: false, username: id, password: devicePassword(id, KEY), reconnectPeriod: 300 })));
    const t0 = Date.now() - 3_600_000;
    const perDevice = 700;
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < perDevice; i++) {
      for (const [d, client] of devices.entries()) {
        const p = client.publishAsync(`campus/devices/${ids[d]}/telemetry`, JSON.stringify({ ts: t0 + i * 100, power_w: i }), { qos: 1 });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= 60) await Promise.race(inFlight);
      }
      if (i === 300) {
        up.child.kill("SIGKILL");
        await new Promise((resolve) => up.child.once("exit", resolve));
        up = startCli(["up"], env);
        await up.waitForOutput(/campus-power is up/, 60_000);
      }
    }
    await Promise.all(inFlight);
    const influx = new InfluxClient({ url: influxUrl(), db });
    const count = async () => Number(rows(await influx.query(`SELECT count(power_w) FROM electrical`).catch(() => []))[0]?.count ?? 0);
    await waitFor(async () => (await count()) === ids.length * perDevice, 60_000, 250);
    const present = rows(await influx.query(`SELECT power_w, device FROM electrical`)).map((r) => `${r.device}:${r.power_w}`);
    const missing = ids.flatMap((id) => Array.from({ length: perDevice }, (_, i) => `${id}:${i}`)).filter((k) => !present.includes(k));
    expect(missing).toEqual([]);
    expect((await up.stop()).code).toBe(0);
  }, 150_000);
});

describe("flow control towards the ingest", () => {
  it("keeps at most `window` deliveries unacknowledged and holds the rest, in order, until acknowledgements make room", async () => {
    const dataDir = tempDir();
    const broker = await startBroker(context(dataDir), { port: 0, wsPort: 0, host: "127.0.0.1", subscriberWindow: { window: 10 } });
    const received: { power: number; messageId: number }[] = [];
    const ingest = await connect(broker.tcpPort, { clientId: "campus-ingest", clean: false, username: "campus-service", password: PASSWORD });
    const acks = holdAcks(ingest);
    ingest.on("message", (_topic, message, packet) => received.push({ power: JSON.parse(message.toString()).power_w, messageId: packet.messageId! }));
    await ingest.subscribeAsync("campus/devices/+/telemetry", { qos: 1 });
    const device = await connect(broker.tcpPort, { clientId: "brk-d1-101", username: "brk-d1-101", password: devicePassword("brk-d1-101", KEY) });
    const publishes = Array.from({ length: 100 }, (_, i) => device.publishAsync("campus/devices/brk-d1-101/telemetry", JSON.stringify({ ts: 1_000 + i, power_w: i }), { qos: 1 }));
    await Promise.all(publishes); // the broker acknowledged all 100 to the device
    expect(await waitFor(() => received.length === 10, 10_000)).toBe(true);
    // A marker: a reading of another device published now would be held too, so a round trip on another connection.
    const other = await connect(broker.tcpPort, { clientId: "brk-d1-102", username: "brk-d1-102", password: devicePassword("brk-d1-102", KEY) });
    await other.subscribeAsync("campus/devices/brk-d1-102/commands", { qos: 1 });
    expect(received).toHaveLength(10);

    // The ingest acknowledges what it has, again and again: every reading arrives once, in order, with no id in flight twice.
    let acked = 0;
    while (acked < 100) {
      const upTo = received.length;
      for (const { messageId } of received.slice(acked, upTo)) acks.ack({ cmd: "publish", qos: 1, messageId, topic: "", payload: Buffer.alloc(0), dup: false, retain: false }, acks.generation);
      acked = upTo;
      if (acked < 100) expect(await waitFor(() => received.length > upTo, 10_000)).toBe(true);
    }
    expect(received.map((r) => r.power)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await broker.stop();
  });
});
