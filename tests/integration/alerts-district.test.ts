// The district in the alerts service through the real stack (CONTRACT §9): real mqtt.js devices of three
// schools with their credentials → the real broker → the real ingest → the alerts service, with a district
// file; real node:http receivers for East's and West's own webhooks and the global one; a real influxd.
// Each school's devices are judged by its own nominal voltage; each school's alerts go to its own webhook,
// signed with the secret its route names, and a school whose receiver hangs or is down delays no other.
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import type { RunningBroker } from "../../broker/index.js";
import type { Alert } from "../../domain/alert.js";
import { devicePassword } from "../../domain/credentials.js";
import { CampusError } from "../../domain/errors.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import type { MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import type { RunningIngest } from "../../ingest/index.js";
import { startAlertsStack, stopAlertsStack } from "../helpers/alerts-stack.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "service-password-for-tests";
const GROUP_KEY = "group-key-for-district-tests-0123456789";
const HOST = "127.0.0.1";
/** One delivery attempt's limit: a hung receiver holds its own queue this long per attempt. */
const TIMEOUT_MS = 3_000;
const SECRETS = { EAST_HOOK_SECRET: "east-secret-for-tests", WEST_HOOK_SECRET: "west-secret-for-tests" };
const GLOBAL_SECRET = "global-secret-for-tests";

interface Delivery { delivery: string; at: number; signed: boolean; event: string; alert: Alert; answered: boolean }
/** A webhook receiver that checks the signature with its own secret; it answers 204, or hangs. */
class Receiver {
  readonly got: Delivery[] = [];
  hang = false;
  port = 0;
  private server: Server | null = null;
  constructor(private readonly secret: string) {}
  async start(): Promise<void> {
    this.port ||= await freePort();
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const json = JSON.parse(body) as { event: string; alert: Alert };
        const signed = req.headers["x-campus-signature"] === `sha256=${createHmac("sha256", this.secret).update(body).digest("hex")}`;
        const delivery: Delivery = { delivery: String(req.headers["x-campus-delivery"]), at: performance.now(), signed, event: json.event, alert: json.alert, answered: !this.hang };
        this.got.push(delivery);
        if (!this.hang) res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, HOST, resolve));
  }
  /** Down: hung requests cut, the port closed. */
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
  url = (path: string) => `http://${HOST}:${this.port}/${path}`;
  about = (device: string) => this.got.filter((d) => d.alert.device === device);
}

const east = new Receiver(SECRETS.EAST_HOOK_SECRET);
const west = new Receiver(SECRETS.WEST_HOOK_SECRET);
const global = new Receiver(GLOBAL_SECRET);
const dir = mkdtempSync(join(tmpdir(), "campus-power-alerts-district-"));
let influx: InfluxClient;
let broker: RunningBroker;
let ingest: RunningIngest;
let alerts: RunningAlerts;
let ctx: ServiceContext;
let watcher: MqttClient;
const seen: Alert[] = [];
const devices = new Map<string, mqtt.MqttClient>();
const base = Date.now() - 30 * 60_000;

const school = (id: string, zone: string, voltage: number, extra: string[] = []) => `site: { id: ${id}, name: ${id} school, timezone: ${zone}, nominal_voltage_v: ${voltage} }
buildings: [ { id: ${id}-lab, name: Lab, kind: lab } ]
devices:
${[`${id}-feed`, `${id}-arc`, ...extra].map((d) => `  - { id: ${d}, kind: breaker, building: ${id}-lab, rating_a: 63, report_interval_s: 60 }`).join("\n")}
alerts: { rules: { offline: { disabled: true } } }   # only the tests' alerts
`;

async function device(id: string) {
  let client = devices.get(id);
  if (!client) {
    client = await mqtt.connectAsync(`mqtt://${HOST}:${broker.tcpPort}`, { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
    devices.set(id, client);
  }
  return client;
}
/** An arc reported by the device itself: arc-fault opens at once and is paged. */
const arc = async (id: string) => (await device(id)).publishAsync(`campus/devices/${id}/events`, JSON.stringify({ ts: Date.now(), type: "arc" }), { qos: 1 });
/** Readings every 10 s of event time from `fromS` to `toS`, sent as one buffered batch (CONTRACT §3). */
async function voltage(id: string, fromS: number, toS: number, volts: number) {
  const batch = [];
  for (let t = fromS; t <= toS; t += 10) batch.push({ ts: base + t * 1000, voltage_v: volts });
  await (await device(id)).publishAsync(`campus/devices/${id}/telemetry`, JSON.stringify(batch), { qos: 1 });
}
const alertOf = (device: string, rule: string) => seen.filter((a) => a.device === device && a.rule === rule).at(-1);

beforeAll(async () => {
  await Promise.all([east.start(), west.start(), global.start()]);
  writeFileSync(join(dir, "east.yaml"), school("east", "Asia/Shanghai", 220, ["east-marker"]));
  writeFileSync(join(dir, "west.yaml"), school("west", "Europe/Berlin", 230));
  writeFileSync(join(dir, "north.yaml"), school("north", "Asia/Shanghai", 220));
  writeFileSync(join(dir, "district.yaml"), `district: { id: d, name: District }
sites: [east.yaml, west.yaml, north.yaml]
notify:
  - { site: east, url: "${east.url("east")}", secret_env: EAST_HOOK_SECRET }
  - { site: west, url: "${west.url("west")}", secret_env: WEST_HOOK_SECRET }
`);
  influx = await freshDatabase("alerts_district");
  const env = {
    DATA_DIR: join(dir, "data"), LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY,
    INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: join(dir, "district.yaml"),
    ALERT_WEBHOOK_URL: global.url("global"), ALERT_WEBHOOK_SECRET: GLOBAL_SECRET, ALERT_WEBHOOK_GROUP: "0",
    ALERT_WEBHOOK_RETRY: "100ms", ALERT_WEBHOOK_TIMEOUT: `${TIMEOUT_MS}ms`, ALERT_WEBHOOK_EXPIRE: "1h",
  };
  ({ ctx, broker, ingest, alerts, watcher } = await startAlertsStack({ env, influx, alerts: { environment: SECRETS }, watch: "campus/alerts/+/+", seen }));
});

afterAll(async () => {
  await Promise.all([...devices.values()].map((c) => c.endAsync(true)));
  await stopAlertsStack({ watcher, alerts, ingest, broker });
  await Promise.all([east.stop(), west.stop(), global.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("per-school notification routes", () => {
  it("delivers West's alert at once while East's receiver hangs, and East's own once East is back", async () => {
    east.hang = true;
    await arc("east-arc");
    const hung = (await waitFor(() => east.about("east-arc")[0], 10_000, { what: "East's first attempt" }))!;
    await arc("west-arc");
    const westGot = (await waitFor(() => west.about("west-arc")[0], 10_000, { what: "West's alert at West's webhook" }))!;
    // East's attempt was still hanging (it ends only after TIMEOUT_MS): West's queue did not wait for it.
    expect(westGot.at - hung.at).toBeLessThan(TIMEOUT_MS);
    expect(westGot).toMatchObject({ signed: true, event: "opened", alert: { rule: "arc-fault", site: "west" } });

    // East down: its port closed. Another school without a route goes to the global webhook, at once.
    await east.stop();
    await arc("north-arc");
    expect(await waitFor(() => global.about("north-arc")[0], 5_000, { what: "North's alert at the global webhook" })).toMatchObject({ signed: true, alert: { site: "north" } });

    // East back: it gets its own message (the same delivery, retried), signed with East's secret.
    east.hang = false;
    await east.start();
    const delivered = (await waitFor(() => east.about("east-arc").find((d) => d.answered), 15_000, { what: "East's alert delivered once East is back" }))!;
    expect(delivered).toMatchObject({ delivery: hung.delivery, signed: true, event: "opened", alert: { site: "east" } });

    // Nothing of another school at any school's webhook: a marker sent last arrives, then every list is read.
    await arc("east-marker");
    await waitFor(() => east.about("east-marker")[0], 10_000, { what: "East's marker" });
    expect(new Set(east.got.map((d) => d.alert.site))).toEqual(new Set(["east"]));
    expect(new Set(west.got.map((d) => d.alert.site))).toEqual(new Set(["west"]));
    expect(new Set(global.got.map((d) => d.alert.site))).toEqual(new Set(["north"]));
    expect([...east.got, ...west.got, ...global.got].every((d) => d.signed)).toBe(true);
  });

  it("refuses to start when a route's secret is not in the environment, naming the variable and no secret", async () => {
    const elsewhere = { ...ctx, env: Object.freeze({ ...ctx.env, dataDir: join(dir, "data-refused") }) };
    const refused = await startAlerts(elsewhere, { influx, environment: { EAST_HOOK_SECRET: SECRETS.EAST_HOOK_SECRET } }).then(
      () => expect.unreachable("started"),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(CampusError);
    const { message, problems } = refused as CampusError;
    expect(problems).toEqual([{ path: "WEST_HOOK_SECRET", message: "is not set: notify[1] (site west) signs its webhook messages with it" }]);
    expect(`${message} ${JSON.stringify(problems)}`).not.toContain(SECRETS.EAST_HOOK_SECRET);
  });
});

describe("rules per site through the real stack", () => {
  it("judges each school's voltage against its own nominal voltage and tags its alerts with the site", async () => {
    // 243 V for 6 min: above 220 V + 7 % (235.4 V) at East, below 230 V + 7 % (246.1 V) at West. Then 250 V
    // at West: its alert, when it comes, must be the 250 V one (the 243 V minutes opened nothing there).
    await voltage("east-feed", 0, 360, 243);
    await voltage("west-feed", 0, 360, 243);
    await voltage("west-feed", 370, 720, 250);
    const westAlert = (await waitFor(() => alertOf("west-feed", "overvoltage"), 15_000, { what: "West's overvoltage" }))!;
    const eastAlert = (await waitFor(() => alertOf("east-feed", "overvoltage"), 15_000, { what: "East's overvoltage" }))!;
    expect(eastAlert).toMatchObject({ site: "east", value: 243, threshold: 235.4, started_at: new Date(base + 300_000).toISOString() });
    expect(westAlert).toMatchObject({ site: "west", value: 250, started_at: new Date(base + 670_000).toISOString() });
    expect(westAlert.threshold).toBeCloseTo(246.1, 6);
    // Their InfluxDB points carry the site tag (CONTRACT §9).
    const points = await waitFor(async () => {
      const found = rows(await influx.query(`SELECT "alert_id", "site" FROM "alert" WHERE "rule" = 'overvoltage'`));
      return found.length >= 2 ? found : null;
    }, 10_000, { what: "the overvoltage points" });
    expect(new Set(points!.map((p) => `${String(p.alert_id).split(".")[0]} ${String(p.site)}`))).toEqual(new Set(["east-feed east", "west-feed west"]));
  });
});

describe("a restart on a state file from before alerts carried their site", () => {
  it("gives the open alerts their device's site and publishes them again", async () => {
    await alerts.stop();
    const file = join(dir, "data", "alerts", "state.json");
    const older = readFileSync(file, "utf8").replace(/"site":"(east|west|north)",?/g, "");
    expect(older).not.toMatch(/"site":/);
    writeFileSync(file, older);
    seen.length = 0;
    alerts = await startAlerts(ctx, { influx, tickMs: 100, environment: SECRETS });
    // Every (re)connection republishes the open alerts: the state was read, not set aside.
    const republished = await waitFor(() => alertOf("west-arc", "arc-fault"), 10_000, { what: "West's arc republished" });
    expect(republished).toMatchObject({ site: "west", state: "firing" });
    expect(await waitFor(() => alertOf("east-feed", "overvoltage"), 5_000, { what: "East's overvoltage republished" })).toMatchObject({ site: "east" });
  });
});
