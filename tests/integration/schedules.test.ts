// Schedules (定时通断电, CONTRACT §10) against the real stack: real broker and ingest, the real alerts service
// with an injected wall clock (so a schedule's minute comes at once), real influxd, and simulated devices of every
// format that obey their commands. A schedule fires at its minute and every matching room is switched and
// confirmed by its device, at most SCHEDULE_RATE a second; a run missed while the service was down, or
// jumped over by the clock, is never run late and the log says which; check-config refuses a schedule
// that would reach a protected device.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import type { Command } from "../../domain/command.js";
import { parseCampusText } from "../../domain/campus.js";
import { readEnv } from "../../domain/env.js";
import { wallClock } from "../../domain/time-zone.js";
import { internalTopic } from "../../domain/topics.js";
import { rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import { type RunningSimulator, startSimulator } from "../../simulator/index.js";
import { runCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { GROUP_KEY, SERVICE_PASSWORD, type Stack, startStack } from "./simulator-stack.js";

const ZONE = "Asia/Shanghai";
const RATE = 4;
/** One dormitory room breaker per format (two of each), each in its own room, reporting every 2 s. */
const FORMATS = ["native", "tasmota", "shelly-gen2", "shelly-gen1", "zigbee2mqtt"] as const;
const ROOMS = FORMATS.flatMap((format, f) => [1, 2].map((k) => ({ id: `brk-${100 + f * 10 + k}`, room: String(100 + f * 10 + k), format })));

/** The campus; the alerts service is given the schedules' minutes each time it starts (the devices stay the same). */
function campusYaml(lightsOutAt = "03:00", markerAt = "03:15"): string {
  const device = (d: (typeof ROOMS)[number]) =>
    `  - { id: ${d.id}, kind: breaker, building: dorm-1, room: "${d.room}", parent: brk-main, rating_a: 16, report_interval_s: 2${d.format === "native" ? "" : `, format: ${d.format}, source: src_${d.id.replace(/-/g, "_")}`} }`;
  const rooms = ROOMS.map((d) => `"${d.room}"`).join(", ");
  return `site: { id: sched-school, name: Schedule School, timezone: ${ZONE}, nominal_voltage_v: 220 }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, room: "1F board", rating_a: 100, report_interval_s: 2 }
${ROOMS.map(device).join("\n")}
  - { id: brk-corridor-light, kind: breaker, building: dorm-1, room: corridor, parent: brk-main, rating_a: 10, report_interval_s: 2 }
  - { id: brk-emergency-light, kind: breaker, building: dorm-1, room: stairs, parent: brk-main, rating_a: 10, report_interval_s: 2, protected: true }
schedules:
  - { id: lights-out, name: Lights out, action: switch_off, at: "${lightsOutAt}", days: [sun, mon, tue, wed, thu, fri, sat], buildings: [dorm-1], kinds: [breaker], rooms: [${rooms}] }
  - { id: marker, name: Marker, action: switch_on, at: "${markerAt}", days: [sun, mon, tue, wed, thu, fri, sat], devices: [brk-101] }
`;
}

const MIN = 60_000;
const DAY = 86_400_000;
/** A minute boundary, as the schedule's "HH:MM" in the site's zone and its local date. */
const hhmm = (epochMs: number) => {
  const w = wallClock(epochMs, ZONE);
  return `${String(w.hour).padStart(2, "0")}:${String(w.minute).padStart(2, "0")}`;
};
const localDate = (epochMs: number) => {
  const w = wallClock(epochMs, ZONE);
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
};
const nextMinute = (epochMs: number) => Math.ceil(epochMs / MIN) * MIN;

let dir: string;
let stack: Stack;
let simulator: RunningSimulator;
let watcher: MqttClient;
let alerts: RunningAlerts | null = null;
/** The fake wall clock: real time shifted by `offset`, ms. */
let offset = 0;
const fakeNow = () => Date.now() + offset;
/** The lights-out run the first test sees, epoch ms. */
let firstRun = 0;
/** The schedules' instants the restarted service was given, epoch ms. */
let lightsOut = 0;
let marker = 0;
const commands: { command: Command; at: number }[] = [];
const logs: Record<string, unknown>[] = [];

/** Starts the alerts service with the fake clock at `fakeInstant` and the schedules at these minutes. */
async function startAlertsAt(fakeInstant: number, lightsOut: number, marker: number): Promise<void> {
  const parsed = parseCampusText(campusYaml(hhmm(lightsOut), hhmm(marker)));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  offset = fakeInstant - Date.now();
  const env = readEnv({
    DATA_DIR: join(dir, "data"), LOG_LEVEL: "info", SERVICE_PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY,
    INFLUX_URL: influxUrl(), INFLUX_DB: stack.influx.config.db, MQTT_URL: stack.mqttUrl, SCHEDULE_RATE: String(RATE),
  });
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  alerts = await startAlerts({ env, campus: parsed.campus, log: pino({ level: "info" }, sink), metrics: stack.metrics }, { influx: stack.influx, now: fakeNow, tickMs: 100 });
}
async function stopAlerts(): Promise<void> {
  await alerts?.stop();
  alerts = null;
}
const scheduleLogs = () => logs.filter((l) => l.part === "schedules").map((l) => String(l.msg));
const byIssuer = (by: string, sinceWallMs = 0) => commands.filter((c) => c.command.issued_by === by && c.at >= sinceWallMs).map((c) => c.command);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-schedules-"));
  const campusFile = join(dir, "campus.yaml");
  writeFileSync(campusFile, campusYaml());
  stack = await startStack(campusFile);
  watcher = await connectService(stack.mqttUrl, SERVICE_PASSWORD, "schedules-watcher");
  watcher.on("message", (_topic, payload) => commands.push({ command: JSON.parse(payload.toString()) as Command, at: Date.now() }));
  await watcher.subscribeAsync(internalTopic.commands, { qos: 1 });
  simulator = await startSimulator({ campus: stack.campus, mqttUrl: stack.mqttUrl, deviceGroupKey: GROUP_KEY, log: createLogger("silent"), seed: 5 });
  expect(simulator.connected).toBe(stack.campus.devices.length);
  // The fake clock stays within 20 s behind and 40 s ahead of the devices' clocks: a native device does not
  // act on a command past its `expires_at` (30 s after selection), and a periodic report older than a
  // command by over 60 s confirms nothing (alerts/commands/reports.ts).
  firstRun = nextMinute(Date.now() - 18_000);
  await startAlertsAt(firstRun - 2_000, firstRun, firstRun + 30 * MIN);
}, 60_000);

afterAll(async () => {
  await stopAlerts();
  await simulator?.stop();
  await watcher?.endAsync(true);
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a schedule at its minute", () => {
  it("switches every matching room, each confirmed by its device, at most SCHEDULE_RATE a second, audited", { timeout: 60_000 }, async () => {
    const confirmed = () => byIssuer("schedule:lights-out").filter((c) => c.state === "confirmed");
    await waitFor(() => confirmed().length === ROOMS.length, 30_000, { what: "every room's lights-out confirmed" });
    const changes = byIssuer("schedule:lights-out");
    expect(new Set(confirmed().map((c) => c.device))).toEqual(new Set(ROOMS.map((r) => r.id)));
    // Not before its minute; each device once; corridor, emergency lighting and the building breaker untouched.
    const sent = changes.filter((c) => c.state === "sent");
    expect(sent.map((c) => c.device).sort()).toEqual(ROOMS.map((r) => r.id).sort());
    const sentAt = sent.map((c) => Date.parse(c.sent_at!)).sort((a, b) => a - b);
    expect(sentAt[0]).toBeGreaterThanOrEqual(firstRun);
    for (let i = 0; i + RATE < sentAt.length; i++) expect(sentAt[i + RATE]! - sentAt[i]!, `commands ${i}..${i + RATE}`).toBeGreaterThanOrEqual(1_000);
    expect(confirmed().every((c) => c.action === "switch_off" && c.reason === `Lights out (schedule lights-out, ${localDate(firstRun)} ${hhmm(firstRun)} ${ZONE})`)).toBe(true);
    expect(commands.some((c) => ["brk-main", "brk-corridor-light", "brk-emergency-light"].includes(c.command.device))).toBe(false);
    expect(scheduleLogs()).toContain(`schedule lights-out at ${localDate(firstRun)} ${hhmm(firstRun)} (${ZONE}) runs: switch_off on ${ROOMS.length} devices, at most ${RATE} a second`);
    // Audited like any other command: the InfluxDB `command` measurement, by who and why.
    const stored = await waitFor(async () => {
      const found = rows(await stack.influx.query(`SELECT * FROM command WHERE issued_by = 'schedule:lights-out' AND "state" = 'confirmed'`));
      return found.length === ROOMS.length ? found : null;
    }, 10_000, { what: "the confirmed commands in InfluxDB" });
    expect(stored!.every((row) => row.action === "switch_off" && String(row.reason).startsWith("Lights out"))).toBe(true);
  });
});

describe("a run the service did not see in its minute", () => {
  it("is not run late after the service was down over it, and the log says which run was missed", { timeout: 60_000 }, async () => {
    await stopAlerts();
    const stoppedAt = fakeNow();
    // Back two minutes later: the lights-out is now at the first minute after the stop, the marker a minute on.
    lightsOut = nextMinute(stoppedAt + 1);
    marker = lightsOut + MIN;
    const restartedAt = Date.now();
    await startAlertsAt(marker - 2_000, lightsOut, marker);
    expect(scheduleLogs()).toContain(`schedule lights-out at ${localDate(lightsOut)} ${hhmm(lightsOut)} (${ZONE}) was missed: the alerts service was not running then; it is not run late`);
    // The marker's run 2 s later is the proof nothing else came first: commands are announced in order.
    await waitFor(() => byIssuer("schedule:marker", restartedAt).some((c) => c.state === "confirmed"), 15_000, { what: "the marker's command" });
    expect(byIssuer("schedule:lights-out", restartedAt)).toEqual([]);
  });

  it("is not run late after the wall clock jumped over it, and the log says which run was missed", { timeout: 60_000 }, async () => {
    const jumpedAt = Date.now();
    // A day on, 61 s past that day's lights-out: seen too late, it is missed; the marker a minute after it is due.
    offset = lightsOut + DAY + 61_000 - Date.now();
    const missed = `schedule lights-out at ${localDate(lightsOut + DAY)} ${hhmm(lightsOut)} (${ZONE}) was missed: the wall clock jumped, or the service was stalled, past it; it is not run late`;
    await waitFor(() => byIssuer("schedule:marker", jumpedAt).some((c) => c.state === "confirmed"), 15_000, { what: "the marker's command after the jump" });
    expect(scheduleLogs()).toContain(missed);
    expect(byIssuer("schedule:lights-out", jumpedAt)).toEqual([]);
  });
});

describe("check-config", () => {
  it("refuses a schedule that would reach a protected device, naming the schedule and the device", () => {
    const file = join(dir, "unsafe.yaml");
    writeFileSync(file, campusYaml().replace(/rooms: \[[^\]]*\] \}\n/, "} \n"));
    const { status, stdout } = runCli(["check-config", file]);
    expect(status).toBe(1);
    expect(stdout).toContain('schedules[0]: schedule "lights-out" (Lights out) would switch brk-emergency-light: brk-emergency-light is protected: it must stay on and cannot be switched remotely');
    expect(stdout).toContain('schedules[0]: schedule "lights-out" (Lights out) would switch brk-main: brk-main feeds protected brk-emergency-light');
  });
});
