// The school calendar against the real stack (CONTRACT §11, issue 13): over a holiday the after-hours share
// of GET /api/energy is 100 % for a classroom building, while a school day keeps its lessons' hours; and
// `campus-power check-config` lists each calendar problem with its file and path, and `up` starts nothing.
// Real broker, the suite's influxd (a fresh database), the real ingest (rollups and their catch-up), the
// real API over HTTP, a real mqtt.js device publishing buffered readings (CONTRACT §3) with past timestamps.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Static } from "@sinclair/typebox";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type RunningApi } from "../../api/index.js";
import type { EnergySchema } from "../../api/routes/energy.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { localDateOf, weekdayOf } from "../../domain/calendar.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { freePort } from "../../infra/free-port.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { startIngest, type RunningIngest } from "../../ingest/index.js";
import { runCli } from "../helpers/cli.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const TZ = "Asia/Shanghai";
const DAY_MS = 86_400_000;
const GROUP_KEY = "calendar-group-key-0123456789abcdef";
const VIEWER = "viewer-token-calendar-012345";
/** The test campus's classroom block: its feeder breaker meters (kWh counter), a socket below it. */
const CLASSROOM_FEEDER = "brk-c1-main";

/** The latest Monday–Friday at least two local days ago: a holiday inside the raw retention, not a weekend anyway. */
function recentWeekday(beforeMs: number): string {
  let ms = beforeMs;
  while (weekdayOf(localDateOf(ms, TZ)) === 0 || weekdayOf(localDateOf(ms, TZ)) === 6) ms -= DAY_MS;
  return localDateOf(ms, TZ);
}
const HOLIDAY = recentWeekday(Date.now() - 2 * DAY_MS);
/** A school day to compare: the weekday before the holiday. */
const SCHOOL_DAY = recentWeekday(Date.parse(`${HOLIDAY}T12:00:00+08:00`) - DAY_MS);
const shiftDate = (date: string, days: number) => localDateOf(Date.parse(`${date}T12:00:00+08:00`) + days * DAY_MS, TZ);
/** One term around both days, the holiday a single day of it. */
const CALENDAR = `calendar:
  terms: [ { name: this term, from: ${shiftDate(HOLIDAY, -40)}, to: ${shiftDate(HOLIDAY, 60)} } ]
  holidays: [ ${HOLIDAY} ]
`;

const dir = mkdtempSync(join(tmpdir(), "campus-calendar-"));
const campusFile = join(dir, "campus.yaml");
let broker: RunningBroker;
let ingest: RunningIngest;
let api: RunningApi;
let device: MqttClient;

const portIsClosed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });

/** Local midnight of a date, epoch ms (Asia/Shanghai is UTC+8 all year). */
const midnight = (date: string) => Date.parse(`${date}T00:00:00+08:00`);

/** 24 readings at half past each local hour of a day, the counter rising 1 kWh an hour. */
const dayOfReadings = (date: string, startKwh: number) =>
  Array.from({ length: 24 }, (_, hour) => ({ ts: midnight(date) + hour * 3_600_000 + 1_800_000, power_w: 1000, energy_kwh: startKwh + hour }));

beforeAll(async () => {
  writeFileSync(campusFile, `${readFileSync("tests/fixtures/test-campus.yaml", "utf8")}\n${CALENDAR}`);
  const campus = loadCampus(campusFile);
  const influx = await freshDatabase("calendar");
  const env = readEnv({
    CAMPUS_CONFIG: campusFile, DATA_DIR: dir, DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD: "service-password-calendar",
    API_TOKENS: `viewer:${VIEWER}`, HTTP_PORT: "0", INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, LOG_LEVEL: "silent",
  });
  const base = { campus, log: createLogger("silent") };
  broker = await startBroker({ ...base, env, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  const ctx: ServiceContext = { ...base, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }, metrics: createRegistry(false) };
  ingest = await startIngest(ctx, { influx, clientId: "ingest-calendar" });
  api = await startApi({ ...ctx, metrics: createRegistry(false) }, { influx, host: "127.0.0.1" });
  device = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
    protocolVersion: 4, clientId: `${CLASSROOM_FEEDER}-${randomBytes(3).toString("hex")}`, username: CLASSROOM_FEEDER, password: devicePassword(CLASSROOM_FEEDER, GROUP_KEY), reconnectPeriod: 0,
  });
  // The feeder flushes what it buffered (CONTRACT §3): the school day, then the holiday, each as one array.
  // The counter goes on: the holiday's 00:30 reading is 1 kWh above the school day's last.
  for (const readings of [dayOfReadings(SCHOOL_DAY, 100), dayOfReadings(HOLIDAY, 124)]) {
    await device.publishAsync(`campus/devices/${CLASSROOM_FEEDER}/telemetry`, JSON.stringify(readings), { qos: 1 });
  }
}, 40_000);

afterAll(async () => {
  await device?.endAsync(true).catch(() => undefined);
  await api?.stop();
  await ingest?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const energyOfDay = async (date: string) => {
  const res = await fetch(`${api.url}/api/energy?by=building&every=1d&from=${midnight(date)}&to=${midnight(date) + DAY_MS}`, { headers: { authorization: `Bearer ${VIEWER}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as Static<typeof EnergySchema>;
  return body.series.find((s) => s.key === "class-1");
};

describe("the after-hours share over the school calendar", () => {
  it("counts a classroom building's whole holiday after hours: 100 %", async () => {
    // 24 deltas of 1 kWh, each in the hour of its later reading (00:30 … 23:30), 15 of them in lesson hours.
    await waitFor(async () => (await energyOfDay(HOLIDAY))?.total_kwh === 24, 20_000, { intervalMs: 250, what: `the holiday ${HOLIDAY} stored and rolled up` });
    expect(await energyOfDay(HOLIDAY)).toMatchObject({ total_kwh: 24, after_hours_kwh: 24, after_hours_share: 1 });
  }, 30_000);

  it("keeps a school day's lessons out of it: only the hours outside 07:00–22:00", async () => {
    await waitFor(async () => (await energyOfDay(SCHOOL_DAY))?.total_kwh === 23, 20_000, { intervalMs: 250, what: `the school day ${SCHOOL_DAY} stored and rolled up` });
    // Its first reading starts the counter: 23 deltas (01:30 … 23:30), of which hours 01–06 and 22–23 lie
    // outside the classroom default 07:00–22:00 (domain/occupancy.ts): 8 kWh.
    expect(await energyOfDay(SCHOOL_DAY)).toMatchObject({ total_kwh: 23, after_hours_kwh: 8, after_hours_share: 0.3478 });
  }, 30_000);
});

describe("check-config and a bad calendar", () => {
  const badSchool = `site: { id: bad-school, name: Bad School, timezone: Asia/Shanghai }
buildings: [ { id: bad-teach, name: Teaching, kind: classroom } ]
devices: []
calendar:
  terms:
    - { name: autumn, from: 2026-09-01, to: 2026-08-31 }
    - { name: spring, from: 2027-02-22, to: 2027-07-09 }
    - { name: summer school, from: 2027-07-01, to: 2027-07-31 }
  holidays: [ 2126-10-01, 2027-02-30, { from: 2027-05-05, to: 2027-05-01 } ]
  workdays: [ 2027-04-26 ]
`;

  it("lists each calendar problem with its file and path, and exits 1", () => {
    writeFileSync(join(dir, "bad-school.yaml"), badSchool);
    const district = join(dir, "district.yaml");
    writeFileSync(district, "district: { id: d, name: D }\nsites: [ bad-school.yaml ]\n");
    const { status, stdout } = runCli(["check-config", district]);
    expect(status).toBe(1);
    expect(stdout).toContain("6 problems");
    expect(stdout).toContain("bad-school.yaml: calendar.terms[0].to: the term ends (2026-08-31) before it starts (2026-09-01)");
    expect(stdout).toContain('bad-school.yaml: calendar.terms[2]: term "summer school" (2027-07-01 to 2027-07-31) overlaps terms[1] "spring" (2027-02-22 to 2027-07-09)');
    expect(stdout).toContain("bad-school.yaml: calendar.holidays[0]: 2126-10-01 is outside the years 2000–2099 a calendar may name");
    expect(stdout).toContain("bad-school.yaml: calendar.holidays[1]: 2027-02-30 is not a date of the calendar");
    expect(stdout).toContain("bad-school.yaml: calendar.holidays[2].to: the holiday ends (2027-05-01) before it starts (2027-05-05)");
    expect(stdout).toContain("bad-school.yaml: calendar.workdays[0]: 2027-04-26 is a Monday: a make-up workday (调休) must be a Saturday or Sunday");
  });

  it("starts nothing with it: `up` stops before anything listens", async () => {
    const file = join(dir, "bad-campus.yaml");
    writeFileSync(file, badSchool);
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const { status, stderr } = runCli(["up"], {
      CAMPUS_CONFIG: file, MQTT_PORT: String(mqttPort), HTTP_PORT: String(httpPort), DATA_DIR: dir,
      DEVICE_GROUP_KEY: "k".repeat(32), SERVICE_PASSWORD: "s".repeat(20), API_TOKENS: `admin:${"a".repeat(20)}`,
    });
    expect(status).toBe(1);
    expect(stderr).toContain("calendar.workdays[0]: 2027-04-26 is a Monday");
    expect(await Promise.all([mqttPort, httpPort].map(portIsClosed))).toEqual([true, true]);
  });
});
