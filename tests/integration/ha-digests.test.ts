// Notifications with REDIS_URL (CONTRACT §12, §14; docs/ha.md): the dates each digest was last sent are kept in
// Redis beside the alerts state, fenced like it, so an alerts service that takes over on another machine (its
// own DATA_DIR) does not send the day's digest a second time; the alerts the notifier tracks are kept there per
// alert (`campus:alerts:notified`), so the one that takes over neither pages an open alert again nor forgets to
// say it ended. Real Redis, broker, InfluxDB and a DingTalk robot receiver; the services' clock is simulated (as
// in notify-digest.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlerts, type RunningAlerts } from "../../alerts/index.js";
import { NOTIFIED_KEY } from "../../alerts/redis-state.js";
import { DIGESTS_KEY } from "../../alerts/redis-store.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { internalTopic } from "../../domain/topics.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { connectService } from "../../infra/mqtt.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";
import type { ServiceContext } from "../../infra/service.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { startDingtalk } from "../helpers/robots/dingtalk.js";
import type { Receiver } from "../helpers/robots/receiver.js";
import { twoTicks } from "../helpers/alerts-ticks.js";
import { waitFor } from "../helpers/wait.js";

const PASSWORD = "service-password-for-tests";
const at = (iso: string) => Date.parse(iso);
const dir = mkdtempSync(join(tmpdir(), "campus-power-ha-digests-"));
let redisServer: LocalRedis;
let redis: Redis;
let dingtalk: Receiver;
let influx: InfluxClient;
let broker: RunningBroker;
let mqttPort = 0;
const running: RunningAlerts[] = [];
let simulated = at("2026-12-07T23:59:50Z"); // 07:59:50 on 8 December in Shanghai
let setAt = Date.now();
const clock = () => simulated + (Date.now() - setAt);
const setClock = (ms: number) => ((simulated = ms), (setAt = Date.now()));
const digests = () => dingtalk.accepted().filter((a) => (a.body.markdown as { title: string }).title.startsWith("【日报】"));

/** A context as on a machine of its own: its own DATA_DIR, where the digests' file would be without Redis. */
function contextOf(machine: string, metrics: Registry): ServiceContext {
  const env = readEnv({
    DATA_DIR: join(dir, machine), LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: "group-key-for-ha-digest-tests-0123",
    INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: join(dir, "district.yaml"), MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
  });
  return { env, campus: loadCampus(env.campusConfig), log: createLogger("silent"), metrics };
}

/** An alerts service with REDIS_URL on `machine`, once active; and a wait for two of its ticks. */
async function activeOn(machine: string): Promise<{ alerts: RunningAlerts; twoTicks: () => Promise<void> }> {
  const metrics = createRegistry(false);
  const alerts = await startAlerts(contextOf(machine, metrics), { influx, tickMs: 100, now: clock, environment: {}, redis: { url: redisServer.url, instance: machine, onDeposed: () => undefined } });
  running.push(alerts);
  await waitFor(() => alerts.role() === "active", 20_000, { what: `${machine} active` });
  return { alerts, twoTicks: () => twoTicks(metrics, machine) };
}

beforeAll(async () => {
  redisServer = await startLocalRedis({ dir: join(dir, "redis") });
  redis = connectRedis(redisServer.url, { name: "ha-digests-test", log: createLogger("silent") });
  await untilReady(redis, redisServer.url, createLogger("silent"));
  dingtalk = await startDingtalk({ token: "dt-token", clock });
  influx = await freshDatabase("ha_digests");
  writeFileSync(join(dir, "east.yaml"), `site: { id: east, name: 东区实验学校, timezone: Asia/Shanghai }
buildings: [ { id: lab-1, name: 实验楼1号, kind: lab } ]
devices:
  - { id: brk-1, kind: breaker, building: lab-1, room: "101", rating_a: 16 }
`);
  writeFileSync(join(dir, "district.yaml"), `district: { id: d, name: 测试区 }
sites: [ east.yaml ]
notify:
  - { type: dingtalk, name: daily, url: "${dingtalk.origin}/robot/send?access_token=dt-token", digest: "08:00" }
`);
  broker = await startBroker(contextOf("broker", createRegistry(false)), { port: 0, wsPort: 0, host: "127.0.0.1" });
  mqttPort = broker.tcpPort;
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((alerts) => alerts.stop()));
  await broker?.stop();
  await dingtalk?.close();
  redis?.disconnect();
  await redisServer?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("notifications with REDIS_URL", () => {
  it("are sent once a day by the active alerts service, not again by the one that takes over on another machine", async () => {
    const first = await activeOn("machine-a");
    // Its first look at the route before 08:00 (a route first seen after its time sends from the next day on).
    await first.twoTicks();
    setClock(at("2026-12-08T00:00:00Z")); // 08:00 in Shanghai
    await waitFor(() => digests().length > 0, 15_000, { what: "the digest from machine-a" });
    expect((digests()[0]!.body.markdown as { title: string }).title).toBe("【日报】东区实验学校 2026-12-08");
    // What was sent is saved in Redis, not in machine-a's DATA_DIR alone.
    await waitFor(async () => (await redis.get(DIGESTS_KEY))?.includes("2026-12-08"), 10_000, { what: "the digest's date in Redis" });

    await first.alerts.stop(); // machine-a goes away; machine-b, which never sent a digest, takes over
    setClock(at("2026-12-08T00:05:00Z"));
    const second = await activeOn("machine-b");
    await second.twoTicks(); // machine-b has looked at the digests due since it took over
    expect(digests()).toHaveLength(1);

    // The next day's digest is sent by machine-b, once.
    setClock(at("2026-12-09T00:00:00Z"));
    await waitFor(() => digests().length > 1, 15_000, { what: "the next day's digest from machine-b" });
    await second.twoTicks();
    expect(digests().map((d) => (d.body.markdown as { title: string }).title)).toEqual(["【日报】东区实验学校 2026-12-08", "【日报】东区实验学校 2026-12-09"]);
  }, 90_000);

  it("keeps the alerts the notifier tracks in Redis: the one that takes over does not page an open alert again, and says when it ended", async () => {
    const first = running.at(-1)!; // machine-b, active since the digests' test
    const publisher = await connectService(`mqtt://127.0.0.1:${mqttPort}`, PASSWORD, "ha-notify-publisher");
    try {
      // What every message said of the arc, in order: "新告警" (opened), "已恢复" (resolved)…; a group's line reads
      // "电弧故障（新告警）", a message about one alert "电弧故障 · 已恢复".
      const arcs = () => dingtalk.accepted().flatMap((a) => [...(a.body.markdown as { text: string }).text.matchAll(/电弧故障(?:（| · )([^）*\n]+)/g)].map((m) => m[1]));
      await publisher.publishAsync(internalTopic.event("brk-1"), JSON.stringify({ device: "brk-1", ts: clock(), type: "arc" }), { qos: 1 });
      await waitFor(() => arcs().length > 0, 15_000, { what: "the arc's page" });
      expect(arcs()).toEqual(["新告警"]);
      const arc = first.state().devices["brk-1"]!.rules["arc-fault"]!.alert!;
      await waitFor(async () => (await redis.hget(NOTIFIED_KEY, arc.id))?.includes('"notified":true'), 10_000, { what: "the tracked arc in Redis" });

      await first.stop(); // machine-b goes away; machine-c takes over with the arc open and paged
      const next = await activeOn("machine-c");
      await next.twoTicks();
      await publisher.publishAsync(internalTopic.ack, JSON.stringify({ alert_id: arc.id, by: "王师傅", request_id: "ha-ack-1" }), { qos: 1 });
      // An arc latches until acknowledged; its condition is over, so the acknowledgement resolves it.
      await waitFor(() => arcs().includes("已恢复"), 15_000, { what: "the arc's end, from machine-c" });
      await next.twoTicks();
      expect(arcs()).toEqual(["新告警", "已恢复"]);
      await waitFor(async () => (await redis.hexists(NOTIFIED_KEY, arc.id)) === 0, 10_000, { what: "the resolved arc's field deleted" });
    } finally {
      await publisher.endAsync();
    }
  }, 90_000);
});
