// Simulated devices obey (CONTRACT §10, issue 11 §6), through the real broker (each device with its own
// credentials and ACL) and the real ingest into the real InfluxDB: the service account publishes the
// product's own command message (domain/formats/commands.ts) to one device per format and behaviour; each
// answers in its own format's topics, draws nothing once off (and neither does what it feeds), or — as
// told — refuses, ignores, or answers late.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Value } from "@sinclair/typebox/value";
import { type RelayReport, RelayReportSchema } from "../../domain/command.js";
import { commandMessage } from "../../domain/formats/commands.js";
import { internalTopic } from "../../domain/topics.js";
import { rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService } from "../../infra/mqtt.js";
import { type RunningSimulator, startSimulator } from "../../simulator/index.js";
import { waitFor } from "../helpers/wait.js";
import { GROUP_KEY, SERVICE_PASSWORD, type Stack, startStack } from "./simulator-stack.js";

const FORMATS = { native: "nat", tasmota: "tas", "shelly-gen1": "g1", "shelly-gen2": "g2", zigbee2mqtt: "z2m" } as const;
type Format = keyof typeof FORMATS;
const MODES = ["obey", "refuse", "ignore", "slow"] as const;
type Mode = (typeof MODES)[number];
/** How late the slow devices act, event ms (= wall ms at speed 1). */
const SLOW_MS = 3_000;

const idOf = (format: Format, mode: Mode) => `${FORMATS[format]}-${mode}`;
const sourceOf = (format: Format, mode: Mode) => `${FORMATS[format]}_${mode}`;

/** One dormitory room breaker per format and behaviour, reporting every 2 s; a Gen1 socket below the obeying native breaker. */
function campusYaml(): string {
  const lines = ["site: { id: cmd-school, name: Command School, timezone: Asia/Shanghai, nominal_voltage_v: 220 }", "buildings:", "  - { id: dorm-1, name: Dormitory 1, kind: dormitory }", "devices:"];
  for (const format of Object.keys(FORMATS) as Format[]) {
    for (const mode of MODES) {
      const foreign = format === "native" ? "" : `, format: ${format}, source: ${sourceOf(format, mode)}`;
      lines.push(`  - { id: ${idOf(format, mode)}, kind: breaker, building: dorm-1, room: "101", rating_a: 16, curve: C, report_interval_s: 2${foreign} }`);
    }
  }
  lines.push('  - { id: g1-below, kind: socket, building: dorm-1, room: "101", parent: nat-obey, rating_a: 10, format: shelly-gen1, source: g1_below, report_interval_s: 2 }');
  return lines.join("\n") + "\n";
}

interface Seen {
  topic: string;
  payload: string;
  at: number;
}
const json = (text: string): Record<string, unknown> => {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** The device's periodic report that shows its relay (and load), and whether it shows the relay closed and drawing. */
function periodic(format: Format, mode: Mode): { topic: string; on: (payload: string) => boolean } {
  const s = sourceOf(format, mode);
  switch (format) {
    case "native":
      return { topic: `campus/devices/${idOf(format, mode)}/telemetry`, on: (p) => json(p).switch_on === true && Number(json(p).power_w) > 0 };
    case "tasmota":
      return { topic: `tele/${s}/STATE`, on: (p) => json(p).POWER === "ON" };
    case "shelly-gen1":
      return { topic: `shellies/${s}/relay/0`, on: (p) => p === "on" };
    case "shelly-gen2": {
      // A periodic NotifyStatus carries the load, and the output only when it changed.
      const on = (p: string) => {
        const change = (json(p).params as Record<string, Record<string, unknown>> | undefined)?.["switch:0"] ?? {};
        return change.output !== false && Number(change.apower) > 0;
      };
      return { topic: `${s}/events/rpc`, on };
    }
    case "zigbee2mqtt":
      return { topic: `zigbee2mqtt/${s}`, on: (p) => json(p).state === "ON" && Number(json(p).power) > 0 };
  }
}

/** The message that says the relay is now open, in the device's own format (CONTRACT §10 "the device's confirmation"). */
function switchedOff(format: Format, mode: Mode, rpcId: number): (m: Seen) => boolean {
  const s = sourceOf(format, mode);
  const id = idOf(format, mode);
  switch (format) {
    case "native":
      return (m) => m.topic === `campus/devices/${id}/events` && json(m.payload).type === "switch" && json(m.payload).reason === "remote" && json(m.payload).detail === `cmd-${id}`;
    case "tasmota":
      return (m) => m.topic === `stat/${s}/POWER` && m.payload === "OFF";
    case "shelly-gen1":
      return (m) => m.topic === `shellies/${s}/relay/0` && m.payload === "off";
    case "shelly-gen2":
      return (m) => m.topic === `campus-power/${id}/rpc` && json(m.payload).id === rpcId && (json(m.payload).result as { was_on?: unknown } | undefined)?.was_on === true;
    case "zigbee2mqtt":
      return (m) => m.topic === `zigbee2mqtt/${s}` && json(m.payload).state === "OFF";
  }
}

const FORMAT_LIST = Object.keys(FORMATS) as Format[];
const rpcIdOf = (format: Format, mode: Mode) => 100 + FORMAT_LIST.indexOf(format) * 10 + MODES.indexOf(mode);

let dir: string;
let stack: Stack;
let observer: MqttClient;
let simulator: RunningSimulator;
const seen: Seen[] = [];
const registry = createRegistry(false);
/** When the service account published the commands, wall ms. */
let sentAt = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-sim-commands-"));
  const campusFile = join(dir, "campus.yaml");
  writeFileSync(campusFile, campusYaml());
  stack = await startStack(campusFile);
  observer = await connectService(stack.mqttUrl, SERVICE_PASSWORD, "sim-commands-observer");
  observer.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString(), at: Date.now() }));
  await observer.subscribeAsync("#", { qos: 1 });
  const behaviour = (mode: Exclude<Mode, "obey">) => Object.fromEntries(FORMAT_LIST.map((f) => [idOf(f, mode), mode === "slow" ? { mode, delayMs: SLOW_MS } : { mode }]));
  simulator = await startSimulator({
    campus: stack.campus,
    mqttUrl: stack.mqttUrl,
    deviceGroupKey: GROUP_KEY,
    log: createLogger("silent"),
    metrics: registry,
    seed: 11,
    commandBehaviour: { ...behaviour("refuse"), ...behaviour("ignore"), ...behaviour("slow") },
  });
  expect(simulator.connected).toBe(stack.campus.devices.length);
  // Every device has reported (so it is subscribed: it subscribes before it says "online").
  await waitFor(() => FORMAT_LIST.every((f) => MODES.every((m) => seen.some((s) => s.topic === periodic(f, m).topic))), 10_000, { what: "a first report of every device" });
  sentAt = Date.now();
  const expiresAt = new Date(sentAt + 30_000).toISOString();
  await Promise.all(
    FORMAT_LIST.flatMap((format) =>
      MODES.map((mode) => {
        const device = stack.campus.deviceById.get(idOf(format, mode))!;
        const message = commandMessage(device, { id: `cmd-${device.id}`, action: "switch_off", issued_by: "operator:test", expires_at: expiresAt }, rpcIdOf(format, mode));
        return observer.publishAsync(message.topic, message.payload, { qos: message.qos, retain: message.retain });
      }),
    ),
  );
});

afterAll(async () => {
  await simulator?.stop();
  await observer?.endAsync(true);
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The ingest's relay reports of a device since the commands went out, checked against their schema. */
function relayReports(deviceId: string): RelayReport[] {
  return seen
    .filter((m) => m.topic === internalTopic.relay(deviceId) && m.at >= sentAt)
    .map((m) => JSON.parse(m.payload) as unknown)
    .filter((r): r is RelayReport => Value.Check(RelayReportSchema, r));
}

/** How many commands the simulated devices have taken in, by outcome. */
async function outcomes(): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "campus_power_sim_commands_total");
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.outcome), Number(v.value)]));
}

/**
 * Each device's periodic reports once the simulator has counted the commands of `mode` as `outcome`, up to
 * the second one: the marker of a negative check. A device publishes one message at a time, in order, and
 * reports every 2 s, so its second report seen after the count was queued after anything it queued in answer.
 */
async function reportsAfterDecision(mode: Mode, outcome: string): Promise<Map<Format, { reports: Seen[]; between: Seen[] }>> {
  await waitFor(async () => ((await outcomes())[outcome] ?? 0) >= FORMAT_LIST.length, 5_000, { what: `${outcome} commands counted` });
  const decidedAt = Date.now();
  const reports = (format: Format) => seen.filter((m) => m.topic === periodic(format, mode).topic && m.at > decidedAt);
  await waitFor(() => FORMAT_LIST.every((f) => reports(f).length >= 2), 8_000, { what: `two reports of every ${mode} device after the decision` });
  return new Map(FORMAT_LIST.map((f) => {
    const second = reports(f)[1]!;
    return [f, { reports: reports(f).slice(0, 2), between: seen.filter((m) => m.at >= sentAt && m.at <= second.at) }];
  }));
}

describe("simulated devices under remote commands", () => {
  it("switch off in every format, answer in the format's own topics, and draw nothing, nor does what they feed", async () => {
    for (const format of FORMAT_LIST) {
      const answered = await waitFor(() => seen.find(switchedOff(format, "obey", rpcIdOf(format, "obey"))), 5_000);
      expect(answered, `${format}: the switch-off answer`).toBeTruthy();
    }
    const after = (topic: string) => seen.filter((m) => m.topic === topic && m.at >= sentAt);
    // native: the switch event names the command, and a reading with the open relay comes with it.
    expect(after("campus/devices/nat-obey/telemetry").map((m) => json(m.payload)).at(-1)).toMatchObject({ switch_on: false, power_w: 0, current_a: 0 });
    // Tasmota answers on RESULT too; its next STATE shows the relay open, its next SENSOR no load.
    expect(after("stat/tas_obey/RESULT").map((m) => json(m.payload))).toEqual([{ POWER: "OFF" }]);
    await waitFor(() => after("tele/tas_obey/STATE").some((m) => json(m.payload).POWER === "OFF") && after("tele/tas_obey/SENSOR").length >= 2, 6_000, { what: "Tasmota's next STATE and SENSOR" });
    expect(json(after("tele/tas_obey/SENSOR").at(-1)!.payload).ENERGY).toMatchObject({ Power: 0, Current: 0 });
    // Gen2: the RPC reply on src + "/rpc" with the request's id, and a NotifyStatus with the output.
    const notify = after("g2_obey/events/rpc").map((m) => (json(m.payload).params as Record<string, Record<string, unknown>>)["switch:0"]!);
    expect(notify.find((c) => c.output === false)).toMatchObject({ output: false, apower: 0 });
    // The Gen1 socket below the switched-off breaker keeps its relay closed but has no supply.
    await waitFor(() => after("shellies/g1_below/relay/0/power").some((m) => m.payload === "0"), 6_000, { what: "the socket below without load" });
    expect(after("shellies/g1_below/relay/0").map((m) => m.payload)).not.toContain("off");

    // The ingest stored what they said: no load, the relay open where the format reports it in a reading.
    await stack.flush();
    const obeying = FORMAT_LIST.map((f) => idOf(f, "obey"));
    const stored = await waitFor(async () => {
      await stack.flush();
      const latest = rows(await stack.influx.query(`SELECT last(power_w) AS power_w FROM electrical WHERE phase = '' GROUP BY device`));
      const zero = obeying.every((id) => latest.find((r) => r.device === id)?.power_w === 0);
      return zero ? latest : null;
    }, 8_000);
    expect(stored, "every obeying device stored with no load").toBeTruthy();
    const relays = rows(await stack.influx.query(`SELECT last(switch_on) AS switch_on FROM electrical WHERE phase = '' GROUP BY device`));
    for (const id of ["nat-obey", "g1-obey", "g2-obey", "z2m-obey"]) expect(relays.find((r) => r.device === id)?.switch_on, `${id} switch_on`).toBe(false);
    expect(relays.find((r) => r.device === "g1-below")?.switch_on).toBe(true);

    // The ingest normalised each into a relay report (campus/internal/relay/{device}, RelayReport).
    for (const format of FORMAT_LIST) {
      const id = idOf(format, "obey");
      const open = await waitFor(() => relayReports(id).find((r) => r.on === false), 5_000);
      expect(open, `${id}: a relay report with the relay open`).toBeTruthy();
    }
    expect(relayReports("nat-obey")).toContainEqual(expect.objectContaining({ explicit: true, command_id: "cmd-nat-obey" }));
    expect(relayReports("tas-obey")).toContainEqual(expect.objectContaining({ explicit: true, on: false }));
    expect(relayReports("g2-obey")).toContainEqual(expect.objectContaining({ explicit: true, rpc_id: rpcIdOf("shelly-gen2", "obey") }));
  });

  it("refuse in their format where it has a refusal, keep their relay closed, and go on drawing", async () => {
    const answers = (topic: string) => seen.filter((m) => m.topic === topic && m.at >= sentAt).map((m) => m.payload);
    await waitFor(() => answers("campus/devices/nat-refuse/events").length > 0 && answers("stat/tas_refuse/POWER").length > 0 && answers("campus-power/g2-refuse/rpc").length > 0, 5_000, { what: "the explicit refusals" });
    expect(json(answers("campus/devices/nat-refuse/events")[0]!)).toMatchObject({ type: "fault", reason: "command refused", detail: "cmd-nat-refuse: set to refuse commands" });
    expect(answers("stat/tas_refuse/POWER")).toEqual(["ON"]); // the state it kept
    expect(answers("stat/tas_refuse/RESULT").map(json)).toEqual([{ POWER: "ON" }]);
    expect(json(answers("campus-power/g2-refuse/rpc")[0]!)).toEqual({ id: rpcIdOf("shelly-gen2", "refuse"), src: "g2_refuse", dst: "campus-power/g2-refuse", error: { code: -103, message: "set to refuse commands" } });
    // As the ingest normalised them: explicit answers, with the error or the kept state.
    await waitFor(() => relayReports("nat-refuse").length > 0 && relayReports("g2-refuse").length > 0 && relayReports("tas-refuse").some((r) => r.explicit), 5_000);
    expect(relayReports("nat-refuse")).toContainEqual(expect.objectContaining({ explicit: true, command_id: "cmd-nat-refuse", error: "set to refuse commands" }));
    expect(relayReports("tas-refuse")).toContainEqual(expect.objectContaining({ explicit: true, on: true }));
    expect(relayReports("g2-refuse")).toContainEqual(expect.objectContaining({ explicit: true, rpc_id: rpcIdOf("shelly-gen2", "refuse"), error: expect.stringContaining("set to refuse commands") }));
    const after = await reportsAfterDecision("refuse", "refused");
    for (const format of FORMAT_LIST) {
      const { reports, between } = after.get(format)!;
      for (const report of reports) expect(periodic(format, "refuse").on(report.payload), `${format}: still on after refusing`).toBe(true);
      expect(between.filter(switchedOff(format, "refuse", rpcIdOf(format, "refuse"))), `${format}: no switch-off`).toEqual([]);
    }
  });

  it("ignore: no answer at all, and the relay stays closed", async () => {
    const after = await reportsAfterDecision("ignore", "ignored");
    for (const format of FORMAT_LIST) {
      const id = idOf(format, "ignore");
      const { reports, between } = after.get(format)!;
      for (const report of reports) expect(periodic(format, "ignore").on(report.payload), `${format}: still on`).toBe(true);
      const answers = between.filter((m) => m.topic === `campus/devices/${id}/events` || m.topic.startsWith(`stat/${sourceOf(format, "ignore")}/`) || m.topic === `campus-power/${id}/rpc`);
      expect(answers, `${format}: said nothing`).toEqual([]);
      expect(between.filter(switchedOff(format, "ignore", rpcIdOf(format, "ignore")))).toEqual([]);
    }
  });

  it("slow: act and answer only the delay after the command, in every format", async () => {
    for (const format of FORMAT_LIST) {
      const answer = await waitFor(() => seen.find(switchedOff(format, "slow", rpcIdOf(format, "slow"))), SLOW_MS + 5_000);
      expect(answer, `${format}: the late answer`).toBeTruthy();
      expect(answer!.at - sentAt, `${format}: not before the delay`).toBeGreaterThanOrEqual(SLOW_MS);
      // Meanwhile it reported its relay closed and drawing.
      const meanwhile = seen.filter((m) => m.topic === periodic(format, "slow").topic && m.at >= sentAt && m.at < answer!.at);
      for (const report of meanwhile) expect(periodic(format, "slow").on(report.payload), `${format}: on before it acted`).toBe(true);
    }
    expect((await outcomes()).delayed).toBe(FORMAT_LIST.length);
  });
});
