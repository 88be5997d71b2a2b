// Relay reports end to end (CONTRACT §10, "the device's confirmation"): real mqtt.js devices with their own
// credentials answer and report in their own formats through the real broker; the real ingest publishes
// each report on campus/internal/relay/{device}, refuses garbage answers (counted, dead-lettered) and
// harms nothing else. A real influxd holds what the ingest stores.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import type { RelayReport } from "../../domain/command.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { decodeInternalMessage } from "../../domain/internal-stream.js";
import { INTERNAL_FILTERS } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { connectService } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const CAMPUS_FILE = join(import.meta.dirname, "../fixtures/formats/campus.yaml");
const KEY = "relay-group-key-0123456789";
const PASSWORD = "relay-service-password";
let dir: string;
let broker: RunningBroker;
let influx: InfluxClient;
let ingest: RunningIngest;
let metrics: Registry;
let observer: MqttClient;
/** What the observer got on the internal stream, in order: relay reports decoded, other topics by name. */
const stream: { topic: string; report?: RelayReport; payload: string }[] = [];
const devices = new Map<string, MqttClient>();

function context(registry: Registry): ServiceContext {
  const env = readEnv({
    DATA_DIR: dir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db,
    MQTT_URL: `mqtt://127.0.0.1:${broker?.tcpPort ?? 1883}`, LOG_LEVEL: "silent",
  });
  return { env, campus: loadCampus(CAMPUS_FILE), log: createLogger("silent"), metrics: registry };
}

async function publish(id: string, topic: string, payload: string): Promise<void> {
  let client = devices.get(id);
  if (!client) {
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
      protocolVersion: 4, clientId: `${id}-${randomBytes(3).toString("hex")}`, username: id, password: devicePassword(id, KEY), reconnectPeriod: 0,
    });
    devices.set(id, client);
  }
  await client.publishAsync(topic, payload, { qos: 1 });
}

const reportsOf = (device: string) => stream.filter((m) => m.report?.device === device).map((m) => m.report!);
const refusals = async () => (await metrics.getSingleMetric("campus_power_ingest_refusals_total")?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-relay-"));
  influx = new InfluxClient({ url: influxUrl(), db: `relay_${randomBytes(4).toString("hex")}` });
  metrics = createRegistry(false);
  broker = await startBroker(context(createRegistry(false)), { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  ingest = await startIngest(context(metrics), { influx, clientId: "relay-ingest" });
  observer = await connectService(`mqtt://127.0.0.1:${broker.tcpPort}`, PASSWORD, "relay-observer");
  observer.on("message", (topic, payload, packet) => {
    const decoded = decodeInternalMessage(topic, payload, packet.retain);
    stream.push({ topic, payload: payload.toString(), ...(decoded?.ok && decoded.message.kind === "relay" ? { report: decoded.message.report } : {}) });
  });
  await observer.subscribeAsync([INTERNAL_FILTERS.relays, INTERNAL_FILTERS.readingBatches], { qos: 1 });
});

afterAll(async () => {
  await Promise.all([...devices.values(), observer].map((c) => c?.endAsync(true).catch(() => undefined)));
  await ingest?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const answer = { explicit: true, on: null, ts: expect.any(Number) };

describe("relay reports through the ingest", () => {
  it("publishes every format's answers and periodic reports on campus/internal/relay/{device}, in the device's order", async () => {
    const now = new Date().toISOString();
    await publish("brk-c1-lab", "campus/devices/brk-c1-lab/telemetry", JSON.stringify({ ts: now, power_w: 0, switch_on: false }));
    await publish("brk-c1-lab", "campus/devices/brk-c1-lab/events", JSON.stringify({ type: "switch", reason: "remote", detail: "cmd-1" }));
    await publish("brk-c1-lab", "campus/devices/brk-c1-lab/events", JSON.stringify({ type: "fault", reason: "command refused", detail: "cmd-2: locked out at the panel" }));
    await publish("plug-d1-101-a", "stat/tasmota_5A1B2C/POWER", "OFF");
    await publish("plug-d1-101-a", "stat/tasmota_5A1B2C/RESULT", '{"POWER":"ON"}');
    await publish("plug-d1-101-a", "tele/tasmota_5A1B2C/STATE", '{"UptimeSec":3723,"POWER":"OFF"}');
    await publish("plug-d1-102-s1", "shellies/shellyplug-s-7C87CE/relay/0", "off");
    await publish("brk-c1-s2", "shellyplus1pm-a8032ab12345/status/switch:0", '{"id":0,"output":true,"apower":8.9}');
    await publish("brk-c1-s2", "campus-power/brk-c1-s2/rpc", '{"id":17,"src":"shellyplus1pm-a8032ab12345","dst":"campus-power/brk-c1-s2","result":{"was_on":true}}');
    await publish("brk-c1-s2", "campus-power/brk-c1-s2/rpc", '{"id":18,"src":"shellyplus1pm-a8032ab12345","error":{"code":-103,"message":"Switch 0 is locked by a script"}}');
    await publish("brk-c1-z2m", "zigbee2mqtt/lab/din-breaker-1", '{"state":"OFF","power":0}');

    await waitFor(() => reportsOf("brk-c1-z2m").length === 1 && reportsOf("brk-c1-s2").length === 3, 10_000, { what: "the relay reports" });
    expect(reportsOf("brk-c1-lab")).toEqual([
      { device: "brk-c1-lab", ts: Date.parse(now), on: false, explicit: false },
      { device: "brk-c1-lab", ...answer, command_id: "cmd-1" },
      { device: "brk-c1-lab", ...answer, command_id: "cmd-2", error: "locked out at the panel" },
    ]);
    expect(reportsOf("plug-d1-101-a").map((r) => [r.on, r.explicit])).toEqual([[false, true], [true, true], [false, false]]);
    expect(reportsOf("plug-d1-102-s1").map((r) => [r.on, r.explicit])).toEqual([[false, false]]);
    expect(reportsOf("brk-c1-s2")).toEqual([
      { device: "brk-c1-s2", ts: expect.any(Number), on: true, explicit: false },
      { device: "brk-c1-s2", ...answer, rpc_id: 17 },
      { device: "brk-c1-s2", ...answer, rpc_id: 18, error: "Switch 0 is locked by a script" },
    ]);
    expect(reportsOf("brk-c1-z2m").map((r) => [r.on, r.explicit])).toEqual([[false, false]]);
    // The reading sent before the answers reached the stream before them (its batch was flushed first).
    const batch = stream.findIndex((m) => m.topic.startsWith("campus/internal/readings-batch/") && m.payload.includes('"brk-c1-lab"'));
    const firstAnswer = stream.findIndex((m) => m.report?.device === "brk-c1-lab" && m.report.explicit);
    expect(batch).toBeGreaterThanOrEqual(0);
    expect(batch).toBeLessThan(firstAnswer);
  });

  it("repeats a periodic report of an unchanged state once its window has passed", async () => {
    const before = reportsOf("plug-d1-102-s1").length;
    await publish("plug-d1-102-s1", "shellies/shellyplug-s-7C87CE/relay/0", "off"); // as a Gen1 plug repeats every 30 s
    // Within the ingest's 5 s window of the last "off", then published by its sweep.
    const repeated = await waitFor(() => reportsOf("plug-d1-102-s1").length > before, 10_000);
    expect(repeated).toBe(true);
    expect(reportsOf("plug-d1-102-s1").at(-1)).toMatchObject({ on: false, explicit: false });
  });

  it("refuses garbage answers, counts and dead-letters each, and harms no other report, reading or kept state", async () => {
    const refusedBefore = await refusals();
    const garbage: [string, string, string][] = [
      ["brk-c1-s2", "campus-power/brk-c1-s2/rpc", "ok"],
      ["brk-c1-s2", "campus-power/brk-c1-s2/rpc", '{"src":"shellyplus1pm-a8032ab12345","result":{"was_on":true}}'],
      ["brk-c1-s2", "campus-power/brk-c1-s2/rpc", '{"id":19,"method":"Switch.Set","params":{"on":false}}'],
      ["plug-d1-101-a", "stat/tasmota_5A1B2C/POWER", "TOGGLE"],
      ["brk-c1-lab", "campus/devices/brk-c1-lab/events", '{"type":"fault","reason":"command refused"}'],
    ];
    const reportsBefore = stream.filter((m) => m.report).length;
    for (const [device, topic, payload] of garbage) await publish(device, topic, payload);
    // The marker: a good answer after the garbage, and a partial NotifyStatus that needs the kept status.
    await publish("brk-c1-s2", "campus-power/brk-c1-s2/rpc", '{"id":99,"result":{"was_on":false}}');
    await publish("brk-c1-s2", "shellyplus1pm-a8032ab12345/events/rpc", JSON.stringify({ method: "NotifyStatus", params: { ts: Date.now() / 1000, "switch:0": { apower: 512.5 } } }));
    await waitFor(() => stream.some((m) => m.report?.rpc_id === 99), 10_000, { what: "the marker answer" });
    const after = stream.filter((m) => m.report).slice(reportsBefore);
    expect(after.findIndex((m) => m.report!.rpc_id === 99)).toBe(0); // nothing of the garbage came before the marker
    await waitFor(async () => (await refusals()) - refusedBefore === garbage.length, 10_000, { what: "five refusals" });

    await ingest.flush();
    const deadLetters = readdirSync(join(dir, "dead-letter"))
      .flatMap((file) => readFileSync(join(dir, "dead-letter", file), "utf8").trim().split("\n"))
      .map((line) => JSON.parse(line) as { topic: string; code: string });
    expect(deadLetters.map((l) => [l.topic, l.code])).toEqual([
      ["campus-power/brk-c1-s2/rpc", "PAYLOAD_NOT_JSON"],
      ["campus-power/brk-c1-s2/rpc", "PAYLOAD_INVALID"],
      ["campus-power/brk-c1-s2/rpc", "PAYLOAD_INVALID"],
      ["stat/tasmota_5A1B2C/POWER", "PAYLOAD_INVALID"],
      ["campus/devices/brk-c1-lab/events", "PAYLOAD_INVALID"],
    ]);
    // The Gen2 device's kept status outlived the garbage: the partial update still reads as "on".
    const [overlaid] = await waitFor(async () => {
      const found = rows(await influx.query(`SELECT power_w, switch_on FROM electrical WHERE device = 'brk-c1-s2' AND power_w = 512.5`));
      return found.length > 0 ? found : undefined;
    }, 10_000) ?? [];
    expect(overlaid).toMatchObject({ power_w: 512.5, switch_on: true });
    // The refusal without a command id was not stored as an event; the one naming its command was.
    const refusedEvents = rows(await influx.query(`SELECT detail FROM device_event WHERE device = 'brk-c1-lab' AND "type" = 'fault'`));
    expect(refusedEvents.map((e) => e.detail)).toEqual(["cmd-2: locked out at the panel"]);
  });
});
