// The newcomer's path: `campus-power up --demo` with nothing configured but where InfluxDB is.
// Live readings through the API and WebSocket within a minute; the demo overload alert within minutes.
import { statSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

interface DeviceJson {
  id: string;
  online: boolean;
  latest: Record<string, unknown>;
}

describe("campus-power up --demo", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-demo-"));
  const db = `demo_${process.pid}`;
  let demo: CliProcess | undefined;
  afterAll(async () => {
    await demo?.stop("SIGKILL");
  });

  it("shows live data at once and an overload alert within minutes, with secrets that survive a restart", { timeout: 330_000 }, async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const env = { MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), INFLUX_URL: influxUrl(), INFLUX_DB: db, DATA_DIR: dataDir };
    const started = Date.now();
    demo = startCli(["up", "--demo"], env);
    await demo.waitForOutput(/Stop with Ctrl-C/, 60_000);
    const banner = demo.output();
    const viewer = banner.match(/^ {4}viewer +(\S+)$/m)?.[1];
    const operator = banner.match(/^ {4}operator +(\S+)$/m)?.[1];
    expect(viewer).toMatch(/^\S{16,}$/);
    expect(operator).toMatch(/^\S{16,}$/);
    expect(banner).toMatch(/DEVICE_GROUP_KEY=[0-9a-f]{48}/);
    expect(banner).toMatch(/SERVICE_PASSWORD=\S{16,}/);
    expect(banner).toContain(`http://localhost:${httpPort}/#token=${operator}`);
    expect(statSync(join(dataDir, "demo-secrets.json")).mode & 0o777).toBe(0o600);

    const get = async <T>(path: string) => (await (await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${viewer}` } })).json()) as T;
    // Live readings through the API within a minute of starting.
    const live = await waitFor(async () => {
      const devices = await get<DeviceJson[]>("/api/devices");
      return devices.filter((d) => d.online && typeof d.latest.power_w === "number").length >= 38 ? devices : null;
    }, 60_000);
    expect(live).not.toBeNull();
    expect(live!.length).toBe(42);
    expect(Date.now() - started).toBeLessThan(60_000);

    // ... and through the WebSocket: a snapshot, then readings.
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/api/live?token=${viewer}`);
    const types: string[] = [];
    socket.on("message", (data) => types.push((JSON.parse(data.toString()) as { type: string }).type));
    expect(await waitFor(() => types.filter((t) => t === "reading").length >= 5, 20_000)).toBe(true);
    socket.close();
    expect(types[0]).toBe("snapshot");

    // ... and stored in InfluxDB.
    const influx = new InfluxClient({ url: influxUrl(), db });
    const counted = rows(await influx.query("SELECT count(power_w) FROM electrical"));
    expect(Number(counted[0]?.count)).toBeGreaterThan(40);

    // The demo's dormitory room overloads; its alert opens within a few minutes of starting.
    const alert = await waitFor(async () => (await get<{ rule: string; device: string }[]>("/api/alerts?state=open")).find((a) => a.rule === "overload") ?? null, 240_000, 1_000);
    expect(alert).toMatchObject({ rule: "overload", device: "brk-d3-301" });
    await demo.waitForOutput(/open alerts \d+: .*overload@brk-d3-301/, 20_000);

    const stopped = await demo.stop("SIGINT");
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);

    // The generated tokens were kept: a restarted demo prints the same ones.
    demo = startCli(["up", "--demo"], env);
    await demo.waitForOutput(/Stop with Ctrl-C/, 60_000);
    expect(demo.output()).toContain(`viewer    ${viewer}`);
    expect((await demo.stop()).code).toBe(0);
  });

  it("stops without calling its own devices offline: the alerts service stops before the simulated devices do", { timeout: 120_000 }, async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const quietDb = `demo_stop_${process.pid}`;
    const env = { MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), INFLUX_URL: influxUrl(), INFLUX_DB: quietDb, DATA_DIR: mkdtempSync(join(tmpdir(), "campus-demo-stop-")) };
    demo = startCli(["up", "--demo", "--history", "0"], env);
    await demo.waitForOutput(/devices online 42\/42/, 60_000);
    expect((await demo.stop("SIGTERM")).code).toBe(0);

    const influx = new InfluxClient({ url: influxUrl(), db: quietDb });
    const count = async (query: string) => Number(rows(await influx.query(query))[0]?.count ?? 0);
    // The devices did go offline while the stack stopped (the ingest, which stops after them, stored it) ...
    expect(await count("SELECT count(online) FROM device_status WHERE online = false")).toBe(42);
    // ... and no offline alert was raised, notified or stored for it (the alerts service writes its points as it stops).
    expect(await count("SELECT count(alert_id) FROM alert WHERE rule = 'offline'")).toBe(0);
  });
});
