// Issue 13, "done means": a newcomer runs `campus-power up --demo` and, within 90 s of starting it, the
// energy page shows two weeks of days. The real command (broker, ingest, alerts, API, simulator and the
// demo's history writer) against the test influxd, the page in headless Chromium, signed in by the link the
// banner prints. Screenshot under .tmp/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";

const ARTIFACTS = resolve(".tmp/artifacts");
/** Issue 13: "within 90 s the energy page shows two weeks of days". */
const READY_WITHIN_MS = 90_000;
const TWO_WEEKS = 14;

describe("the energy page of `up --demo`", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-energy-demo-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-chromium-"));
  let demo: CliProcess | undefined;
  let context: BrowserContext | undefined;

  afterAll(async () => {
    await context?.close();
    await demo?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("shows two weeks of days with kWh within 90 s of starting", { timeout: 180_000 }, async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const started = Date.now();
    demo = startCli(["up", "--demo"], { MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), INFLUX_URL: influxUrl(), INFLUX_DB: `energy_demo_${process.pid}`, DATA_DIR: dataDir });
    await demo.waitForOutput(/Stop with Ctrl-C/, 60_000);
    const link = demo.output().match(/Dashboard +(http:\/\/localhost:\d+\/#token=\S+)/)![1]!.replace("localhost", "127.0.0.1");
    context = await launchChromium(profileDir, { viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(link);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    await page.goto(link.replace(/#token=.*$/, "#/energy"));

    // The demo writes its past a day at a time, oldest first, in the background: done means every day is there.
    await demo.waitForOutput(/history: done/, Math.max(1, started + READY_WITHIN_MS - Date.now()));
    await page.locator('button[data-days="30"]').click(); // asked again now
    await page.locator("#energy-heatmap svg").waitFor({ timeout: 20_000 });
    const shownMs = Date.now() - started;
    console.log(`energy page with the demo's whole past ${Math.round(shownMs / 1000)} s after \`up --demo\` started`);
    expect(shownMs).toBeLessThanOrEqual(READY_WITHIN_MS);
    // 14 days before today with kWh in the bars (today is under way), and yesterday whole: every hour of every building in the heat map.
    // The heat map of the first load may be the one seen above; the bars are redrawn when the new answer comes.
    const daysWithKwh = async () => {
      const days = await page.locator("#energy-daily g.day-bar").evaluateAll((bars) => bars.map((bar) => bar.querySelectorAll("rect.segment").length > 0));
      return days.slice(0, -1).filter(Boolean).length;
    };
    await expect.poll(daysWithKwh, { timeout: 20_000 }).toBeGreaterThanOrEqual(TWO_WEEKS);
    const buildings = await page.locator("#energy-heatmap .row-name").count();
    const columns = await page.locator("#energy-heatmap rect.cell").evaluateAll((cells) => cells.map((cell) => Number(cell.getAttribute("data-column"))));
    expect(buildings).toBeGreaterThan(0);
    expect(columns.filter((column) => column >= 5 * 24 && column < 6 * 24).length).toBe(24 * buildings); // the 6th day of 7
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "energy-demo-zh.png"), fullPage: true });
  });
});
