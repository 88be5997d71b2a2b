// The district on the dashboard (CONTRACT §9, issue 12 §3 and §7) in headless Chromium against
// `campus-power up` on a district of three schools, one of 2,000 devices (./district-fixture.ts), with
// accounts made by the real `campus-power user add --password-stdin`. Devices publish over MQTT with
// their own credentials. A person signs in with a name and password; a district viewer compares the
// schools (live kW, devices online, alerts, today's kWh and after-hours share), ordered by what needs
// attention, and opens one; an operator of one school sees only it, in the
// page and on its live stream; the search box finds one device among 2,000. Screenshots are kept under
// .tmp/artifacts/ at 1080p and at phone width.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devicePassword } from "../../domain/credentials.js";
import { InfluxClient, rows } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { connectMqtt, type MqttClient } from "../../infra/mqtt.js";
import { CLI, type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";
import { deviceIdsOf, writeDistrictFile } from "./district-fixture.js";

const KEY = "a-district-fleet-key-0123456789";
const VIEWER_TOKEN = "viewer-token-district-012345";
const PASSWORD = "correct horse battery staple";
const ARTIFACTS = resolve(".tmp/artifacts");
/** The devices the test brings online: half of the primary school, one room of the kindergarten, two of the middle school. */
const ONLINE = ["mc-c1-feeder", "mc-c1-r101", "mc-c1-r102", "mc-c1-r103", "mc-c1-r104", "mc-c1-r105", "sf-m1-r101", "xm-b03-r101", "xm-b17-r305"];

const DAY_MS = 86_400_000;
/** Today's energy of the primary school: its classroom block's feeder counter moves by this much (kWh). */
const METERED_KWH = 1.5;

/**
 * Whether a classroom is in its occupied hours at `ms`, by the rule docs/api.md gives (Mon–Fri 07:00–22:00
 * in site time; the fixture has no calendar and no building_kinds), in Asia/Shanghai (UTC+8 all year).
 */
function classroomOccupied(ms: number): boolean {
  const local = new Date(ms + 8 * 3_600_000);
  const day = local.getUTCDay();
  const hour = local.getUTCHours();
  return day >= 1 && day <= 5 && hour >= 7 && hour < 22;
}

describe("the district on the dashboard, in headless Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-district-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-chromium-"));
  let env: NodeJS.ProcessEnv;
  let up: CliProcess;
  let http: string;
  let context: BrowserContext;
  let page: Page;
  const devices = new Map<string, MqttClient>();
  /** When the feeder's second counter reading was taken: its 1.5 kWh are after hours or not by this instant. */
  let meteredAt = 0;

  const publish = (id: string, topic: "status" | "telemetry" | "events", payload: object | string) =>
    devices.get(id)!.publishAsync(`campus/devices/${id}/${topic}`, typeof payload === "string" ? payload : JSON.stringify({ ts: Date.now(), ...payload }), { qos: 1, retain: topic === "status" });
  /** The API as a script with an unscoped viewer token sees it. */
  const apiGet = async (path: string) => (await fetch(`${http}${path}`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).json();
  const tileOrder = () => page.locator("#view-district a.tile").evaluateAll((tiles) => tiles.map((tile) => tile.getAttribute("data-site")));
  const screenshot = (name: string, fullPage = false) => page.screenshot({ path: join(ARTIFACTS, name), fullPage });

  /** Fills and sends the sign-in form as a person does. */
  async function signIn(name: string, password: string): Promise<void> {
    await page.locator("#login[open]").waitFor();
    await page.locator("#username").fill(name);
    await page.locator("#password").fill(password);
    await page.locator("#login-submit").click();
  }

  /** Signs out with the header's button: the API revokes the token; the form is back. */
  async function signOut(): Promise<void> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/api/logout")), page.locator("#logout").click()]);
    expect(response.status()).toBe(204);
    await page.locator("#login[open]").waitFor();
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    http = `http://127.0.0.1:${httpPort}`;
    env = {
      CAMPUS_CONFIG: writeDistrictFile(dataDir), INFLUX_URL: influxUrl(), INFLUX_DB: `district_${process.pid}`, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort),
      HTTP_PORT: String(httpPort), DATA_DIR: dataDir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "service-password-district-0123", API_TOKENS: `viewer:${VIEWER_TOKEN}`, LOG_LEVEL: "warn",
    };
    addUser(env, ["bureau", "--role", "viewer"]);
    addUser(env, ["meicun-ops", "--role", "operator", "--site", "meicun-primary"]);
    up = startCli(["up"], env);
    await up.waitForOutput(/campus-power is up/, 60_000);
    for (const id of ONLINE) {
      devices.set(id, await connectMqtt({ url: `mqtt://127.0.0.1:${mqttPort}`, clientId: id, username: id, password: devicePassword(id, KEY) }));
      await publish(id, "status", "online");
    }
    // The primary school uses 1.5 kWh today in a minute (90 kW: a building's feeder; a counter's first reading
    // has no delta), stored before the API first reads today's energy (it keeps one reading for 30 s,
    // api/energy-today.ts).
    // "Today" must stay the same day until the tiles are read: a run in the last two minutes of the school's day
    // waits for the next (Asia/Shanghai is UTC+8 all year).
    const toMidnight = DAY_MS - ((Date.now() + 8 * 3_600_000) % DAY_MS);
    if (toMidnight < 120_000) await new Promise((resolve) => setTimeout(resolve, toMidnight + 1_000));
    meteredAt = Date.now();
    await publish("mc-c1-feeder", "telemetry", { ts: meteredAt - 60_000, energy_kwh: 100 });
    await publish("mc-c1-feeder", "telemetry", { ts: meteredAt, energy_kwh: 100 + METERED_KWH });
    const influx = new InfluxClient({ url: influxUrl(), db: env.INFLUX_DB! });
    await waitFor(async () => rows(await influx.query(`SELECT sum("energy_delta_kwh") AS kwh FROM "electrical" WHERE "device" = 'mc-c1-feeder'`))[0]?.kwh === METERED_KWH, 15_000, {
      what: "the feeder's kWh stored",
    });
    // A short circuit in the kindergarten: a critical device-trip alert (alerts/rules/events.ts).
    await publish("sf-m1-r101", "events", { type: "trip", reason: "short_circuit" });
    await waitFor(async () => {
      const sites = (await apiGet("/api/sites")) as { id: string; devices_online: number; open_alerts: number }[];
      const of = (id: string) => sites.find((s) => s.id === id);
      return of("meicun-primary")?.devices_online === 6 && of("xinwu-middle")?.devices_online === 2 && of("sunflower-kg")?.open_alerts === 1;
    }, 20_000, { what: "the API counting the devices online and the kindergarten's alert" });
    context = await launchChromium(profileDir, { viewport: { width: 1920, height: 1080 } });
    page = context.pages()[0] ?? (await context.newPage());
  }, 240_000); // up to 2 min more in the last two minutes of a day (above)

  afterAll(async () => {
    await up?.stop("SIGKILL"); // first: whatever else fails here, no `up` outlives the test
    for (const client of devices.values()) client.end(true);
    await context?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("signs in with a name and password, saying in words when the password is wrong or attempts are too many", async () => {
    await page.goto(`${http}/`);
    await signIn("bureau", "not the password at all");
    await expect.poll(() => page.locator("#login-error").textContent(), { timeout: 10_000 }).toBe("Wrong name or password."); // after the scrypt work
    // Ten wrong passwords for one name make its sign-ins wait (api/routes/session.ts DEFAULT_NAME_LIMITS).
    for (let i = 0; i < 10; i++) await fetch(`${http}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "nobody", password: "a wrong password, again" }) });
    await signIn("nobody", "a wrong password, again");
    await expect.poll(() => page.locator("#login-error").textContent(), { timeout: 10_000 }).toMatch(/^Too many attempts: wait \d+ s, then try again\.$/);

    await signIn("bureau", PASSWORD);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    expect(await page.locator("#login").getAttribute("open")).toBeNull();
    expect(await page.locator("#user-name").textContent()).toBe("bureau");
    expect(await page.locator("#role").textContent()).toBe("signed in as viewer");
  }, 60_000); // eleven wrong sign-ins, each costing the server a memory-hard hash (scrypt)

  it("shows a district viewer the three schools in attention order, live, and opens one school's campus alone", async () => {
    expect(new URL(page.url()).hash).toBe("#/district"); // several schools: the district view is the landing view
    // Critical alerts first (the kindergarten), then the share of devices offline (1,998 of 2,000 before 6 of 12),
    // although by name the primary school would come first.
    await expect.poll(tileOrder, { timeout: 10_000 }).toEqual(["sunflower-kg", "xinwu-middle", "meicun-primary"]);
    const kindergarten = page.locator('a.tile[data-site="sunflower-kg"]');
    expect(await kindergarten.locator(".sev-word").allTextContents()).toEqual(["1 critical"]);
    expect(await kindergarten.locator(".tile-devices").textContent()).toBe("1/6 online · 5 offline");
    expect(await page.locator('a.tile[data-site="xinwu-middle"] .tile-devices').textContent()).toBe("2/2000 online · 1998 offline");
    expect(await page.locator("#nav-district").isVisible()).toBe(true);
    // Today's kWh and its after-hours share: all of it, or none, by when the feeder's counter moved.
    const share = classroomOccupied(meteredAt) ? "0%" : "100%";
    expect(await page.locator('a.tile[data-site="meicun-primary"] .tile-energy').textContent()).toBe(`today ${METERED_KWH} kWh · after hours ${share}`);
    expect(await kindergarten.locator(".tile-energy").textContent()).toBe("today 0.0 kWh · after hours –"); // nothing metered there

    // A breaker trips in the primary school (a major alert): it moves above the middle school by itself,
    // right after a poll of /api/sites, so within the 5 s only the live alert can have asked for the
    // figures again (the next regular poll is 10 s later).
    await page.waitForResponse((r) => r.url().endsWith("/api/sites"));
    await publish("mc-c1-r101", "events", { type: "trip", reason: "overload" });
    await expect.poll(tileOrder, { timeout: 5_000 }).toEqual(["sunflower-kg", "meicun-primary", "xinwu-middle"]);
    expect(await page.locator('a.tile[data-site="meicun-primary"] .sev-word').allTextContents()).toEqual(["1 major"]);
    // Live power on the tile: the middle school's one breaker that reports it (its feeder is offline, so the
    // branch below the feeder counts), within a poll of /api/sites.
    await publish("xm-b03-r101", "telemetry", { power_w: 2400 });
    await expect.poll(() => page.locator('a.tile[data-site="xinwu-middle"] .tile-power').textContent(), { timeout: 15_000 }).toBe("2.4 kW");
    await screenshot("district-1920x1080.png");

    await page.locator('a.tile[data-site="meicun-primary"]').click();
    await expect.poll(() => new URL(page.url()).hash).toBe("#/site/meicun-primary");
    expect(await page.locator("#site-title").textContent()).toBe("Meicun Primary School");
    await expect.poll(() => page.locator("details.building").evaluateAll((all) => all.map((b) => b.getAttribute("data-building")))).toEqual(["mc-class", "mc-office"]);
    await expect.poll(() => page.locator("#alerts li.alert").evaluateAll((all) => all.map((a) => a.querySelector("a")?.textContent))).toEqual(["mc-c1-r101"]);
    const campusView = (await page.locator("#view-overview").innerHTML()) + (await page.locator("header").innerHTML());
    for (const other of ["sf-m1", "xm-b", "Sunflower", "Xinwu"]) expect(campusView).not.toContain(other);
  });

  it("keeps a 2,000-device campus to summary lines, draws only opened buildings, and finds a device or room", async () => {
    await page.locator("#nav-district").click();
    await page.locator('a.tile[data-site="xinwu-middle"]').click();
    await expect.poll(() => page.locator("details.building").count()).toBe(20);
    expect(await page.locator("li.device").count()).toBe(0); // every building a summary line until opened
    const summary = page.locator('details[data-building="xm-b03"] > summary');
    expect(await summary.locator(".building-counts").textContent()).toBe("1/100 online");
    await screenshot("campus-2000-devices-summaries-1920x1080.png");

    await page.locator("#device-search").fill("305");
    await expect.poll(() => page.locator("#search-results button").count()).toBe(12); // room 305 of each of the 20 buildings, 12 listed
    expect(await page.locator("#search-results li.muted").textContent()).toBe("8 more: type more to narrow it down");
    await page.locator("#device-search").fill("xm-b17-r305");
    await page.locator("#device-search").press("Enter");
    const found = page.locator('li.device.found[data-device="xm-b17-r305"]');
    await found.waitFor();
    expect(await found.isVisible()).toBe(true);
    expect(await found.locator(".state").textContent()).toBe("online");
    expect(await page.locator("li.device").count()).toBe(100); // the opened building's rows, no other
    await screenshot("campus-2000-devices-found-1920x1080.png");

    // A trip in room 305 of building 17: alarming devices come first — the building, then the room.
    await publish("xm-b17-r305", "events", { type: "trip", reason: "overload" });
    await expect.poll(() => page.locator("details.building").first().getAttribute("data-building"), { timeout: 15_000 }).toBe("xm-b17");
    await expect.poll(() => page.locator('details[data-building="xm-b17"] li.room').first().getAttribute("data-room")).toBe("305");
    expect(await page.locator('details[data-building="xm-b17"] > summary .alarm-words').textContent()).toBe("alerts: 1");
  });

  it("lands an operator of one school on its campus, and never shows them another school, in the page or on the stream", async () => {
    await signOut();
    const frames: string[] = [];
    page.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => frames.push(String(payload))));
    await signIn("meicun-ops", PASSWORD);
    // The name is shown in the same step as the landing view is chosen (the connection pill may still say
    // "live" from the last session until its socket's close is handled).
    await expect.poll(() => page.locator("#user-name").textContent(), { timeout: 15_000 }).toBe("meicun-ops");
    expect(new URL(page.url()).hash).toBe("#/"); // one school: its campus, no district view
    expect(await page.locator("#nav-district").isVisible()).toBe(false);

    // Other schools' devices report first; once the API has them, a reading of the operator's own school
    // is the marker: whatever the page was sent about the others came before it.
    await publish("xm-b03-r101", "telemetry", { power_w: 555 });
    await publish("sf-m1-r101", "telemetry", { power_w: 444 });
    await waitFor(async () => {
      const all = (await apiGet("/api/devices")) as { id: string; latest: { power_w?: number } }[];
      return all.find((d) => d.id === "xm-b03-r101")?.latest.power_w === 555 && all.find((d) => d.id === "sf-m1-r101")?.latest.power_w === 444;
    }, 10_000, { what: "the API holding the other schools' readings" });
    await publish("mc-c1-r102", "telemetry", { power_w: 321 });
    await page.locator('details[data-building="mc-class"] > summary').click();
    await expect.poll(() => page.locator('li.device[data-device="mc-c1-r102"] .power').textContent(), { timeout: 10_000 }).toBe("321 W");

    await page.goto(`${http}/#/district`); // no district for one school: its campus
    await expect.poll(() => new URL(page.url()).hash).toBe("#/");
    await page.goto(`${http}/#/site/sunflower-kg`); // another school is unknown here, as to the API
    await expect.poll(() => new URL(page.url()).hash).toBe("#/");
    await page.locator("#device-search").fill("r101");
    await expect.poll(() => page.locator("#search-results button").count()).toBe(2); // mc-c1-r101 and mc-o1-r101 only
    const others = [...deviceIdsOf("xinwu-middle"), ...deviceIdsOf("sunflower-kg"), "xinwu-middle", "sunflower-kg", "Xinwu", "Sunflower"];
    const html = await page.content();
    const streamed = frames.join("\n");
    expect(frames.length).toBeGreaterThan(0);
    expect(others.filter((id) => html.includes(id))).toEqual([]);
    expect(others.filter((id) => streamed.includes(id))).toEqual([]);
  });

  it("revokes the token on sign-out, and fits a phone in Chinese: the school tiles stack", async () => {
    const token = await page.evaluate("localStorage.getItem('campus-power-token')");
    await signOut();
    expect((await fetch(`${http}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect(await page.locator("#view-overview").innerHTML()).not.toContain("mc-c1"); // nothing of the last school stays behind the form

    await page.setViewportSize({ width: 390, height: 844 });
    await signIn("bureau", PASSWORD);
    await page.locator("a.tile").first().waitFor({ timeout: 15_000 });
    await page.selectOption("#lang", "zh-CN");
    await expect.poll(() => page.locator('a.tile[data-site="sunflower-kg"] .sev-word').allTextContents()).toEqual(["紧急 1 条"]);
    expect(await page.locator('a.tile[data-site="meicun-primary"] .tile-energy').textContent()).toBe(`今日 ${METERED_KWH} kWh · 非工作时间 ${classroomOccupied(meteredAt) ? "0%" : "100%"}`);
    const boxes = await page.locator("a.tile").evaluateAll((tiles) => tiles.map((tile) => tile.getBoundingClientRect()).map(({ x, y, width }) => ({ x, y, width })));
    expect(boxes).toHaveLength(3);
    expect(new Set(boxes.map((box) => box.x)).size).toBe(1); // one column
    expect(boxes[1]!.y).toBeGreaterThan(boxes[0]!.y);
    expect(boxes[2]!.y).toBeGreaterThan(boxes[1]!.y);
    expect(boxes[0]!.width).toBeGreaterThan(300);
    expect((await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number).toBeLessThanOrEqual(1); // no sideways scrolling
    await screenshot("district-phone-zh.png", true);

    await page.locator('a.tile[data-site="xinwu-middle"]').click();
    await page.locator('li.device[data-device="xm-b17-r305"]').waitFor(); // building 17 stays open in this browser
    expect((await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) as number).toBeLessThanOrEqual(1);
    await screenshot("campus-phone-zh.png");
  });
});

/** `campus-power user add NAME ... --password-stdin`, as an administrator's script runs it. */
function addUser(env: NodeJS.ProcessEnv, args: string[]): void {
  const result = spawnSync(process.execPath, [CLI, "user", "add", ...args, "--password-stdin"], { env: { PATH: process.env.PATH, ...env }, input: `${PASSWORD}\n`, encoding: "utf8", timeout: 30_000 });
  expect(result.status, result.stderr).toBe(0);
}
