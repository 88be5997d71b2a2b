// The dashboard under its security headers (CONTRACT §13, issue 16 item 3), in headless Chromium against
// `campus-power up --demo --district` (real broker, ingest, alerts, API, simulator, two days of history):
// every answer carries the CSP (no inline script), nosniff, no framing and no referrer; signed in by the
// banner's link, the district, campus, device, energy and switching views, the printable report and the
// swagger UI open with no CSP violation, seen both as `securitypolicyviolation` events and as console
// messages; the energy page's charts draw, and the styles the dashboard writes into its HTML apply.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";


/** The directives of a Content-Security-Policy header, by name. */
function directivesOf(header: string | undefined): Map<string, string[]> {
  const entries = (header ?? "").split(";").map((d) => d.trim().split(/\s+/)).filter((parts) => parts[0] !== "");
  return new Map(entries.map(([name = "", ...values]) => [name, values]));
}

describe("the dashboard under its Content-Security-Policy, in headless Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-csp-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-chromium-"));
  let demo: CliProcess;
  let http: string;
  let token: string;
  let context: BrowserContext;
  let page: Page;
  /** Every CSP violation the page reported, as an event or on the console; emptied before each test. */
  const violations: string[] = [];
  beforeEach(() => void violations.splice(0));

  beforeAll(async () => {
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    demo = startCli(["up", "--demo", "--district", "--history", "2d"], {
      MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), INFLUX_URL: influxUrl(), INFLUX_DB: `csp_${process.pid}`, DATA_DIR: dataDir,
    });
    await demo.waitForOutput(/Stop with Ctrl-C/, 60_000);
    token = demo.output().match(/Dashboard +http:\/\/localhost:\d+\/#token=(\S+)/)![1]!;
    http = `http://127.0.0.1:${httpPort}`;
    context = await launchChromium(profileDir, { viewport: { width: 1280, height: 900 } });
    // A binding and an init script come in through the DevTools protocol, which the page's CSP does not govern.
    await context.exposeBinding("reportCspViolation", (_source, text: string) => void violations.push(text));
    await context.addInitScript(`document.addEventListener("securitypolicyviolation", (event) =>
      reportCspViolation(event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber))`);
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) violations.push(`console: ${message.text()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await demo?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("serves the page, the API and its errors with the security headers", async () => {
    const answers = [await fetch(`${http}/`), await fetch(`${http}/api/devices`), await fetch(`${http}/api/devices`, { headers: { authorization: `Bearer ${token}` } }), await fetch(`${http}/no-such-page`)];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 404]);
    for (const answer of answers) {
      const csp = directivesOf(answer.headers.get("content-security-policy") ?? undefined);
      expect(csp.get("script-src")).toEqual(["'self'"]);
      expect(csp.get("script-src-attr")).toEqual(["'none'"]);
      expect(csp.get("style-src")).toEqual(["'self'"]);
      expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
      expect(csp.has("upgrade-insecure-requests")).toBe(false); // a school LAN may serve plain http
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
      expect(answer.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(answer.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    }
  });

  it("opens the district, campus, device, energy and switching views with no CSP violation", { timeout: 120_000 }, async () => {
    await page.goto(`${http}/#token=${token}`);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });

    await page.goto(`${http}/#/district`);
    await page.locator("#view-district .tile, #view-district [data-site]").first().waitFor({ timeout: 15_000 });

    await page.goto(`${http}/#/site/xinwu-exp`);
    const building = page.locator("details.building > summary").first();
    await building.click();
    // The tree's rows carry style="--depth:…" and the load bars style="width:…%", written as HTML: they must apply.
    const row = page.locator("li.device[style]").first();
    await row.waitFor({ timeout: 15_000 });
    expect(await page.evaluate(`getComputedStyle(document.querySelector("li.device[style]")).getPropertyValue("--depth").trim()`)).toMatch(/^\d+$/);

    const deviceId = await row.getAttribute("data-device");
    await page.goto(`${http}/#/device/${deviceId}`);
    await page.locator("#view-device figure.chart").first().waitFor({ timeout: 15_000 });
    await page.locator("#view-device canvas").first().waitFor({ timeout: 15_000 }); // uPlot drew

    await page.goto(`${http}/#/site/xinwu-exp/energy`);
    await demo.waitForOutput(/history: done/, 90_000);
    await page.locator('button[data-days="30"]').click(); // asked again once the past is written
    await page.locator("#energy-daily svg g.day-bar rect.segment").first().waitFor({ timeout: 20_000 });
    await page.locator("#energy-heatmap svg rect.cell").first().waitFor({ timeout: 20_000 });

    await page.goto(`${http}/#/site/xinwu-exp/commands`);
    await page.locator("#view-commands h2").waitFor({ timeout: 15_000 });
    expect(violations).toEqual([]);
  });

  it("prints the monthly report with its inline style sheet and no script allowed", async () => {
    const month = new Date().toISOString().slice(0, 7);
    const response = await page.goto(`${http}/reports/xinwu-exp/${month}?token=${token}&lang=en`);
    expect(response?.status()).toBe(200);
    const csp = directivesOf(response?.headers()["content-security-policy"]);
    expect(csp.get("script-src")).toEqual(["'none'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    // Its <style> applied: the page is laid out for A4 by it, not by the browser's defaults.
    expect(await page.evaluate("document.styleSheets[0].cssRules.length")).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });

  it("opens the swagger UI at /api/docs under its own policy, with no violation", async () => {
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${token}` });
    const response = await page.goto(`${http}/api/docs`);
    expect(directivesOf(response?.headers()["content-security-policy"]).get("script-src")).toEqual(["'self'"]);
    await page.locator(".swagger-ui .info .title").waitFor({ timeout: 15_000 });
    await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: 15_000 });
    expect(violations).toEqual([]);
  });
});
