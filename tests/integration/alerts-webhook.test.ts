// The webhook's failure modes against the real stack: a real node:http receiver that refuses (4xx),
// fails (5xx) or never answers, the real broker, a real influxd and the alerts service. Each message is
// retried with backoff under the same delivery id until the receiver accepts it, every failed attempt
// counted; a message older than ALERT_WEBHOOK_EXPIRE is dropped, counted and logged.
// Alerts come from arc events on the internal topic (arc-fault opens at once: no rule delay to wait for).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { internalTopic } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "service-password-for-tests";
const HOST = "127.0.0.1";
/** First retry delay: attempts are at least half of it, doubling, apart (equal jitter, infra/backoff.ts). */
const RETRY_MS = 200;

interface Attempt { delivery: string; device: string; event: string; at: number; answered: number | "nothing" }
const attempts: Attempt[] = [];
/** How the receiver answers the nth attempt of a delivery about `device`: a status, or nothing at all. */
let answer: (device: string, nth: number) => number | "nothing" = () => 204;

const dir = mkdtempSync(join(tmpdir(), "campus-power-alerts-webhook-"));
const logs: { msg: string; id?: string; attempts?: number }[] = [];
let server: Server;
let hookPort: number;
let influx: InfluxClient;
let broker: RunningBroker;
let alerts: RunningAlerts;
let publisher: MqttClient;
let ctx: ServiceContext;

function contextWith(webhookEnv: Record<string, string>, dataDir: string, mqttPort: number): ServiceContext {
  const env = readEnv({
    DATA_DIR: dataDir, LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "group-key-for-webhook-tests-0123456789",
    INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: join(dir, "campus.yaml"), MQTT_URL: `mqtt://${HOST}:${mqttPort}`,
    ALERT_WEBHOOK_URL: `http://${HOST}:${hookPort}/hook`, ALERT_WEBHOOK_SECRET: "webhook-secret-for-tests", ALERT_WEBHOOK_GROUP: "0",
    ALERT_WEBHOOK_RETRY: `${RETRY_MS}ms`, ALERT_WEBHOOK_TIMEOUT: "500ms", ALERT_WEBHOOK_EXPIRE: "1h", ...webhookEnv,
  });
  // The service's log, kept to check what it says about a message it gave up on.
  const log = pino({ level: "warn" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  return { env, campus: loadCampus(env.campusConfig), log, metrics: ctx?.metrics ?? createRegistry(false) };
}

/** An arc on `device` now: arc-fault opens at once and is paged. */
const arc = (device: string) => publisher.publishAsync(internalTopic.event(device), JSON.stringify({ device, ts: Date.now(), type: "arc" }), { qos: 1 });
const attemptsAbout = (device: string) => attempts.filter((a) => a.device === device);
const accepted = (device: string) => attemptsAbout(device).find((a) => a.answered === 204);

async function counter(name: string): Promise<number> {
  const match = new RegExp(`^campus_power_alerts_${name}\\{target="primary"\\} (\\d+)`, "m").exec(await ctx.metrics.metrics());
  return Number(match?.[1] ?? 0);
}

/** Gaps between consecutive attempts, ms. */
const gaps = (list: Attempt[]) => list.slice(1).map((a, i) => a.at - list[i]!.at);

beforeAll(async () => {
  writeFileSync(join(dir, "campus.yaml"), `site: { id: s, name: S, timezone: Asia/Shanghai }
buildings: [ { id: lab-1, name: Lab 1, kind: lab } ]
devices:
${["refused", "failing", "silent", "stale", "marker"].map((id) => `  - { id: ${id}, kind: breaker, building: lab-1, rating_a: 16 }`).join("\n")}
alerts: { rules: { offline: { disabled: true } } }   # no watchdog pages: only the arcs of the tests
`);
  influx = await freshDatabase("alerts_webhook");
  hookPort = await freePort();
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const json = JSON.parse(body) as { event: string; alert: { device: string } };
      const delivery = String(req.headers["x-campus-delivery"]);
      const answered = answer(json.alert.device, attempts.filter((a) => a.delivery === delivery).length + 1);
      attempts.push({ delivery, device: json.alert.device, event: json.event, at: performance.now(), answered });
      if (answered !== "nothing") res.writeHead(answered, { "content-type": "text/plain" }).end(answered >= 400 ? "refused by the test receiver" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(hookPort, HOST, resolve));
  ctx = contextWith({}, join(dir, "data"), 0);
  broker = await startBroker(ctx, { port: 0, wsPort: 0, host: HOST });
  ctx = contextWith({}, join(dir, "data"), broker.tcpPort);
  alerts = await startAlerts(ctx, { influx, tickMs: 100 });
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
});

afterAll(async () => {
  await publisher?.endAsync();
  await alerts?.stop();
  await broker?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("webhook delivery when the receiver fails", () => {
  it.each([
    [400, "4xx: the receiver refuses it, e.g. a wrong secret or path, fixed on its side", "refused"],
    [503, "5xx: the receiver is down or overloaded", "failing"],
  ] as const)("retries a message answered %i with backoff and delivers it once the receiver accepts it (%s)", async (status, _why, device) => {
    answer = (about, nth) => (about === device && nth <= 3 ? status : 204);
    const failuresBefore = await counter("webhook_failures_total");
    await arc(device);
    const delivered = (await waitFor(() => accepted(device), 10_000, { what: `the ${device} arc delivered` }))!;
    const tries = attemptsAbout(device);
    expect(tries.map((a) => a.answered)).toEqual([status, status, status, 204]);
    expect(new Set(tries.map((a) => a.delivery))).toEqual(new Set([delivered.delivery])); // one message, retried
    expect(delivered.event).toBe("opened");
    // Backoff: each wait at least half of a doubling ceiling (RETRY_MS, 2 ×, 4 ×).
    gaps(tries).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual((RETRY_MS * 2 ** i) / 2 - 20));
    expect((await counter("webhook_failures_total")) - failuresBefore).toBe(3);
  });

  it("gives up on an attempt the receiver never answers after ALERT_WEBHOOK_TIMEOUT and delivers on the next", async () => {
    answer = (about, nth) => (about === "silent" && nth === 1 ? "nothing" : 204);
    const failuresBefore = await counter("webhook_failures_total");
    await arc("silent");
    const delivered = (await waitFor(() => accepted("silent"), 10_000, { what: "the silent arc delivered" }))!;
    const [hung, second] = attemptsAbout("silent");
    expect(hung).toMatchObject({ answered: "nothing", delivery: delivered.delivery });
    expect(second).toBe(delivered);
    expect(second!.at - hung!.at).toBeGreaterThanOrEqual(500); // the 500 ms timeout, then the backoff
    expect((await counter("webhook_failures_total")) - failuresBefore).toBe(1);
  });

  it("drops a message still undelivered after ALERT_WEBHOOK_EXPIRE, counts and logs it, and delivers the next", async () => {
    // A first retry 5–10 s away and a 1 s expiry: the message expires before it is tried again.
    await alerts.stop();
    ctx = contextWith({ ALERT_WEBHOOK_RETRY: "10s", ALERT_WEBHOOK_EXPIRE: "1s" }, join(dir, "data-expiry"), broker.tcpPort);
    alerts = await startAlerts(ctx, { influx, tickMs: 100 });
    answer = (about) => (about === "stale" ? 500 : 204);
    const expiredBefore = await counter("webhook_expired_total");
    await arc("stale");
    await waitFor(() => attemptsAbout("stale").length > 0, 5_000, { what: "the stale arc tried" });
    // Dropped at its expiry, not at the next attempt 5–10 s later.
    await waitFor(async () => (await counter("webhook_expired_total")) > expiredBefore, 4_000, { what: "the stale message expired" });
    const [only] = attemptsAbout("stale");
    expect(logs.find((l) => l.msg === "webhook message expired undelivered")).toMatchObject({ id: only!.delivery, attempts: 1 });
    // Nothing more about it: the marker's message, sent after, arrives and no attempt of the stale one came before it.
    answer = () => 204;
    await arc("marker");
    const marker = (await waitFor(() => accepted("marker"), 10_000, { what: "the marker delivered" }))!;
    expect(attempts.filter((a) => a.device === "stale" && a.at < marker.at)).toEqual([only]);
    expect(await counter("webhook_expired_total")).toBe(expiredBefore + 1);
  });
});
