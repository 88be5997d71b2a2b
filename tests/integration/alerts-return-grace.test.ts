// The grace after a parent comes back (alerts/return-grace.ts, docs/alerts.md "Inhibition"), through the real
// broker, ingest and alerts service and a webhook receiver: while the feeder is down its rooms' offline alerts are inhibited;
// once it is back a room that reports within its offline limit is never paged, one still silent is paged then.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../../domain/alert.js";
import { devicePassword } from "../../domain/credentials.js";
import { freePort } from "../../infra/free-port.js";
import { type AlertsStack, startAlertsStack, stopAlertsStack } from "../helpers/alerts-stack.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/return-grace-campus.yaml");
const PASSWORD = "service-password-for-tests";
const GROUP_KEY = "group-key-for-grace-tests-0123456789";
const HOST = "127.0.0.1";

interface Item { event: string; alert: Alert }
const pages: Item[][] = [];
const seen: Alert[] = [];
const devices = new Map<string, mqtt.MqttClient>();
let server: Server;
let dataDir: string;
let stack: Partial<AlertsStack> = {};

const alertOf = (device: string) => seen.filter((a) => a.device === device && a.rule === "offline").at(-1);
async function status(id: string, online: boolean) {
  let client = devices.get(id);
  if (!client) {
    client = await mqtt.connectAsync(`mqtt://${HOST}:${stack.broker!.tcpPort}`, { username: id, password: devicePassword(id, GROUP_KEY), clientId: id, reconnectPeriod: 0 });
    devices.set(id, client);
  }
  await client.publishAsync(`campus/devices/${id}/status`, online ? "online" : "offline", { qos: 1, retain: true });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "campus-power-return-grace-"));
  const hookPort = await freePort();
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const json = JSON.parse(body) as { event: string; alert: Alert; alerts?: Item[] };
      pages.push(json.alerts ?? [{ event: json.event, alert: json.alert }]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(hookPort, HOST, resolve));
  const influx = await freshDatabase("return_grace");
  const env = {
    DATA_DIR: dataDir, LOG_LEVEL: "silent", SERVICE_PASSWORD: PASSWORD, DEVICE_GROUP_KEY: GROUP_KEY,
    INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, CAMPUS_CONFIG: FIXTURE,
    ALERT_WEBHOOK_URL: `http://${HOST}:${hookPort}/hook`, ALERT_WEBHOOK_SECRET: "webhook-secret-for-tests", ALERT_WEBHOOK_GROUP: "300ms",
  };
  stack = await startAlertsStack({ env, influx, watch: "campus/alerts/+/offline", seen });
});

afterAll(async () => {
  await Promise.all([...devices.values()].map((c) => c.endAsync(true)));
  await stopAlertsStack(stack);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the rooms below a feeder that comes back", () => {
  it("are given their offline limit to report again: one that does is never paged, one still silent is paged then", async () => {
    for (const id of ["g-feeder", "g-101", "g-102"]) await status(id, false);
    const feeder = (await waitFor(() => alertOf("g-feeder"), 10_000, { what: "the feeder offline" }))!.id;
    await waitFor(() => alertOf("g-101")?.inhibited_by === feeder && alertOf("g-102")?.inhibited_by === feeder, 10_000, { what: "both rooms inhibited" });

    await status("g-feeder", true);
    await waitFor(() => alertOf("g-feeder")?.state === "resolved", 10_000, { what: "the feeder back" });
    const backAt = Date.now();
    // Room 101 comes back a second after its feeder (before the grace, it was paged in that second: the group
    // window is 300 ms), then reports every second, within its 6 s limit, as does the feeder.
    await sleep(1_000);
    await status("g-101", true);
    const reporting = setInterval(() => void Promise.all([status("g-101", true), status("g-feeder", true)]).catch(() => undefined), 1_000);
    try {
      await waitFor(() => alertOf("g-101")?.state === "resolved", 10_000, { what: "room 101's offline resolved" });
      // Room 102 stays silent: paged once the grace, 6 s from the feeder's return, has passed.
      const opened = (item: Item) => item.event === "opened" && item.alert.device === "g-102";
      const upTo = await waitFor(() => pages.findIndex((items) => items.some(opened)) + 1, 20_000, { what: "room 102 paged after the grace" });
      expect(Date.now() - backAt).toBeGreaterThanOrEqual(5_500);
      expect(alertOf("g-102")).toMatchObject({ state: "firing" });
      expect(alertOf("g-102")?.inhibited_by).toBeUndefined();
      const paged = pages.slice(0, upTo).flat().map((item) => `${item.event} ${item.alert.device}`);
      expect(paged).toEqual(["opened g-feeder", "resolved g-feeder", "opened g-102"]);
    } finally {
      clearInterval(reporting);
    }
  });
});
