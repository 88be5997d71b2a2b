// Replay equivalence (issue #4): a recorded day of simulated campus traffic with scripted faults,
// written as CONTRACT §7 NDJSON, raises the same alerts (rule, device, event-time start, event-time
// end) whether lived through at 1× or pushed through the real stack at ≥ 100×.
// "1×" is the pure engine fed the recording in event order with the wall clock equal to event time,
// exactly what living through the day would do (docs/alerts.md "Replay equivalence"); "≥ 100×" is real
// mqtt.js devices → broker → ingest → alerts as fast as they can publish (measured, asserted ≥ 100×).
// Offline alerts are wall-clock by nature (a status carries no device time; the watchdog is a timer):
// they are compared by presence, not by start time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, initialState } from "../../alerts/engine.js";
import { createRuleBook } from "../../alerts/rule-book.js";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { defaultRules } from "../../alerts/rules/index.js";
import type { EngineInput, EngineState } from "../../alerts/types.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import type { Alert } from "../../domain/alert.js";
import { loadCampus } from "../../infra/campus-file.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { parseEvent, parseStatus, parseTelemetry } from "../../domain/reading.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { startIngest, type RunningIngest } from "../../ingest/index.js";
import { advanceTo, createCampusModel, nativeReading } from "../../simulator/index.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/alerts-replay-campus.yaml");
const PASSWORD = "service-password-for-tests";
const GROUP_KEY = "group-key-for-replay-tests-0123456789";
const DAY_MS = 86_400_000;
const campus = loadCampus(FIXTURE);
/** The recorded day starts 26 h ago (every timestamp is in the past and within the raw retention). */
const DAY0 = Math.floor((Date.now() - 26 * 3_600_000) / 60_000) * 60_000;
const at = (h: number, m = 0) => DAY0 + (h * 60 + m) * 60_000;

interface Line { t: number; topic: string; payload: string }

/** The day: the simulator's model every 60 s per device, with scripted faults laid over it. */
function recordDay(): Line[] {
  const model = createCampusModel(campus, { seed: 7, startMs: DAY0, stepMs: 5_000 });
  const lines: Line[] = [];
  for (let t = DAY0; t < DAY0 + DAY_MS; t += 60_000) {
    advanceTo(model, t);
    for (const device of campus.devices) {
      const reading: Record<string, unknown> = { ...nativeReading(model, device.id) };
      const id = device.id;
      // d1-main offline 18:00–18:20 (its own status, then silence, then back).
      if (id === "d1-main" && t >= at(18) && t < at(18, 20)) {
        if (t === at(18)) lines.push({ t, topic: `campus/devices/${id}/status`, payload: "offline" });
        continue;
      }
      if (id === "d1-main" && t === at(18, 20)) lines.push({ t, topic: `campus/devices/${id}/status`, payload: "online" });
      if (id === "d1-101" && t >= at(8) && t < at(8, 12)) Object.assign(reading, { current_a: 24.5, power_w: 5300, power_factor: 0.99 }); // 1.53 In
      if (id === "d1-main" && t >= at(12) && t < at(12, 3)) reading.leakage_ma = 320; // feeder fire alarm (latched)
      if (id === "d1-102" && t === at(15)) lines.push({ t: t - 1000, topic: `campus/devices/${id}/events`, payload: JSON.stringify({ ts: t - 1000, type: "trip", reason: "overload" }) });
      if (id === "d1-102" && t >= at(15) && t < at(15, 5)) Object.assign(reading, { current_a: 0, power_w: 0, switch_on: false });
      if (id === "l1-main" && t >= at(20) && t < at(20, 2) && reading.phases) (reading.phases as Record<string, { voltage_v: number }>).L2!.voltage_v = 40;
      if (id === "d1-103" && t >= at(21) && t < at(21, 6)) Object.assign(reading, { power_w: 1600, power_factor: 1, current_a: 7.3 });
      if (id === "l1-bench" && t >= at(22) && t < at(22, 4)) reading.temperature_c = 78;
      lines.push({ t, topic: `campus/devices/${id}/telemetry`, payload: JSON.stringify(reading) });
    }
  }
  return lines;
}

const key = (a: Pick<Alert, "rule" | "device" | "started_at">) => `${a.rule} ${a.device} ${a.started_at}`;

/** 1×: the pure engine living through the day — wall clock = event time, a watchdog tick every 10 s. */
function livedThrough(lines: Line[]) {
  const book = createRuleBook(campus, defaultRules());
  let state: EngineState = initialState();
  const opened = new Set<string>();
  const closed = new Set<string>();
  const run = (input: EngineInput, now: number) => {
    const result = evaluate(book, state, input, now);
    state = result.state;
    for (const e of result.effects) {
      if (e.type !== "alert") continue;
      if (e.change === "opened") opened.add(key(e.alert));
      if (e.change === "resolved") closed.add(`${key(e.alert)} ${e.alert.resolved_at}`);
    }
  };
  run({ kind: "start" }, DAY0);
  let nextTick = DAY0 + 10_000;
  for (const line of lines) {
    while (nextTick <= line.t) run({ kind: "tick" }, (nextTick += 10_000) - 10_000);
    const [, , device, kind] = line.topic.split("/") as [string, string, string, string];
    const options = { receivedAt: line.t, maxAgeMs: 90 * DAY_MS };
    if (kind === "telemetry") for (const reading of parseTelemetry(device, line.payload, options).readings) run({ kind: "reading", reading, live: true }, line.t);
    if (kind === "status") {
      const status = parseStatus(line.payload);
      if (status.ok) run({ kind: "status", status: { device, ts: line.t, online: status.value }, live: true }, line.t);
    }
    if (kind === "events") {
      const event = parseEvent(device, line.payload, options);
      if (event.ok) run({ kind: "event", event: event.value }, line.t);
    }
  }
  return { opened, closed };
}

let dataDir: string;
let influx: InfluxClient;
let broker: RunningBroker;
let ingest: RunningIngest;
let alerts: RunningAlerts;
let watcher: MqttClient;
const seen: Alert[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-power-replay-"));
  influx = await freshDatabase("alerts_replay");
  const env = readEnv({ DATA_DIR: dataDir, LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY, INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: FIXTURE });
  let ctx: ServiceContext = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1" });
  ctx = { ...ctx, env: Object.freeze({ ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }) };
  ingest = await startIngest(ctx, { influx });
  alerts = await startAlerts(ctx, { influx });
  watcher = await connectService(ctx.env.mqttUrl, PASSWORD, "replay-watcher");
  watcher.on("message", (_t, payload) => payload.length > 0 && seen.push(JSON.parse(payload.toString()) as Alert));
  await watcher.subscribeAsync("campus/alerts/+/+", { qos: 1 });
});

afterAll(async () => {
  await watcher?.endAsync();
  await alerts?.stop();
  await ingest?.stop();
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("replay equivalence", () => {
  it("opens and closes the same alerts from a recorded day replayed through the real stack at ≥ 100× as living through it at 1×", async () => {
    const file = join(dataDir, "day.ndjson");
    writeFileSync(file, recordDay().map((l) => JSON.stringify(l)).join("\n") + "\n");
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBeGreaterThan(8_000);
    const baseline = livedThrough(lines);

    // ≥ 100×: each device replays its own lines in order on its own connection, all devices at once.
    const started = Date.now();
    const byDevice = new Map<string, Line[]>();
    for (const line of lines) byDevice.set(line.topic.split("/")[2]!, [...(byDevice.get(line.topic.split("/")[2]!) ?? []), line]);
    await Promise.all(
      [...byDevice].map(async ([id, own]) => {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
        for (const line of own) await client.publishAsync(line.topic, line.payload, { qos: 1, retain: line.topic.endsWith("/status") });
        await client.endAsync();
      }),
    );
    const speed = DAY_MS / (Date.now() - started);
    expect(speed).toBeGreaterThanOrEqual(100);

    const eventTime = (set: Set<string>) => new Set([...set].filter((k) => !k.startsWith("offline ")));
    const replayed = () => {
      const opened = new Set(seen.map(key));
      const closed = new Set(seen.filter((a) => a.state === "resolved").map((a) => `${key(a)} ${a.resolved_at}`));
      return { opened, closed };
    };
    await waitFor(() => eventTime(replayed().opened).size >= eventTime(baseline.opened).size && replayed().closed.size >= eventTime(baseline.closed).size, 30_000, 200);
    const stack = replayed();
    expect([...eventTime(stack.opened)].sort()).toEqual([...eventTime(baseline.opened)].sort());
    expect([...eventTime(stack.closed)].sort()).toEqual([...eventTime(baseline.closed)].sort());
    // The scripted faults are all there (the day's own load may add dorm findings of its own).
    const rules = new Set([...baseline.opened].map((k) => k.split(" ")[0]));
    for (const rule of ["overload", "predicted-trip", "leakage", "device-trip", "phase-loss", "power-limit", "overtemperature", "offline"]) expect(rules, rule).toContain(rule);
    expect([...stack.opened].some((k) => k.startsWith("offline d1-main"))).toBe(true);
  }, 110_000);
});
