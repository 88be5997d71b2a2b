// The ingest of a district on real parts (broker, mqtt.js devices with their own credentials, influxd):
// two schools in different time zones (Asia/Shanghai, Europe/Berlin), a Tasmota plug in each. A Tasmota
// `Time` has no zone: it is read in the device's own school's zone, and every point carries its site
// (CONTRACT §9). Continuous queries of an older version (rollups without `site`) are replaced at start.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { ensureRetention, retentionStatements, rollupSelects } from "../../ingest/retention.js";
import { buildingRollupContinuousQuery, buildingRollupMeasurement } from "../../infra/energy-rollup.js";
import { toLines } from "../../domain/line-protocol.js";
import { type RunningIngest, startIngest } from "../../ingest/index.js";
import { localTime } from "../../simulator/local-time.js";
import { freshDatabase } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "district-ingest-group-key-0123456789";
const PASSWORD = "district-ingest-service-password";
const campus = loadCampus("tests/fixtures/district-zones/district.yaml");
let influx: InfluxClient;
let broker: RunningBroker;
let ingest: RunningIngest;
let metrics: Registry;
const devices: MqttClient[] = [];
const RAW_DAYS = 90;
const OLDER_BUILDING_ROLLUP = "energy_building_0123abcd";

/** The continuous queries an older version created: the same rollups, grouped without `site`. */
const olderQueries = (db: string) => retentionStatements(db, RAW_DAYS).cqs.map((cq) => ({ ...cq, text: cq.text.replace('"site", ', "") }));

beforeAll(async () => {
  influx = await freshDatabase("district");
  const db = influx.config.db;
  // An existing database of the version before the district: its rollups grouped without `site`.
  await ensureRetention(influx, RAW_DAYS, createLogger("silent"));
  for (const cq of olderQueries(db)) {
    await influx.query(`DROP CONTINUOUS QUERY "${cq.name}" ON "${db}"`);
    await influx.query(cq.text);
  }
  // And its building energy rollup, grouped by building alone (named after the counted devices only).
  await influx.query(buildingRollupContinuousQuery(db, campus).text.replaceAll(buildingRollupMeasurement(campus), OLDER_BUILDING_ROLLUP).replace('"site", ', ""));
  const env = readEnv({ DATA_DIR: mkdtempSync(join(tmpdir(), "campus-district-")), DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: PASSWORD, LOG_LEVEL: "silent" });
  const ctx = (registry: Registry): ServiceContext => ({ env, campus, log: createLogger("silent"), metrics: registry });
  broker = await startBroker(ctx(createRegistry(false)), { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  metrics = createRegistry(false);
  ingest = await startIngest({ ...ctx(metrics), env: Object.freeze({ ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }) }, { influx, clientId: "district-ingest" });
});

afterAll(async () => {
  await Promise.all(devices.map((c) => c.endAsync(true).catch(() => undefined)));
  await ingest?.stop();
  await broker?.stop();
});

async function device(id: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, { protocolVersion: 4, clientId: id, username: id, password: devicePassword(id, KEY), reconnectPeriod: 0 });
  devices.push(client);
  return client;
}

/** The stored `electrical` points of a device, once `count` are there. */
async function stored(id: string, count: number): Promise<Record<string, unknown>[]> {
  const found = await waitFor(async () => {
    const points = rows(await influx.query(`SELECT * FROM "electrical" WHERE "device" = '${id}'`));
    return points.length >= count ? points : null;
  }, 15_000);
  return found ?? [];
}

const fallbacks = async () => (await metrics.getSingleMetric("campus_power_ingest_timestamp_fallbacks_total")?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;

describe("the ingest of a district", () => {
  it("replaces at start the continuous queries of a version whose rollups had no `site`", async () => {
    const db = influx.config.db;
    const present = new Map((await influx.query("SHOW CONTINUOUS QUERIES")).find((s) => s.name === db)!.values!.map((row) => [String(row[0]), String(row[1])]));
    const loose = (text: string) => text.replace(/["\s]/g, "").toLowerCase();
    for (const cq of retentionStatements(db, RAW_DAYS).cqs) {
      expect(loose(present.get(cq.name) ?? "")).toBe(loose(cq.text));
      expect(present.get(cq.name)).toMatch(/GROUP BY time\(1[mh]\), "?site"?, "?device"?/);
    }
    expect(olderQueries(db).map((cq) => loose(cq.text))).not.toContain(loose(present.get("cq_electrical_1m")!));
    // The building energy rollup of the older shape gave way to one grouped by site as well, under another name.
    expect(present.has(`cq_${OLDER_BUILDING_ROLLUP}`)).toBe(false);
    expect(present.get(`cq_${buildingRollupMeasurement(campus)}`)).toMatch(/GROUP BY time\(1h\), "?site"?, "?building"?/);
  });

  it("stores each Tasmota plug's zone-less Time at the instant it means in its own school's zone, with its site", async () => {
    // A whole second just past: a time read in the wrong zone would be hours off, refused as skewed, and
    // stored at the receive time instead, which is later than this and not on a whole second.
    const at = Math.floor(Date.now() / 1000) * 1000 - 2_000;
    const east = localTime(at, "Asia/Shanghai").iso;
    const west = localTime(at, "Europe/Berlin").iso;
    expect(east).not.toBe(west);
    await (await device("plug-east-101")).publishAsync("tele/tasmota_EA5701/SENSOR", JSON.stringify({ Time: east, ENERGY: { Power: 40, Total: 1.5 } }), { qos: 1 });
    await (await device("plug-west-101")).publishAsync("tele/tasmota_3E5701/SENSOR", JSON.stringify({ Time: west, ENERGY: { Power: 60, Total: 2.5 } }), { qos: 1 });
    expect((await stored("plug-east-101", 1)).map((p) => [p.time, p.site, p.power_w])).toEqual([[at, "east-school", 40]]);
    expect((await stored("plug-west-101", 1)).map((p) => [p.time, p.site, p.power_w])).toEqual([[at, "west-school", 60]]);
    expect(await fallbacks()).toBe(0);

    // The same Time text means another instant in Berlin: 7–8 h later than in Shanghai, so it is not
    // stored at the Shanghai instant but refused as skewed and stored at the receive time (counted).
    const later = at + 1_000;
    const sent = Date.now();
    await (await device("plug-west-101")).publishAsync("tele/tasmota_3E5701/SENSOR", JSON.stringify({ Time: localTime(later, "Asia/Shanghai").iso, ENERGY: { Power: 61, Total: 2.5 } }), { qos: 1 });
    const [, second] = await stored("plug-west-101", 2);
    expect(second).toMatchObject({ site: "west-school", power_w: 61 });
    expect(second!.time).not.toBe(later);
    expect(second!.time).toBeGreaterThanOrEqual(sent);
    expect(await fallbacks()).toBe(1);
  });

  it("rolls each building's hourly energy up with its site, like every other point", async () => {
    const db = influx.config.db;
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 48 * 3_600_000;
    const reading = (device: string, site: string, building: string, kwh: number, minute: number) => ({
      measurement: "electrical",
      tags: { site, device, kind: "breaker", building },
      fields: { energy_kwh: 100 + kwh, energy_delta_kwh: kwh },
      ts: hour + minute * 60_000,
    });
    await influx.write(toLines([reading("brk-east-main", "east-school", "east-class", 1.5, 5), reading("brk-east-main", "east-school", "east-class", 0.5, 35), reading("brk-west-main", "west-school", "west-class", 2, 10)]));
    for (const { select } of rollupSelects(db, `time >= ${hour}ms AND time < ${hour + 3_600_000}ms`, campus).slice(0, 3)) await influx.query(select);
    const measurement = buildingRollupMeasurement(campus);
    const points = rows(await influx.query(`SELECT "energy_delta_kwh", "site", "building" FROM "rollup_1h"."${measurement}" WHERE time = ${hour}ms`));
    expect(points.map((p) => [p.site, p.building, p.energy_delta_kwh]).sort()).toEqual([
      ["east-school", "east-class", 2],
      ["west-school", "west-class", 2],
    ]);
  });
});
