// DingTalk, WeCom and Feishu robots (CONTRACT §14) against the real stack: the real broker, a real influxd,
// the alerts service, and local HTTP receivers that check each request the way its vendor does and answer
// in its words (tests/helpers/robots/). Routes come from a district file's `notify:`; secrets from the
// environment handed to the service. Alerts come from arc events (arc-fault opens at once) and from
// 40 breakers' readings above their rating for 70 s of event time (overload opens after 60 s).
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
import { startDingtalk } from "../helpers/robots/dingtalk.js";
import { startFeishu } from "../helpers/robots/feishu.js";
import { type Arrival, type Receiver, startReceiver } from "../helpers/robots/receiver.js";
import { startWecom } from "../helpers/robots/wecom.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "service-password-for-tests";
const HOST = "127.0.0.1";
const SECRETS = { DT_SECRET: "SEC-dingtalk-secret-for-tests", FS_SECRET: "feishu-secret-for-tests", DT_WRONG: "SEC-not-the-robots-secret" };
const ON_CALL = "13800138000";
const BUILDINGS = ["lab-1", "lab-2", "lab-3", "lab-4"];
const BREAKERS = Array.from({ length: 40 }, (_, i) => `brk-${i + 1}`);

const dir = mkdtempSync(join(tmpdir(), "campus-power-notify-robots-"));
const logs: Record<string, unknown>[] = [];
let dingtalk: Receiver, wecom: Receiver, feishu: Receiver, wrong: Receiver, webhook: Receiver;
let influx: InfluxClient;
let broker: RunningBroker;
let alerts: RunningAlerts;
let publisher: MqttClient;
let ctx: ServiceContext;
/** The service's clock runs ahead of the wall's by `offset` ms (the test moves it a minute at a time). */
let offset = 0;
const clock = () => Date.now() + offset;

function districtFile(): string {
  const devices = [...BREAKERS.map((id, i) => `{ id: ${id}, kind: breaker, building: ${BUILDINGS[i % 4]}, room: "${101 + i}", rating_a: 16 }`), "{ id: arc-1, kind: breaker, building: lab-1, room: \"201\", rating_a: 16 }", "{ id: arc-2, kind: breaker, building: lab-2, rating_a: 16 }", "{ id: arc-3, kind: breaker, building: lab-3, rating_a: 16 }"];
  return `district: { id: d, name: 测试区教育局 }
sites:
  - site: { id: east, name: 东区实验学校, timezone: Asia/Shanghai }
    buildings: [ ${BUILDINGS.map((b, i) => `{ id: ${b}, name: 实验楼${i + 1}号, kind: lab }`).join(", ")} ]
    devices:
${devices.map((d) => `      - ${d}`).join("\n")}
    alerts: { rules: { offline: { disabled: true } } }
notify:
  - { type: dingtalk, name: duty-dingtalk, url: "${dingtalk.origin}/robot/send?access_token=dt-token", secret_env: DT_SECRET, mention_mobiles: ["${ON_CALL}"] }
  - { type: wecom, name: duty-wecom, url: "${wecom.origin}/cgi-bin/webhook/send?key=wc-key" }
  - { type: feishu, name: duty-feishu, url: "${feishu.origin}/open-apis/bot/v2/hook/fs-hook", secret_env: FS_SECRET, lang: en }
  - { type: dingtalk, name: wrong-secret, url: "${wrong.origin}/robot/send?access_token=wrong-token", secret_env: DT_WRONG, rules: [arc-fault] }
`;
}

async function counter(name: string, target: string): Promise<number> {
  const match = new RegExp(`^campus_power_alerts_${name}\\{target="${target}"\\} (\\d+)`, "m").exec(await ctx.metrics.metrics());
  return Number(match?.[1] ?? 0);
}

const dingtalkText = (a: Arrival) => (a.body.markdown as { text: string }).text;
const wecomText = (a: Arrival) => (a.body.markdown as { content: string }).content;
const feishuText = (a: Arrival) => JSON.stringify(a.body.card);
const arc = (device: string) => publisher.publishAsync(internalTopic.event(device), JSON.stringify({ device, ts: Date.now(), type: "arc" }), { qos: 1 });

beforeAll(async () => {
  dingtalk = await startDingtalk({ token: "dt-token", secret: SECRETS.DT_SECRET, clock });
  wecom = await startWecom({ key: "wc-key", clock });
  feishu = await startFeishu({ hook: "fs-hook", secret: SECRETS.FS_SECRET, clock });
  // The robot is set up with another secret than the one in DT_WRONG.
  wrong = await startDingtalk({ token: "wrong-token", secret: "SEC-the-robots-real-secret" });
  webhook = await startReceiver(() => null, {});
  writeFileSync(join(dir, "district.yaml"), districtFile());
  influx = await freshDatabase("notify_robots");
  const boot = { metrics: createRegistry(false) };
  const contextAt = (mqttPort: number): ServiceContext => {
    const env = readEnv({
      DATA_DIR: join(dir, "data"), LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "group-key-for-robot-tests-0123456789",
      INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: join(dir, "district.yaml"), MQTT_URL: `mqtt://${HOST}:${mqttPort}`,
      // The global webhook is set only for its timing variables: no grouping, so 40 alerts are 40 messages.
      ALERT_WEBHOOK_URL: `${webhook.origin}/hook`, ALERT_WEBHOOK_SECRET: "webhook-secret-for-tests", ALERT_WEBHOOK_GROUP: "0", ALERT_WEBHOOK_RETRY: "200ms", ALERT_WEBHOOK_TIMEOUT: "2s",
    });
    const log = pino({ level: "warn" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    return { env, campus: loadCampus(env.campusConfig), log, metrics: boot.metrics };
  };
  broker = await startBroker(contextAt(0), { port: 0, wsPort: 0, host: HOST });
  ctx = contextAt(broker.tcpPort);
  alerts = await startAlerts(ctx, { influx, tickMs: 100, now: clock, environment: { ...SECRETS, PUBLIC_URL: "https://campus.example.edu.cn/" } });
  publisher = await connectService(ctx.env.mqttUrl, PASSWORD, "test-publisher");
});

afterAll(async () => {
  await publisher?.endAsync();
  await alerts?.stop();
  await broker?.stop();
  await Promise.all([dingtalk, wecom, feishu, wrong, webhook].map((r) => r?.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe("group robots", () => {
  it("send an arc to DingTalk, WeCom and Feishu as each vendor checks it, readable on a phone, with the link and the on-call mention", async () => {
    await arc("arc-1");
    const about = (text: (a: Arrival) => string, r: Receiver) => r.accepted().find((a) => text(a).includes("arc-1"));
    const [dt, wc, fs] = await waitFor(() => {
      const found = [about(dingtalkText, dingtalk), about(wecomText, wecom), about(feishuText, feishu)];
      return found.every(Boolean) ? found : null;
    }, 10_000, { what: "the arc at each robot" }) as [Arrival, Arrival, Arrival];
    // DingTalk: signed in the query, markdown in Chinese, the school, building, room, rule, severity as a coloured word, the link, the mention.
    expect(dt.url.searchParams.get("sign")).toBeTruthy();
    for (const words of ["电弧故障", "东区实验学校", "实验楼1号", "201室", "arc-1", "<font color=#D32F2F>危急</font>", "https://campus.example.edu.cn/#/device/arc-1", `@${ON_CALL}`]) expect(dingtalkText(dt)).toContain(words);
    expect(dt.body.at).toEqual({ atMobiles: [ON_CALL], isAtAll: false });
    expect((dt.body.markdown as { title: string }).title).toContain("电弧故障");
    // WeCom: the key in the query, its own colour names.
    expect(wecomText(wc)).toContain('<font color="warning">危急</font>');
    expect(wecomText(wc)).toContain("电弧故障");
    // Feishu (lang: en): signed in the body, a red card with a button to the alert.
    expect(fs.body).toMatchObject({ msg_type: "interactive", card: { header: { template: "red" } } });
    expect(feishuText(fs)).toContain("Arc fault");
    expect(feishuText(fs)).toContain("https://campus.example.edu.cn/#/device/arc-1");
  });

  it("show a wrong secret in the robot's refusal, in the log with the vendor's errcode and in the failure metric, never the secret or token", async () => {
    const failuresBefore = await counter("webhook_failures_total", "wrong-secret");
    await arc("arc-3");
    await waitFor(async () => (await counter("webhook_failures_total", "wrong-secret")) > failuresBefore, 10_000, { what: "the wrong-secret robot's refusal counted" });
    expect(wrong.refused()[0]!.answer).toMatchObject({ errcode: 310000, errmsg: expect.stringContaining("sign not match") });
    const logged = (await waitFor(() => logs.find((l) => l.target === "wrong-secret" && l.errcode === 310000), 5_000, { what: "the refusal logged" }))!;
    expect(logged).toMatchObject({ vendor: "dingtalk", errmsg: expect.stringContaining("sign not match") });
    const everything = JSON.stringify(logs);
    for (const secret of [...Object.values(SECRETS), "wrong-token", "dt-token", "wc-key"]) expect(everything).not.toContain(secret);
  });

  it("retry a message the vendor answers with an error (HTTP 200, errcode ≠ 0) until it is accepted", async () => {
    wecom.failNext(2, { errcode: 45009, errmsg: "api freq out of limit" });
    const failuresBefore = await counter("webhook_failures_total", "duty-wecom");
    const refusedBefore = wecom.refused().length;
    await arc("arc-2");
    await waitFor(() => wecom.accepted().some((a) => wecomText(a).includes("arc-2")), 10_000, { what: "the arc-2 message accepted after two refusals" });
    expect(wecom.refused().length - refusedBefore).toBe(2);
    expect((await counter("webhook_failures_total", "duty-wecom")) - failuresBefore).toBe(2);
  });

  it("give at most 20 messages per robot in any minute when 40 breakers overload at once, and name all 40 within 3 minutes", async () => {
    const since = { dingtalk: dingtalk.arrivals.length, wecom: wecom.arrivals.length, feishu: feishu.arrivals.length };
    const first = clock();
    const start = Date.now() - 120_000;
    // 70 s above the 16 A rating in event time, one reading every 10 s: overload opens after 60 s (CONTRACT §5).
    const readings = [0, 10, 20, 30, 40, 50, 60, 70].flatMap((s) => BREAKERS.map((device) => ({ device, ts: start + s * 1000, values: { current_a: 20, power_w: 4400 } })));
    await publisher.publishAsync(internalTopic.readingBatch("test-ingest"), JSON.stringify(readings), { qos: 1 });
    const robots = [[dingtalk, since.dingtalk, dingtalkText], [wecom, since.wecom, wecomText], [feishu, since.feishu, feishuText]] as const;
    const named = (r: Receiver, from: number, text: (a: Arrival) => string) => BREAKERS.filter((id) => r.arrivals.slice(from).some((a) => a.accepted && new RegExp(`\\b${id}\\b`).test(text(a))));
    const allNamed = () => robots.every(([r, from, text]) => named(r, from, text).length === 40);
    // The service's clock moves a minute at a time (the robots' window), the wall's does not: 3 minutes at most.
    for (let minute = 0; minute < 3 && !allNamed(); minute++) {
      await waitFor(allNamed, 3_000);
      if (!allNamed()) offset += 61_000;
    }
    await waitFor(allNamed, 5_000, { what: "all 40 breakers named at each robot" });
    for (const [robot, from] of robots) {
      expect(maxInAnyMinute(robot.arrivals)).toBeLessThanOrEqual(20);
      expect(robot.arrivals.length - from).toBeLessThan(40); // grouped: fewer messages than alerts
      expect(robot.arrivals.at(-1)!.at - first).toBeLessThan(180_000);
    }
    const several = wecom.arrivals.slice(since.wecom).map(wecomText).find((t) => t.includes("条告警"))!;
    // Several alerts in one message, by school and building: "东区实验学校 · 实验楼N号" headings.
    expect(several).toMatch(/东区实验学校 · 实验楼\d号/);
    expect(Buffer.byteLength(several)).toBeLessThanOrEqual(4096);
  });
});

/** The most requests a robot received in any 60 s (by the service's clock), every request counted. */
function maxInAnyMinute(arrivals: readonly Arrival[]): number {
  return Math.max(0, ...arrivals.map((a) => arrivals.filter((b) => b.at <= a.at && b.at > a.at - 60_000).length));
}
