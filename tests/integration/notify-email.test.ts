// E-mail routes (CONTRACT §14 "email") against the real stack and a real SMTP server started here
// (tests/helpers/smtp.ts: the smtp-server package, checking AUTH as a mail provider does): the real broker,
// a real influxd, the alerts service with `notify: [{type: email, to: […]}]` and SMTP_URL / SMTP_FROM in the
// environment handed to it. Alerts come from arc events (arc-fault opens at once).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { type Receiver, startReceiver } from "../helpers/robots/receiver.js";
import { type MailServer, parseMail, startMailServer } from "../helpers/smtp.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "service-password-for-tests";
const HOST = "127.0.0.1";
const MAIL_USER = "alerts@school.example";
// Characters a URL must percent-encode, so the user info is decoded as written.
const MAIL_PASSWORD = "p@ss:w/rd 密码";
const WRONG_PASSWORD = "not-the-mailbox-password";
const FROM = "校园用电 <alerts@school.example>";
const TO = ["duty@school.example", "electrician@school.example"];

const dir = mkdtempSync(join(tmpdir(), "campus-power-notify-email-"));
const logs: Record<string, unknown>[] = [];
let mail: MailServer;
let webhook: Receiver;
let influx: InfluxClient;
let broker: RunningBroker;
let alerts: RunningAlerts | null = null;
let publisher: MqttClient;
let ctx: ServiceContext;

const smtpUrl = (password: string) => `smtp://${encodeURIComponent(MAIL_USER)}:${encodeURIComponent(password)}@127.0.0.1:${mail.port}`;
const startService = async (password: string) =>
  (alerts = await startAlerts(ctx, { influx, tickMs: 100, environment: { SMTP_URL: smtpUrl(password), SMTP_FROM: FROM, PUBLIC_URL: "https://campus.example.edu.cn" } }));
const arc = (device: string) => publisher.publishAsync(internalTopic.event(device), JSON.stringify({ device, ts: Date.now(), type: "arc" }), { qos: 1 });
const mailsAbout = (device: string) => mail.received.filter((m) => parseMail(m.raw).parts.some((p) => p.type === "text/plain" && p.text.includes(device)));

async function failures(): Promise<number> {
  const match = /^campus_power_alerts_webhook_failures_total\{target="duty-mail"\} (\d+)/m.exec(await ctx.metrics.metrics());
  return Number(match?.[1] ?? 0);
}

/** Every form the password could leak in: as written, percent-encoded, and inside AUTH PLAIN's base64. */
const passwordForms = (password: string) => [password, encodeURIComponent(password), Buffer.from(`\0${MAIL_USER}\0${password}`).toString("base64")];

beforeAll(async () => {
  mail = await startMailServer({ user: MAIL_USER, password: MAIL_PASSWORD });
  webhook = await startReceiver(() => null, {});
  writeFileSync(join(dir, "campus.yaml"), `site: { id: east, name: 东区实验学校, timezone: Asia/Shanghai }
buildings: [ { id: lab-1, name: 实验楼1号, kind: lab } ]
devices:
  - { id: arc-1, kind: breaker, building: lab-1, room: "201", rating_a: 16 }
  - { id: arc-2, kind: breaker, building: lab-1, room: "202", rating_a: 16 }
  - { id: arc-3, kind: breaker, building: lab-1, room: "<b>203</b>", rating_a: 16 }
alerts: { rules: { offline: { disabled: true } } }
notify:
  - { type: email, name: duty-mail, to: [${TO.join(", ")}] }
`);
  influx = await freshDatabase("notify_email");
  const boot = { metrics: createRegistry(false) };
  const contextAt = (mqttPort: number): ServiceContext => {
    const env = readEnv({
      DATA_DIR: join(dir, "data"), LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "group-key-for-email-tests-0123456789",
      INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: join(dir, "campus.yaml"), MQTT_URL: `mqtt://${HOST}:${mqttPort}`,
      // The global webhook is set only for its timing variables: no grouping window, quick retries.
      ALERT_WEBHOOK_URL: `${webhook.origin}/hook`, ALERT_WEBHOOK_SECRET: "webhook-secret-for-tests", ALERT_WEBHOOK_GROUP: "0", ALERT_WEBHOOK_RETRY: "200ms", ALERT_WEBHOOK_TIMEOUT: "2s",
    });
    const log = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    return { env, campus: loadCampus(env.campusConfig), log, metrics: boot.metrics };
  };
  broker = await startBroker(contextAt(0), { port: 0, wsPort: 0, host: HOST });
  ctx = contextAt(broker.tcpPort);
  await startService(MAIL_PASSWORD);
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
});

afterAll(async () => {
  await publisher?.endAsync();
  await alerts?.stop();
  await broker?.stop();
  await Promise.all([mail?.stop(), webhook?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("e-mail routes", () => {
  it("send an alert as a multipart text and HTML mail from SMTP_FROM to the route's addresses, logged in with the URL's credentials", async () => {
    await arc("arc-1");
    const [received] = await waitFor(() => (mailsAbout("arc-1").length > 0 ? mailsAbout("arc-1") : null), 10_000, { what: "the arc-1 mail" }) as [(typeof mail.received)[number]];
    expect(received.user).toBe(MAIL_USER);
    expect(received.from).toBe("alerts@school.example");
    expect(received.to).toEqual(TO);
    const parsed = parseMail(received.raw);
    expect(parsed.headers.from).toContain("alerts@school.example");
    expect(parsed.headers.from).toContain("校园用电");
    expect(parsed.headers.to).toBe(TO.join(", "));
    expect(parsed.headers.subject).toBe("【危急】电弧故障 · 新告警 · 东区实验学校 / 实验楼1号 201室");
    expect(parsed.type).toBe("multipart/alternative");
    expect(parsed.parts.map((p) => p.type)).toEqual(["text/plain", "text/html"]);
    const [text, html] = [parsed.parts[0]!, parsed.parts[1]!];
    for (const words of ["危急 电弧故障 · 新告警", "学校：东区实验学校", "位置：实验楼1号 201室", "设备：arc-1", "查看告警: https://campus.example.edu.cn/#/device/arc-1"]) expect(text.text).toContain(words);
    expect(html.text).toContain('<a href="https://campus.example.edu.cn/#/device/arc-1">查看告警</a>');
    expect(html.text).toContain('<span style="color:#D32F2F;font-weight:bold">危急</span>');
  });

  it("retry while the mail server is down, log and count the failures without the password, and deliver once it is back", async () => {
    const before = await failures();
    await mail.stop();
    await arc("arc-2");
    await waitFor(async () => (await failures()) > before, 10_000, { what: "the refused connection counted" });
    const logged = logs.find((l) => l.target === "duty-mail" && l.smtp_code === "ESOCKET");
    expect(logged).toMatchObject({ smtp_server: `127.0.0.1:${mail.port}`, msg: "webhook delivery failed; retrying" });
    await mail.start();
    await waitFor(() => mailsAbout("arc-2").length > 0, 15_000, { what: "the arc-2 mail after the server came back" });
    // The server has the mail before the sender has its reply: the outbox is empty only once it has.
    await waitFor(async () => /^campus_power_alerts_webhook_outbox 0$/m.test(await ctx.metrics.metrics()), 5_000, { what: "the outbox empty" });
    expect(mailsAbout("arc-2")).toHaveLength(1);
    for (const form of passwordForms(MAIL_PASSWORD)) expect(JSON.stringify(logs)).not.toContain(form);
  });

  it("show a wrong password in the server's refusal, the log and the metric, never the password, and deliver after a restart with the right one", async () => {
    await alerts!.stop();
    await startService(WRONG_PASSWORD);
    const before = await failures();
    const refusedBefore = mail.refusedLogins;
    await arc("arc-3");
    await waitFor(async () => (await failures()) > before, 10_000, { what: "the refused login counted" });
    expect(mail.refusedLogins).toBeGreaterThan(refusedBefore);
    const logged = logs.find((l) => l.target === "duty-mail" && l.smtp_code === "EAUTH");
    expect(logged).toMatchObject({ smtp_response: expect.stringContaining("535") });
    for (const form of [...passwordForms(WRONG_PASSWORD), ...passwordForms(MAIL_PASSWORD)]) expect(JSON.stringify(logs)).not.toContain(form);
    expect(mailsAbout("arc-3")).toHaveLength(0);
    // The undelivered mail is in the durable outbox: the service restarted with the right password sends it.
    await alerts!.stop();
    await startService(MAIL_PASSWORD);
    const [received] = await waitFor(() => (mailsAbout("arc-3").length > 0 ? mailsAbout("arc-3") : null), 15_000, { what: "the arc-3 mail after the restart" }) as [(typeof mail.received)[number]];
    // A room written with markup in the campus file is text in the HTML part, not markup.
    const html = parseMail(received.raw).parts.find((p) => p.type === "text/html")!.text;
    expect(html).toContain("&lt;b&gt;203&lt;/b&gt;");
    expect(html).not.toContain("<b>203</b>");
  });
});
