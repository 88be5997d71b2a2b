// Daily digests (CONTRACT §14 "Digest") against the real stack with a simulated clock: the alerts service's
// `now` is set here (its tick runs on the wall clock, every 100 ms). A district of two schools, one in
// Asia/Shanghai and one in Europe/Berlin (tests/fixtures/test-campus-berlin.yaml), a DingTalk robot route
// without `site` (so one digest per school, each at 08:00 in its own zone) and an e-mail route for the first
// school, both with `digest: "08:00"`, and the first school's own signed webhook (CONTRACT §9) with a digest too,
// which gets it as JSON (`event: "digest"`) beside its alert changes. Energy is read from a real influxd; the
// day's alerts are an arc acknowledged 30 s later; a breaker is offline. Each digest fires at its time, once,
// also across a restart; one missed while the service was down goes when it starts again that day.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAlerts, startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { internalTopic } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { startDingtalk } from "../helpers/robots/dingtalk.js";
import type { Arrival, Receiver } from "../helpers/robots/receiver.js";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/robots/webhook.js";
import { type MailServer, parseMail, startMailServer } from "../helpers/smtp.js";
import { twoTicks as twoTicksOf } from "../helpers/alerts-ticks.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "service-password-for-tests";
const HOST = "127.0.0.1";
const at = (iso: string) => Date.parse(iso);

const dir = mkdtempSync(join(tmpdir(), "campus-power-notify-digest-"));
let dingtalk: Receiver;
let mail: MailServer;
let hook: WebhookReceiver;
const HOOK_SECRET = "east-hook-secret-for-digest-tests";
let influx: InfluxClient;
let broker: RunningBroker;
let alerts: RunningAlerts;
let publisher: MqttClient;
let ctx: ServiceContext;
/** The service's clock: `simulated` at the wall instant `setAt`, running on from there. */
let simulated = at("2026-12-07T23:58:00Z"); // 07:58 on 8 December in Shanghai
let setAt = Date.now();
const clock = () => simulated + (Date.now() - setAt);
const setClock = (ms: number) => {
  simulated = ms;
  setAt = Date.now();
};

const digestsAt = (r: Receiver) => r.accepted().filter((a) => (a.body.markdown as { title: string }).title.startsWith("【日报】"));
const text = (a: Arrival) => (a.body.markdown as { text: string }).text;
const hookDigests = () => hook.arrivals.filter((a) => a.body.event === "digest");
const start = () => startAlerts(ctx, { influx, tickMs: 100, now: clock, environment: { SMTP_URL: `smtp://digest:mail-pass@127.0.0.1:${mail.port}`, SMTP_FROM: "alerts@school.example", PUBLIC_URL: "https://campus.example", EAST_HOOK_SECRET: HOOK_SECRET } });

/**
 * A device event whose alert the school's webhook pages: waits until its page arrives. The webhook's queue is
 * in order, so whatever was queued to it before (a digest that must not be) has arrived by then.
 */
async function markerOnHook(type: "trip" | "arc", device: string): Promise<void> {
  const before = hook.arrivals.length;
  await publisher.publishAsync(internalTopic.event(device), JSON.stringify({ device, ts: clock(), type }), { qos: 1 });
  const paged = () => hook.arrivals.slice(before).some((a) => (a.body.alert as { device?: string } | undefined)?.device === device && a.body.event === "opened");
  await waitFor(paged, 15_000, { what: `the webhook's page about ${device}'s ${type}` });
}

/** Waits until the service has run two more ticks (so every digest due has been looked at). */
const twoTicks = () => twoTicksOf(ctx.metrics);

beforeAll(async () => {
  // Unsigned: DingTalk checks a signed request's timestamp against its own (wall) clock, and this test's runs days ahead.
  dingtalk = await startDingtalk({ token: "dt-token", clock });
  mail = await startMailServer({ user: "digest", password: "mail-pass" });
  hook = await startWebhookReceiver(HOOK_SECRET);
  writeFileSync(join(dir, "east.yaml"), `site: { id: east, name: 东区实验学校, timezone: Asia/Shanghai }
buildings: [ { id: lab-1, name: 实验楼1号, kind: lab } ]
devices:
  - { id: m-1, kind: meter, building: lab-1 }
  - { id: brk-1, kind: breaker, building: lab-1, room: "101", rating_a: 16 }
  - { id: brk-2, kind: breaker, building: lab-1, room: "102", rating_a: 16 }
`);
  writeFileSync(join(dir, "berlin.yaml"), readFileSync("tests/fixtures/test-campus-berlin.yaml", "utf8"));
  writeFileSync(join(dir, "district.yaml"), `district: { id: d, name: 测试区 }
sites: [ east.yaml, berlin.yaml ]
notify:
  - { type: dingtalk, name: daily, url: "${dingtalk.origin}/robot/send?access_token=dt-token", digest: "08:00", rules: [arc-fault] }
  - { type: email, name: daily-mail, to: [head@school.example], site: east, lang: en, digest: "08:00" }
  - { site: east, url: "${hook.url}", secret_env: EAST_HOOK_SECRET, digest: "08:00" }
`);
  influx = await freshDatabase("notify_digest");
  // m-1's counter deltas: 12.5 kWh on 7 December (Shanghai), 10 kWh on the 6th; one point a day outside both.
  const point = (iso: string, kwh: number, total: number) => `electrical,device=m-1,building=lab-1,kind=meter,site=east energy_delta_kwh=${kwh},energy_kwh=${total} ${at(iso)}`;
  await influx.write([point("2026-12-05T15:00:00Z", 99, 100), point("2026-12-06T02:00:00Z", 4, 104), point("2026-12-06T12:00:00Z", 6, 110), point("2026-12-07T01:00:00Z", 7.5, 117.5), point("2026-12-07T15:59:00Z", 5, 122.5), point("2026-12-07T16:00:00Z", 50, 172.5)].join("\n"));
  const boot = { metrics: createRegistry(false) };
  const contextAt = (mqttPort: number): ServiceContext => {
    const env = readEnv({
      DATA_DIR: join(dir, "data"), LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "group-key-for-digest-tests-0123456789",
      INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: join(dir, "district.yaml"), MQTT_URL: `mqtt://${HOST}:${mqttPort}`,
    });
    return { env, campus: loadCampus(env.campusConfig), log: pino({ level: process.env.DEBUG_DIGEST ? "info" : "silent" }), metrics: boot.metrics };
  };
  broker = await startBroker(contextAt(0), { port: 0, wsPort: 0, host: HOST });
  ctx = contextAt(broker.tcpPort);
  alerts = await start();
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
});

afterAll(async () => {
  await publisher?.endAsync();
  await alerts?.stop();
  await broker?.stop();
  await Promise.all([dingtalk?.close(), mail?.stop(), hook?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("daily digest", () => {
  it("fires at 08:00 in each school's zone, not before, once, not again after a restart, and late when the service was down at its time", async () => {
    // The day's alerts: an arc acknowledged 30 s later, and brk-2 offline (its last will).
    await publisher.publishAsync(internalTopic.event("brk-1"), JSON.stringify({ device: "brk-1", ts: clock(), type: "arc" }), { qos: 1 });
    const arc = await waitFor(() => openAlerts(alerts.state()).find((a) => a.rule === "arc-fault"), 10_000, { what: "the arc open" });
    setClock(clock() + 30_000);
    await publisher.publishAsync(internalTopic.ack, JSON.stringify({ alert_id: arc!.id, by: "王师傅", request_id: "ack-1" }), { qos: 1 });
    await publisher.publishAsync(internalTopic.status("brk-2"), JSON.stringify({ device: "brk-2", ts: clock(), online: false }), { qos: 1 });
    // An arc latches until acknowledged; its condition is over, so the acknowledgement resolves it.
    const acked = () => !openAlerts(alerts.state()).some((a) => a.id === arc!.id && a.state === "firing");
    await waitFor(() => acked() && openAlerts(alerts.state()).some((a) => a.rule === "offline" && a.device === "brk-2"), 10_000, { what: "the ack and the offline alert" });

    setClock(at("2026-12-07T23:59:30Z")); // 07:59:30 in Shanghai (room for the marker's 3 s grouping window)
    await twoTicks();
    expect(digestsAt(dingtalk)).toHaveLength(0);
    // The webhook's marker, sent after those ticks: a trip, whose page comes after anything queued before it.
    await markerOnHook("trip", "brk-1");
    expect(hookDigests()).toHaveLength(0);
    // The alert changes the school's webhook got before 08:00 were signed like its digest must be.
    expect(hook.arrivals.every((a) => a.signed)).toBe(true);
    setClock(at("2026-12-08T00:00:00Z")); // 08:00 in Shanghai; 01:00 in Berlin
    const [east] = (await waitFor(() => (digestsAt(dingtalk).length > 0 ? digestsAt(dingtalk) : null), 10_000, { what: "the Shanghai school's digest" }))!;
    expect((east!.body.markdown as { title: string }).title).toBe("【日报】东区实验学校 2026-12-08");
    for (const words of ["告警（2026-12-07 08:00 至 2026-12-08 08:00）", "电弧故障：1 条，已确认 1 条（确认用时中位 30 秒，最长 30 秒），未确认 0 条", "2026-12-07：12.5 kWh，较前一日 +25 %", "2026-12-06：10 kWh", "当前离线设备：1 台", "brk-2（实验楼1号 102室）", "[本月用电报表](https://campus.example/reports/east/2026-12)"]) {
      expect(text(east!)).toContain(words);
    }
    expect(text(east!)).not.toContain("离线："); // the route wants arc-fault only: the offline alert is not among its rules
    const mailDigest = await waitFor(() => mail.received.map((m) => parseMail(m.raw)).find((m) => m.headers.subject?.startsWith("Daily digest")), 10_000, { what: "the e-mail digest" });
    expect(mailDigest!.headers.subject).toBe("Daily digest · 东区实验学校 · 2026-12-08");
    expect(mailDigest!.parts.find((p) => p.type === "text/plain")!.text).toContain("Arc fault: 1 opened, 1 acknowledged (time to acknowledge: median 30 s, worst 30 s), 0 unacknowledged");
    // The school's webhook: the same figures as JSON, signed with its secret, every rule (it has no filter).
    const [hookDigest] = (await waitFor(() => (hookDigests().length > 0 ? hookDigests() : null), 10_000, { what: "the webhook's digest" }))!;
    expect(hookDigest!.signed).toBe(true);
    expect(hookDigest!.delivery).toBe("digest-site:east/east-2026-12-08");
    expect(hookDigest!.body).toEqual({
      event: "digest", site: "east", site_name: "东区实验学校", timezone: "Asia/Shanghai", date: "2026-12-08",
      from: "2026-12-07T08:00:00+08:00", to: "2026-12-08T08:00:00+08:00",
      alerts_by_rule: [
        // 30 s of simulated clock, plus the few ms the acknowledgement took to travel (the clock runs on).
        { rule: "arc-fault", opened: 1, acknowledged: 1, median_ack_s: expect.closeTo(30, 0), worst_ack_s: expect.closeTo(30, 0), unacknowledged: 0 },
        { rule: "device-trip", opened: 1, acknowledged: 0, median_ack_s: null, worst_ack_s: null, unacknowledged: 1 },
        { rule: "offline", opened: 1, acknowledged: 0, median_ack_s: null, worst_ack_s: null, unacknowledged: 1 },
      ],
      energy: { day: "2026-12-07", kwh: 12.5, previous_day: "2026-12-06", previous_kwh: 10, change_pct: 25 },
      offline: { count: 1, devices: [{ device: "brk-2", building_name: "实验楼1号", room: "102" }] },
      report_url: "https://campus.example/reports/east/2026-12",
    });

    setClock(at("2026-12-08T00:05:00Z"));
    await twoTicks();
    // A receiver has a message before the sender has its answer: stopped in between, the outbox would send it
    // again after the restart (at least once). Only a digest made twice is what this test looks for.
    await waitFor(async () => /^campus_power_alerts_webhook_outbox 0$/m.test(await ctx.metrics.metrics()), 5_000, { what: "the outbox empty" });
    await alerts.stop();
    alerts = await start(); // 08:05: today's digests were sent before the restart
    await twoTicks();
    expect(digestsAt(dingtalk)).toHaveLength(1);
    expect(mail.received.filter((m) => parseMail(m.raw).headers.subject?.startsWith("Daily digest"))).toHaveLength(1);
    await markerOnHook("arc", "m-1");
    expect(hookDigests()).toHaveLength(1);

    // The service is down over 08:00 in Berlin and starts again at 08:30 there: the missed digest goes then.
    setClock(at("2026-12-08T06:59:50Z")); // 07:59:50 in Berlin
    await twoTicks();
    expect(digestsAt(dingtalk)).toHaveLength(1);
    await alerts.stop();
    setClock(at("2026-12-08T07:30:00Z"));
    alerts = await start();
    await waitFor(() => digestsAt(dingtalk).length === 2, 10_000, { what: "the Berlin school's missed digest" });
    expect(text(digestsAt(dingtalk)[1]!)).toContain("2026-12-07 08:00 至 2026-12-08 08:00");
    expect((digestsAt(dingtalk)[1]!.body.markdown as { title: string }).title).toBe("【日报】DST School 2026-12-08");
    expect(hookDigests()).toHaveLength(1); // the east school's webhook: not Berlin's, and its own not again
  });
});
