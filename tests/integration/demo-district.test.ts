// The demo district (CONTRACT §9) as a newcomer runs it: `campus-power up --demo --district` with nothing
// configured but where InfluxDB is; every device of all three schools reports, each point tagged with its
// school. And the bundled district file passes check-config.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCampus } from "../../infra/campus-file.js";
import { InfluxClient } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, runCli, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const DISTRICT_FILE = "config/demo-district.yaml";

describe("the demo district", () => {
  const district = loadCampus(DISTRICT_FILE);
  let demo: CliProcess | undefined;
  afterAll(async () => {
    await demo?.stop("SIGKILL");
  });

  it("passes check-config: three schools of different sizes", () => {
    const { status, stdout } = runCli(["check-config", DISTRICT_FILE]);
    expect(status).toBe(0);
    expect(stdout).toContain(`${DISTRICT_FILE}: valid — 3 sites, 10 buildings, 80 devices`);
    expect(district.sites.map((s) => [s.site.id, s.devices.length])).toEqual([
      ["xinwu-exp", 42],
      ["meicun-primary", 25],
      ["sunflower-kindergarten", 13],
    ]);
  });

  it("refuses --district without --demo, and beside a CAMPUS_CONFIG of the user's, before starting anything", () => {
    const alone = runCli(["up", "--district"]);
    expect(alone.status).toBe(1);
    expect(alone.stderr).toMatch(/--district .*needs --demo/);
    const beside = runCli(["up", "--demo", "--district"], { CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml" });
    expect(beside.status).toBe(1);
    expect(beside.stderr).toContain("CAMPUS_CONFIG names tests/fixtures/test-campus.yaml");
  });

  it("runs under up --demo --district, and every device of every school reports, tagged with its school", { timeout: 120_000 }, async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const db = `demo_district_${process.pid}`;
    const env = { MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), INFLUX_URL: influxUrl(), INFLUX_DB: db, DATA_DIR: mkdtempSync(join(tmpdir(), "campus-demo-district-")) };
    demo = startCli(["up", "--demo", "--district"], env);
    await demo.waitForOutput(/Stop with Ctrl-C/, 60_000);
    const banner = demo.output();
    expect(banner).toContain("campus-power demo is running (the bundled demo district, simulated devices connected)");
    expect(banner).toContain(`${district.district.name}: 3 schools, 80 devices`);
    for (const site of district.sites) expect(banner).toContain(site.site.name);

    const influx = new InfluxClient({ url: influxUrl(), db });
    const expected = district.devices.map((d) => `${d.site}/${d.id}`).sort();
    const reported = await waitFor(async () => {
      const series = await influx.query(`SELECT count("power_w") FROM "electrical" WHERE "phase" = '' GROUP BY "site", "device"`).catch(() => []);
      const seen = series.map((s) => `${s.tags?.site}/${s.tags?.device}`).sort();
      return seen.length === expected.length ? seen : null;
    }, 60_000, 1_000);
    expect(reported).toEqual(expected);

    // A school's operator signs in with the name and password the banner printed: only that school exists for them.
    const account = /^\s+(meicun-primary-operator)\s+(\S+)\s+operator of meicun-primary$/m.exec(banner);
    expect(account, banner).not.toBeNull();
    const api = `http://127.0.0.1:${httpPort}`;
    const login = await fetch(`${api}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: account![1], password: account![2] }) });
    expect(login.status).toBe(200);
    const { token, user } = (await login.json()) as { token: string; user: { sites: string[] } };
    expect(user.sites).toEqual(["meicun-primary"]);
    const as = (path: string) => fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await (await as("/api/sites")).json()) as { id: string }[]).map((site) => site.id)).toEqual(["meicun-primary"]);
    const devices = (await (await as("/api/devices")).json()) as { id: string; site: string }[];
    expect(devices.map((d) => d.id).sort()).toEqual(district.sites.find((site) => site.site.id === "meicun-primary")!.devices.map((d) => d.id).sort());
    expect((await as("/api/devices/brk-d3-301/readings?field=power_w")).status).toBe(404);
    // The bureau's viewer compares the three schools.
    const bureau = /^\s+(bureau)\s+(\S+)\s+viewer, every school$/m.exec(banner);
    const bureauLogin = await fetch(`${api}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: bureau![1], password: bureau![2] }) });
    const bureauToken = ((await bureauLogin.json()) as { token: string }).token;
    const sites = (await (await fetch(`${api}/api/sites`, { headers: { authorization: `Bearer ${bureauToken}` } })).json()) as { id: string }[];
    expect(sites.map((site) => site.id).sort()).toEqual(district.sites.map((site) => site.site.id).sort());

    const stopped = await demo.stop("SIGINT");
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
  });
});
