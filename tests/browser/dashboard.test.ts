// The dashboard in a real browser: headless Chromium (Debian's package, never downloaded) driven by
// playwright-core, against `campus-power up` (real broker, ingest, alerts, API) and the test influxd.
// A device publishes over MQTT with its own credentials; the page must show it, and an operator
// acknowledges an alert with a note; a device page draws the history it sent; signing out stops the
// page's traffic. Screenshots are kept under .tmp/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, type Locator, type Page, type Request, type WebSocket } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devicePassword } from "../../domain/credentials.js";
import { toLines } from "../../domain/line-protocol.js";
import { InfluxClient } from "../../infra/influx.js";
import { freePort } from "../../infra/free-port.js";
import { connectMqtt, type MqttClient } from "../../infra/mqtt.js";
import { type CliProcess, runCli, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "a-browser-fleet-key-0123456789";
const OPERATOR = "operator-token-browser-0123";
const ARTIFACTS = resolve(".tmp/artifacts");
const HOUR = 3_600_000;

/** The campus file and database of this file's stack, for `up` and for `backfill`. */
const stackEnv = () => ({ CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml", INFLUX_URL: influxUrl(), INFLUX_DB: `browser_${process.pid}` });

describe("the dashboard in headless Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-browser-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-chromium-"));
  let up: CliProcess;
  let http: string;
  let mqttUrl: string;
  let context: BrowserContext;
  let page: Page;
  let device: MqttClient;
  let influx: InfluxClient;

  beforeAll(async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    http = `http://127.0.0.1:${httpPort}`;
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    influx = new InfluxClient({ url: influxUrl(), db: `browser_${process.pid}` });
    up = startCli(["up"], {
      ...stackEnv(), MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), DATA_DIR: dataDir, DEVICE_GROUP_KEY: KEY,
      SERVICE_PASSWORD: "service-password-browser-0123", API_TOKENS: `operator:${OPERATOR}`, LOG_LEVEL: "warn",
    });
    await up.waitForOutput(/campus-power is up/);
    context = await launchChromium(profileDir, { viewport: { width: 1920, height: 1080 } });
    page = context.pages()[0] ?? (await context.newPage());
    device = await connectMqtt({ url: mqttUrl, clientId: "brk-d1-102", username: "brk-d1-102", password: devicePassword("brk-d1-102", KEY) });
  });

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await context?.close();
    await up?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("loads with a token, shows a reading published over MQTT, and lets an operator acknowledge an alert with a note", async () => {
    await page.goto(`${http}/#token=${OPERATOR}`);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    expect(page.url()).not.toContain("token="); // the token leaves the address bar at once

    await device.publishAsync("campus/devices/brk-d1-102/status", "online", { qos: 1, retain: true });
    await device.publishAsync("campus/devices/brk-d1-102/telemetry", JSON.stringify({ ts: Date.now(), power_w: 777, current_a: 12, voltage_v: 221 }), { qos: 1 });
    await page.locator('details.building[data-building="dorm-1"] > summary').click(); // a summary line until opened
    const row = page.locator('li.device[data-device="brk-d1-102"]');
    await expect.poll(() => row.locator(".power").textContent(), { timeout: 15_000 }).toBe("777 W");
    await expect.poll(() => row.locator(".pct").textContent()).toContain("75%"); // 12 A of a 16 A rating
    await expect.poll(() => row.locator(".state").textContent(), { timeout: 10_000 }).toBe("online");
    await expect.poll(() => page.locator("#campus-total").textContent(), { timeout: 10_000 }).toBe("0.8 kW"); // the building total, polled

    // A trip reported by the breaker: the alerts service opens a latched device-trip alert.
    await device.publishAsync("campus/devices/brk-d1-102/events", JSON.stringify({ ts: Date.now(), type: "trip", reason: "overload" }), { qos: 1 });
    const alert = page.locator("#alerts li.alert", { hasText: "brk-d1-102" });
    await alert.locator("button.ack").click({ timeout: 15_000 });
    await page.locator("#ack-note").fill("reset the breaker, kettle removed");
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes("/ack") && r.request().method() === "POST"), page.locator("#ack-confirm").click()]);
    expect(response.status()).toBe(200);
    expect((await response.json()).ack_note).toBe("reset the breaker, kettle removed");
    await expect.poll(() => alert.locator("button.ack").count(), { timeout: 10_000 }).toBe(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    const wall = join(ARTIFACTS, "dashboard-1920x1080.png");
    await page.screenshot({ path: wall });
    console.log(`screenshot: ${wall}`);
  });

  it("switches to Simplified Chinese, shows a device's history and the energy page, and fits a phone", async () => {
    await page.selectOption("#lang", "zh-CN");
    await expect.poll(() => page.locator("header .total span").textContent()).toBe("全校总功率");

    // History the breaker sent: readings of three earlier hours (as a device flushes its buffer after an
    // outage), beside the 777 W reading of the first test. The continuous queries roll up only the last
    // 15 minutes, so those hours are rolled up by `campus-power backfill`, as an operator would.
    const sentAt = Date.now();
    const earlier = [
      [3, 420],
      [2, 560],
      [1, 690],
    ] as const; // [hours ago, power_w]
    for (const [hoursAgo, power_w] of earlier) {
      await device.publishAsync("campus/devices/brk-d1-102/telemetry", JSON.stringify({ ts: sentAt - hoursAgo * HOUR, power_w }), { qos: 1 });
    }
    const stored = async () => (await influx.query(`SELECT count("power_w") FROM "electrical" WHERE "device" = 'brk-d1-102'`))[0]?.values[0]?.[1];
    await waitFor(async () => (await stored()) === 4, 15_000, { what: "the ingest storing the four readings" });
    const backfill = runCli(["backfill", "--from", new Date(sentAt - 4 * HOUR).toISOString(), "--to", new Date(sentAt).toISOString()], stackEnv());
    expect(backfill.status, backfill.stderr).toBe(0);

    await page.goto(`${http}/#/device/brk-d1-102`);
    await page.locator("#view-device .charts").waitFor();
    await expect.poll(() => page.locator("#view-device figure.chart").count()).toBe(5);
    // The 24-hour chart, 15-minute means: one point per reading, each in its own bucket. Its text
    // alternative comes from the data uPlot holds; the canvas must show the series' colour.
    const powerChart = page.locator('[data-chart="power_w"]');
    await expect.poll(() => powerChart.getAttribute("aria-label"), { timeout: 15_000 }).toBe("共 4 个数据点，420–777 W，最后 777 W");
    expect(await powerChart.getAttribute("role")).toBe("img");
    expect(await pixelsOfColour(powerChart.locator("canvas"), [0x2f, 0x6f, 0xb0])).toBeGreaterThan(20);
    await page.screenshot({ path: join(ARTIFACTS, "device-zh.png") });
    // Energy as the ingest stores it for the last three days: counter deltas, rolled up per hour by its
    // continuous queries (written here directly, as those only roll up the last two hours).
    const now = Math.floor(Date.now() / HOUR) * HOUR;
    const points = [];
    for (let h = 1; h <= 72; h++) {
      points.push({ measurement: "electrical", tags: { device: "feeder-d1", kind: "meter", building: "dorm-1" }, fields: { energy_delta_kwh: 4 + (h % 24 < 8 ? 3 : 0) }, ts: now - h * HOUR });
      points.push({ measurement: "electrical", tags: { device: "brk-c1-main", kind: "breaker", building: "class-1" }, fields: { energy_delta_kwh: h % 24 < 10 ? 6 : 0.5 }, ts: now - h * HOUR });
    }
    await influx.write(toLines(points.filter((p) => p.ts < now - HOUR)), "rollup_1h");
    await influx.write(toLines(points.filter((p) => p.ts >= now - HOUR)));
    await page.goto(`${http}/#/energy`);
    await page.locator("#view-energy h2").waitFor();
    expect(await page.locator("#view-energy h2").textContent()).toContain("用电量");
    await page.locator("#energy-table table").waitFor();
    expect(await page.locator("#energy-table thead th").allTextContents()).toEqual(["日期", "Classroom Block 1", "Dormitory 1"]);
    expect(await page.locator("#energy-table tbody tr").count()).toBeGreaterThanOrEqual(3); // three days and a bit
    await page.screenshot({ path: join(ARTIFACTS, "energy-zh.png") });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${http}/#/`);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow as number).toBeLessThanOrEqual(1); // no sideways scrolling on a phone
    const phone = join(ARTIFACTS, "dashboard-phone-zh.png");
    await page.screenshot({ path: phone, fullPage: true });
    console.log(`screenshot: ${phone}`);
  });

  it("stops reconnecting and polling once the user signs out", async () => {
    // From here the page's timers are the test's: it runs a minute of them at once after signing out. A
    // new document (not a hash change of the open one) is needed for the page to use the installed clock.
    await context.clock.install();
    await page.goto("about:blank");
    await page.goto(`${http}/#token=${OPERATOR}`);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    await context.clock.pauseAt(Date.now() + 1_000);
    const sentAfterSignOut: string[] = [];
    const onWebSocket = (socket: WebSocket) => sentAfterSignOut.push(`WebSocket ${new URL(socket.url()).pathname}`);
    const onRequest = (request: Request) => sentAfterSignOut.push(`${request.method()} ${new URL(request.url()).pathname}`);
    page.on("websocket", onWebSocket);
    page.on("request", onRequest);
    try {
      await page.locator("#logout").click(); // the API revokes the token first (POST /api/logout), the page then stops
      await page.locator("#login").waitFor();
      await page.locator("#connection.off").waitFor(); // the live stream's close was handled (where a reconnect would be scheduled)
      await context.clock.runFor(60_000); // reconnect delays 1–30 s, building polls every 3 s
      // The marker: a request the page makes after those timers ran. The page's requests and sockets are
      // reported in the order it makes them, so whatever it sent after signing out is listed before it.
      await Promise.all([page.waitForRequest((request) => request.url().endsWith("/after-sign-out")), page.evaluate("fetch('/after-sign-out').then((response) => response.status)")]);
      expect(sentAfterSignOut).toEqual(["POST /api/logout", "GET /after-sign-out"]);
    } finally {
      page.off("websocket", onWebSocket);
      page.off("request", onRequest);
    }
  });
});

/** How many pixels of a canvas have this colour (each channel within 16): what a chart's series drew. */
function pixelsOfColour(canvas: Locator, colour: readonly [number, number, number]): Promise<number> {
  return canvas.evaluate((element: CanvasLike, [red, green, blue]) => {
    const { data } = element.getContext("2d").getImageData(0, 0, element.width, element.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i]! - red) <= 16 && Math.abs(data[i + 1]! - green) <= 16 && Math.abs(data[i + 2]! - blue) <= 16 && data[i + 3]! > 200) count++;
    }
    return count;
  }, colour);
}

/** The part of a browser's HTMLCanvasElement read above (this project's TypeScript has no DOM library). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, width: number, height: number): { data: ArrayLike<number> } };
}
