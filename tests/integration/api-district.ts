// The API on the test district (tests/fixtures/district: north, south and west schools) with something of
// every kind in each school: live readings and statuses, open alerts, announced commands, silences, and in a
// real InfluxDB energy, readings, alert and command history. Its people are named accounts in a real users
// file (a temporary DATA_DIR) behind a real SessionStore: they sign in with POST /api/login. The alerts
// service's side (acks, commands, silences) is a recorder that answers as the alerts service does, so a test
// can see what was sent on.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../api/app.js";
import type { LiveOptions } from "../../api/live/options.js";
import { LiveState } from "../../api/live-state.js";
import { SessionStore } from "../../api/sessions.js";
import { type Account, hashPassword, SALT_BYTES, type ScryptParams } from "../../domain/accounts.js";
import type { Alert } from "../../domain/alert.js";
import type { Command } from "../../domain/command.js";
import { parseApiTokens } from "../../domain/env.js";
import { toLines } from "../../domain/line-protocol.js";
import type { Silence } from "../../domain/silence.js";
import { loadCampus } from "../../infra/campus-file.js";
import { buildingRollupDevices, buildingRollupMeasurement } from "../../infra/energy-rollup.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { updateUsersFile } from "../../infra/users-file.js";
import { freshDatabase } from "../helpers/influx.js";

export const campus = loadCampus("tests/fixtures/district/district.yaml");

/** Monday 2026-11-30 01:30 in Shanghai, 23:30 on Sunday the 29th in Urumqi (the west school's zone). */
export const NOW = Date.parse("2026-11-30T01:30:00+08:00");

export const TOKENS = {
  northViewer: "north-viewer-token-0123456789",
  northOperator: "north-operator-token-0123456789",
  admin: "district-admin-token-0123456789",
};
export const API_TOKENS = `viewer@north-middle:${TOKENS.northViewer},operator@north-middle:${TOKENS.northOperator},admin:${TOKENS.admin}`;
export const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** The district's named accounts (the users file): an operator of each of two schools, a bureau admin, a viewer. */
export const PEOPLE = {
  northOperator: { name: "wang.li", role: "operator", sites: ["north-middle"] },
  southViewer: { name: "zhao.min", role: "viewer", sites: ["south-primary"] },
  bureau: { name: "chen.jing", role: "admin", sites: null },
  northViewer: { name: "li.wei", role: "viewer", sites: ["north-middle"] },
} as const satisfies Record<string, Pick<Account, "name" | "role" | "sites">>;
export const PASSWORD = "correct horse battery staple";
/** scrypt N = 2^10, the least a stored hash may ask for (domain/accounts.ts): a few ms a sign-in, for tests only. */
const TEST_SCRYPT_PARAMS: ScryptParams = { logN: 10, r: 8, p: 1 };

async function accountOf({ name, role, sites }: (typeof PEOPLE)[keyof typeof PEOPLE]): Promise<Account> {
  const at = new Date().toISOString();
  const password_hash = await hashPassword(PASSWORD, randomBytes(SALT_BYTES), TEST_SCRYPT_PARAMS);
  return { name, role, sites: sites && [...sites], password_hash, created_at: at, password_changed_at: at };
}

/** Figures only the south school has: none may appear in an answer to a north principal. */
export const SOUTH_FIGURES = ["4321", "4.321", "9.876", "1.111"];

const iso = (ms: number) => new Date(ms).toISOString();
const alertOf = (id: string, device: string, building: string, site: string, rule: string, severity: Alert["severity"]): Alert => ({
  id, rule, device, building, site, severity, state: "firing", value: 20, threshold: 16, message: `${rule} on ${device}`, started_at: iso(NOW - 600_000), updated_at: iso(NOW - 60_000),
});
export const ALERTS = {
  north: alertOf("north-brk-101.overload.1", "north-brk-101", "north-dorm", "north-middle", "overload", "major"),
  south: alertOf("south-brk-1.leakage.1", "south-brk-1", "south-class", "south-primary", "leakage", "critical"),
};

const commandOf = (device: string, building: string, site: string): Command => ({
  id: `${device}.switch_off.${NOW - 120_000}.1`, device, site, building, room: null, action: "switch_off", reason: "heater", issued_by: "operator:1a2b3c4d",
  state: "confirmed", selected_at: iso(NOW - 120_000), expires_at: iso(NOW - 90_000), sent_at: iso(NOW - 110_000), confirmed_at: iso(NOW - 100_000),
});
export const COMMANDS = { north: commandOf("north-brk-101", "north-dorm", "north-middle"), south: commandOf("south-brk-1", "south-class", "south-primary") };

const silenceOf = (id: string, scope: Silence["scope"]): Silence => ({
  id, scope, starts_at: iso(NOW - 3_600_000), ends_at: iso(NOW + 3_600_000), reason: "works", created_by: "admin:00000000", source: "api",
});
export const SILENCES = {
  north: silenceOf("sil-north", { devices: ["north-brk-101"] }),
  south: silenceOf("sil-south", { devices: ["south-meter"] }),
  both: silenceOf("sil-both", { devices: ["north-feeder", "south-meter"] }),
  everywhere: silenceOf("sil-everywhere", { rules: ["offline"] }),
};

/** Live power of each device, W. */
export const POWER_W: Record<string, number> = { "north-feeder": 1500, "north-class-main": 300, "south-meter": 4321, "west-meter": 700 };

function tagsOf(device: string) {
  const d = campus.deviceById.get(device)!;
  return { device, building: d.building, kind: d.kind, site: d.site, ...(d.room ? { room: d.room } : {}) };
}

/** kWh used in the hour starting at an instant, per device (one point each, the hour's delta). */
export const ENERGY: [string, string, number][] = [
  ["north-feeder", "2026-11-30T00:30:00+08:00", 1.5],
  ["north-feeder", "2026-11-29T23:30:00+08:00", 0.5],
  ["north-class-main", "2026-11-30T00:45:00+08:00", 0.25],
  ["south-meter", "2026-11-30T00:30:00+08:00", 4.321],
  ["south-meter", "2026-11-29T12:00:00+08:00", 9.876],
  ["south-brk-1", "2026-11-30T00:30:00+08:00", 1.111],
  // Today in Urumqi, yesterday in Shanghai; then yesterday in Urumqi.
  ["west-meter", "2026-11-29T21:00:00+06:00", 2],
  ["west-meter", "2026-11-28T23:00:00+06:00", 3],
];

const HOUR_MS = 3_600_000;

/**
 * The rollups as the ingest keeps them (docs/api.md "History sources"): every hour in `rollup_1h`, and the
 * per-building hourly sums of the whole district's counted devices (which the API must cut to the caller's
 * sites): the API reads those for hours older than their lag, raw points for the rest.
 */
async function writeRollups(influx: InfluxClient): Promise<void> {
  await influx.query(`CREATE RETENTION POLICY "rollup_1h" ON "${influx.config.db}" DURATION INF REPLICATION 1`);
  const hourOf = (at: string) => Math.floor(Date.parse(at) / HOUR_MS) * HOUR_MS;
  const hours = ENERGY.map(([device, at, kwh]) => ({ measurement: "electrical", tags: tagsOf(device), fields: { energy_delta_kwh: kwh, power_w_mean: POWER_W[device] ?? 10, power_w_max: POWER_W[device] ?? 10 }, ts: hourOf(at) }));
  const roots = new Set(buildingRollupDevices(campus));
  const buildings = ENERGY.filter(([device]) => roots.has(device)).map(([device, at, kwh]) => ({ measurement: buildingRollupMeasurement(campus), tags: { building: campus.deviceById.get(device)!.building }, fields: { energy_delta_kwh: kwh }, ts: hourOf(at) }));
  await influx.write(toLines([...hours, ...buildings]), "rollup_1h");
}

async function writeHistory(influx: InfluxClient): Promise<void> {
  await writeRollups(influx);
  const points = ENERGY.map(([device, at, kwh]) => ({ measurement: "electrical", tags: tagsOf(device), fields: { energy_delta_kwh: kwh, power_w: POWER_W[device] ?? 10 }, ts: Date.parse(at) }));
  const history = [ALERTS.north, ALERTS.south].map((a) => ({
    measurement: "alert",
    tags: { device: a.device, building: a.building, site: a.site, rule: a.rule, severity: a.severity },
    fields: { alert_id: a.id, state: "firing", message: a.message, value: a.value, threshold: a.threshold },
    ts: NOW - 600_000,
  }));
  const commands = [COMMANDS.north, COMMANDS.south].map((c) => ({
    measurement: "command",
    tags: { device: c.device, building: c.building, site: c.site, action: c.action, state: c.state },
    fields: { command_id: c.id, issued_by: c.issued_by, reason: c.reason, selected_at: c.selected_at, expires_at: c.expires_at, sent_at: c.sent_at!, confirmed_at: c.confirmed_at! },
    ts: NOW - 100_000,
  }));
  await influx.write(toLines([...points, ...history, ...commands]));
}

/** What reached the alerts service's side, as JSON text (so a test can look for an id anywhere in it). */
export const sentOn: string[] = [];

export interface DistrictApp {
  app: FastifyInstance;
  state: LiveState;
  influx: InfluxClient;
  sessions: SessionStore;
  /** Signs a person in with POST /api/login; the session's bearer token. */
  login(person: { name: string }): Promise<string>;
  /** Changes a person's sites in the users file, as an admin editing it would. */
  setSites(person: { name: string }, sites: string[] | null): Promise<void>;
}

export async function districtApp(live: Partial<LiveOptions> = {}): Promise<DistrictApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "api-district-"));
  const usersFile = join(dataDir, "users.json");
  const accounts = await Promise.all(Object.values(PEOPLE).map(accountOf));
  await updateUsersFile(usersFile, () => ({ version: 1, users: accounts }));
  const sessions = new SessionStore({ usersFile, sessionsFile: join(dataDir, "sessions.json"), log: createLogger("silent") });
  const influx = await freshDatabase("api_district");
  await writeHistory(influx);
  const state = new LiveState(campus);
  for (const device of campus.devices) state.applyStatus({ device: device.id, ts: NOW - 5_000, online: true });
  for (const [device, power_w] of Object.entries(POWER_W)) state.applyReading({ device, ts: NOW - 5_000, values: { power_w } });
  for (const alert of Object.values(ALERTS)) state.applyAlert(alert.device, alert.rule, alert, NOW);
  for (const command of Object.values(COMMANDS)) state.applyCommand(JSON.stringify(command));
  state.applySilences(JSON.stringify(Object.values(SILENCES)));
  const app = buildApp({
    campus,
    tokens: parseApiTokens(API_TOKENS),
    sessions,
    state,
    influx,
    // Answers as the alerts service does (alerts/lifecycle.ts, alerts/commands/requests.ts, alerts/silences.ts).
    ack: async (request) => {
      sentOn.push(JSON.stringify(request));
      const open = state.openAlert(request.alert_id);
      return open ? { ok: true, alert: { ...open, state: "acknowledged", acknowledged_by: request.by } } : { ok: false, code: "NOT_FOUND", message: `no open alert "${request.alert_id}"` };
    },
    command: async (request) => {
      sentOn.push(JSON.stringify(request));
      if (request.step === "select") {
        const device = campus.deviceById.get(request.device);
        if (device === undefined) return { ok: false, code: "NOT_FOUND", message: `no device "${request.device}"` };
        return { ok: true, command: { ...commandOf(device.id, device.building, device.site), state: "selected" } };
      }
      const known = state.commands.get(request.command_id);
      return known ? { ok: true, command: { ...known, state: request.step === "operate" ? "sent" : "cancelled" } } : { ok: false, code: "NOT_FOUND", message: `no command "${request.command_id}"` };
    },
    silence: async (request) => {
      sentOn.push(JSON.stringify(request));
      if (request.action === "create") return { ok: true, silence: { ...silenceOf("sil-new", request.silence.scope), reason: request.silence.reason } };
      const known = state.silences().find((s) => s.id === request.silence_id);
      return known ? { ok: true, silence: { ...known, ended_at: iso(NOW) } } : { ok: false, code: "NOT_FOUND", message: `no current silence with id "${request.silence_id}"` };
    },
    probes: { mqtt: () => true, influxdb: () => influx.ping() },
    metrics: createRegistry(false),
    log: createLogger("silent"),
    now: () => NOW,
    live,
  });
  app.addHook("onClose", async () => {
    await sessions.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await app.ready();
  const login = async ({ name }: { name: string }) => {
    const answer = await app.inject({ method: "POST", url: "/api/login", payload: { username: name, password: PASSWORD } });
    if (answer.statusCode !== 200) throw new Error(`${name} could not sign in: ${answer.statusCode} ${answer.body}`);
    return (answer.json() as { token: string }).token;
  };
  const setSites = async ({ name }: { name: string }, sites: string[] | null) => {
    await updateUsersFile(usersFile, (file) => ({ ...file, users: file.users.map((user) => (user.name === name ? { ...user, sites } : user)) }));
  };
  return { app, state, influx, sessions, login, setSites };
}
