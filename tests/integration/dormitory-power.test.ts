// The dormitory power rule (CONTRACT §10) against the real stack: real broker, ingest, alerts service, API and
// influxd, and dormitory room breakers as real mqtt.js clients with their own credentials that obey their
// commands as a native device does (the `switch` event naming the command, then a reading with `switch_on`)
// and draw their load only while on. A heater left on is cut off by `rule:malignant-load`, restored after
// `restore_after`, cut again, and after the day's last restore stays off until a person switches it on; the
// alert and the command name each other; fire-related alerts never switch anything, even when a campus
// built by hand asks them to.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import mqtt from "mqtt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { startApi, type RunningApi } from "../../api/index.js";
import type { Alert } from "../../domain/alert.js";
import type { Campus } from "../../domain/campus.js";
import { FIRE_RELATED_RULES } from "../../domain/campus-alerts.js";
import type { Command } from "../../domain/command.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { internalTopic } from "../../domain/topics.js";
import { rows } from "../../infra/influx.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { GROUP_KEY, SERVICE_PASSWORD, type Stack, startStack } from "./simulator-stack.js";

const OPERATOR = "operator-token-for-dormitory-power-01";
const RESTORE_S = 2;
const HEATER_W = 2100;
const IDLE_W = 100;

/** A fixed-offset zone where it is about noon now, so the test never straddles the site's midnight (restores count per local day). */
function noonZone(): string {
  const offset = 12 - new Date().getUTCHours(); // −11 … +12
  return offset === 0 ? "Etc/GMT" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`; // POSIX: Etc/GMT-8 is UTC+8
}

const CAMPUS = () => `site: { id: power-school, name: Power Rule School, timezone: ${noonZone()}, nominal_voltage_v: 220 }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, room: "1F board", rating_a: 100, report_interval_s: 1 }
${["201", "202", "203", "204"].map((room) => `  - { id: brk-${room}, kind: breaker, building: dorm-1, room: "${room}", parent: brk-main, rating_a: 16, rcd_ma: 30, report_interval_s: 1 }`).join("\n")}
alerts:
  building_kinds:
    dormitory:
      # Quick, so a test sees whole cycles: a heater is a heater after 1 s; the alert clears 1 s after the room goes dark.
      rules:
        malignant-load: { hold_s: 1, clear_hold_s: 1 }
        power-limit: { disabled: true }
        leakage: { major_hold_s: 0, warning_hold_s: 0 }
        overtemperature: { hold_s: 0 }
      actions:
        malignant-load: { switch_off: true, restore_after: ${RESTORE_S}s, max_restores_per_day: 2 }
`;

/** A room breaker as a real MQTT client: reports every 250 ms, draws its load only while on, obeys commands. */
interface Room {
  id: string;
  on: boolean;
  loadW: number;
  client: mqtt.MqttClient;
  timer: NodeJS.Timeout;
  report(extra?: Record<string, number | boolean>): void;
  event(body: Record<string, unknown>): void;
}

let dir: string;
let stack: Stack;
let campus: Campus;
let alerts: RunningAlerts;
let api: RunningApi;
let watcher: MqttClient;
const rooms = new Map<string, Room>();
const commands: Command[] = [];
const alertMessages: Alert[] = [];
const logs: Record<string, unknown>[] = [];

async function connectRoom(id: string): Promise<Room> {
  const client = await mqtt.connectAsync(stack.mqttUrl, { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
  const room: Room = {
    id,
    on: true,
    loadW: IDLE_W,
    client,
    timer: setInterval(() => room.report(), 250),
    report: (extra = {}) => {
      const power = room.on ? room.loadW : 0;
      const body = { ts: Date.now(), power_w: power, current_a: power / 220, voltage_v: 220, power_factor: 1, switch_on: room.on, ...extra };
      void client.publishAsync(`campus/devices/${id}/telemetry`, JSON.stringify(body), { qos: 1 });
    },
    event: (body) => void client.publishAsync(`campus/devices/${id}/events`, JSON.stringify({ ts: Date.now(), ...body }), { qos: 1 }),
  };
  client.on("message", (_topic, payload) => {
    const command = JSON.parse(payload.toString()) as { id: string; action: string };
    room.on = command.action === "switch_on";
    room.event({ type: "switch", reason: "remote", detail: command.id });
    room.report();
  });
  await client.subscribeAsync(`campus/devices/${id}/commands`, { qos: 1 });
  await client.publishAsync(`campus/devices/${id}/status`, "online", { qos: 1, retain: true });
  rooms.set(id, room);
  return room;
}

const ruleCommands = (device: string) => commands.filter((c) => c.device === device && c.issued_by === "rule:malignant-load");
const ended = (device: string) => ruleCommands(device).filter((c) => c.state === "confirmed").map((c) => c.action);
const ruleLogs = () => logs.filter((l) => l.part === "power-rule").map((l) => String(l.msg));

async function person(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "campus-dorm-power-"));
  writeFileSync(join(dir, "campus.yaml"), CAMPUS());
  stack = await startStack(join(dir, "campus.yaml"));
  // Built by hand, past the file's check: every fire-related rule is told to switch too (it must not).
  const dormitory = stack.campus.alerts.buildingKinds.dormitory!;
  const fireActions = Object.fromEntries(FIRE_RELATED_RULES.map((rule) => [rule, { restoreAfterMs: 1_000, maxRestoresPerDay: 5 }]));
  campus = { ...stack.campus, alerts: { ...stack.campus.alerts, buildingKinds: { dormitory: { ...dormitory, actions: { ...dormitory.actions, ...fireActions } } } } };
  const env = readEnv({
    DATA_DIR: join(dir, "data"), LOG_LEVEL: "info", SERVICE_PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY, API_TOKENS: `operator:${OPERATOR}`,
    INFLUX_URL: influxUrl(), INFLUX_DB: stack.influx.config.db, MQTT_URL: stack.mqttUrl,
  });
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  const ctx = { env, campus, log: pino({ level: "info" }, sink), metrics: stack.metrics };
  watcher = await connectService(stack.mqttUrl, SERVICE_PASSWORD, "dorm-power-watcher");
  watcher.on("message", (topic, payload) => {
    if (payload.length === 0) return;
    if (topic === internalTopic.commands) commands.push(JSON.parse(payload.toString()) as Command);
    else alertMessages.push(JSON.parse(payload.toString()) as Alert);
  });
  await watcher.subscribeAsync({ [internalTopic.commands]: { qos: 1 }, "campus/alerts/+/+": { qos: 1 } });
  alerts = await startAlerts(ctx, { influx: stack.influx, tickMs: 100 });
  api = await startApi(ctx, { influx: stack.influx, port: 0, host: "127.0.0.1" });
  for (const room of ["201", "202", "203", "204"]) await connectRoom(`brk-${room}`);
  // Every room's idle load is the rules' baseline before any heater comes on.
  await waitFor(() => [...rooms.keys()].every((id) => (alerts.state().devices[id]?.track.gaps ?? 0) >= 2), 10_000, { what: "the rooms' first readings" });
}, 60_000);

afterAll(async () => {
  for (const room of rooms.values()) {
    clearInterval(room.timer);
    await room.client.endAsync(true);
  }
  await watcher?.endAsync(true);
  await api?.stop();
  await alerts?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the dormitory power rule", () => {
  it("cuts a heater's room off, restores it after restore_after, and after the day's last restore leaves it off", { timeout: 60_000 }, async () => {
    rooms.get("brk-201")!.loadW = HEATER_W;
    // Left on, the heater is cut, restored, cut, restored, cut: the third cut-off is the day's last.
    await waitFor(() => ended("brk-201").length === 5, 40_000, { what: "three cut-offs and two restores, each confirmed by the device" });
    expect(ended("brk-201")).toEqual(["switch_off", "switch_on", "switch_off", "switch_on", "switch_off"]);
    const confirmed = ruleCommands("brk-201").filter((c) => c.state === "confirmed");
    // Each restore came restore_after after its cut-off (confirmed, i.e. after the device's word).
    for (const k of [1, 3]) expect(Date.parse(confirmed[k]!.sent_at!) - Date.parse(confirmed[k - 1]!.sent_at!)).toBeGreaterThanOrEqual(RESTORE_S * 1000);
    expect(rooms.get("brk-201")!.on).toBe(false);

    // No third restore: the marker is another room's first restore, whose cut-off came after this room's last.
    rooms.get("brk-202")!.loadW = HEATER_W;
    await waitFor(() => ended("brk-202").includes("switch_on"), 20_000, { what: "room 202's restore" });
    expect(ended("brk-201")).toHaveLength(5);
    expect(rooms.get("brk-201")!.on).toBe(false);
    rooms.get("brk-202")!.loadW = IDLE_W;
  });

  it("links each alert and its cut-off: the command names the alert, the alert carries the command", async () => {
    const cutOffs = ruleCommands("brk-201").filter((c) => c.state === "confirmed" && c.action === "switch_off");
    for (const command of cutOffs) {
      const alert = alertMessages.find((a) => a.id === command.alert_id && a.state === "firing");
      expect(alert, `the alert of ${command.id}`).toMatchObject({ rule: "malignant-load", device: "brk-201", command_id: command.id });
    }
    // A restore names the alert whose cut-off it undoes.
    const restores = ruleCommands("brk-201").filter((c) => c.state === "confirmed" && c.action === "switch_on");
    expect(restores.map((c) => c.alert_id)).toEqual(cutOffs.slice(0, 2).map((c) => c.alert_id));
    // The alert's InfluxDB point carries the command too.
    const stored = await waitFor(async () => rows(await stack.influx.query(`SELECT * FROM alert WHERE device = 'brk-201' AND rule = 'malignant-load'`)).filter((r) => r.command_id !== null), 10_000);
    expect(new Set(stored.map((r) => r.command_id))).toEqual(new Set(cutOffs.map((c) => c.id)));
  });

  it("is brought back by a person's switch-on, and only then lets go of the room", { timeout: 30_000 }, async () => {
    rooms.get("brk-201")!.loadW = IDLE_W; // the heater was taken away
    const selected = await person("POST", "/api/commands", { device: "brk-201", action: "switch_on", reason: "heater confiscated, room checked" });
    expect(selected.status).toBe(201);
    expect((await person("POST", `/api/commands/${selected.json.id}/operate`)).status).toBe(202);
    await waitFor(() => commands.some((c) => c.id === selected.json.id && c.state === "confirmed"), 10_000, { what: "the person's switch-on confirmed" });
    expect(rooms.get("brk-201")!.on).toBe(true);
    await waitFor(() => ruleLogs().some((m) => m.startsWith("operator:") && m.endsWith("switched brk-201 on: the rule no longer holds it off")), 5_000, { what: "the rule letting go" });
  });
});

describe("fire-related rules", () => {
  it("never switch anything, even when the campus (built by hand) tells them to", { timeout: 30_000 }, async () => {
    const room = rooms.get("brk-203")!;
    const since = commands.length;
    room.report({ leakage_ma: 28, temperature_c: 95 }); // 0.93 IΔn of its 30 mA RCD; 95 °C
    room.event({ type: "trip", reason: "overload" });
    room.event({ type: "arc" });
    const open = () => new Set(alertMessages.filter((a) => a.device === "brk-203" && a.state === "firing").map((a) => a.rule));
    await waitFor(() => FIRE_RELATED_RULES.every((rule) => open().has(rule)), 10_000, { what: "every fire-related alert open on brk-203" });
    // The marker: a heater in room 204 is cut off by the rule that may switch; anything the fire alerts did came before.
    rooms.get("brk-204")!.loadW = HEATER_W;
    await waitFor(() => ruleCommands("brk-204").some((c) => c.action === "switch_off"), 10_000, { what: "room 204's cut-off" });
    const after = commands.slice(since);
    expect(after.filter((c) => c.device === "brk-203")).toEqual([]);
    expect(after.filter((c) => FIRE_RELATED_RULES.some((rule) => c.issued_by === `rule:${rule}`))).toEqual([]);
    expect(room.on).toBe(true);
    rooms.get("brk-204")!.loadW = IDLE_W;
  });
});
