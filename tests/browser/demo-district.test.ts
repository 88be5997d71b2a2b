// Issue 12, "done means", as a new user tries it: `campus-power up --demo --district` (the bundled demo district,
// simulated devices), then in headless Chromium a school's operator signs in with the name and password the
// banner prints and finds only that school, in the page and on its live stream; then the bureau's viewer signs
// in and the overview compares the three schools. Screenshots under .tmp/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, describe, expect, it } from "vitest";
import { loadCampus } from "../../infra/campus-file.js";
import { freePort } from "../../infra/free-port.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";

const ARTIFACTS = resolve(".tmp/artifacts");
const district = loadCampus("config/demo-district.yaml");
const OWN = "meicun-primary";

describe("the demo district, tried as a new user", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-demo-district-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-chromium-"));
  let demo: CliProcess | undefined;
  let context: BrowserContext | undefined;

  afterAll(async () => {
    await context?.close();
    await demo?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("shows a school's operator that school alone, and the bureau the three schools side by side", { timeout: 180_000 }, async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    demo = startCli(["up", "--demo", "--district", "--history", "0"], { MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), INFLUX_URL: influxUrl(), INFLUX_DB: `demo_district_browser_${process.pid}`, DATA_DIR: dataDir });
    await demo.waitForOutput(/Stop with Ctrl-C/, 60_000);
    const banner = demo.output();
    const account = (pattern: RegExp) => {
      const found = pattern.exec(banner);
      expect(found, banner).not.toBeNull();
      return { name: found![1]!, password: found![2]! };
    };
    const operator = account(new RegExp(`^\\s+(${OWN}-operator)\\s+(\\S+)\\s+operator of ${OWN}$`, "m"));
    const bureau = account(/^\s+(bureau)\s+(\S+)\s+viewer, every school$/m);

    context = await launchChromium(profileDir, { viewport: { width: 1920, height: 1080 } });
    const page = context.pages()[0] ?? (await context.newPage());
    const frames: string[] = [];
    page.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => frames.push(String(payload))));
    const signIn = async ({ name, password }: { name: string; password: string }) => {
      await page.locator("#login[open]").waitFor({ timeout: 15_000 });
      await page.locator("#username").fill(name);
      await page.locator("#password").fill(password);
      await page.locator("#login-submit").click();
      await expect.poll(() => page.locator("#user-name").textContent(), { timeout: 15_000 }).toBe(name);
    };

    // The operator of the primary school: its campus is the landing view, with its devices reporting live.
    await page.goto(`http://127.0.0.1:${httpPort}/`);
    await signIn(operator);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    expect(await page.locator("#view-overview").isVisible()).toBe(true); // its campus, no district view
    expect(await page.locator("#view-district").isVisible()).toBe(false);
    expect(await page.locator("#nav-district").isVisible()).toBe(false);
    const own = district.sites.find((site) => site.site.id === OWN)!;
    const firstBuilding = own.buildings[0]!.id;
    await page.locator(`details[data-building="${firstBuilding}"] > summary`).click();
    // A simulated device's reading arrives on the stream and is drawn: the page is live for this school.
    await expect.poll(() => page.locator(`details[data-building="${firstBuilding}"] li.device .power`).evaluateAll((cells) => cells.some((cell) => /\d k?W$/.test(cell.textContent ?? ""))), { timeout: 30_000 }).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "demo-district-operator-1920x1080.png") });
    const others = district.sites.filter((site) => site.site.id !== OWN).flatMap((site) => [site.site.id, site.site.name, ...site.devices.map((d) => d.id)]);
    const html = await page.content();
    expect(others.filter((word) => html.includes(word))).toEqual([]);
    expect(frames.length).toBeGreaterThan(0);
    const streamed = frames.join("\n");
    expect(others.filter((word) => streamed.includes(word))).toEqual([]);

    // The bureau's viewer: the district overview, a tile for each of the three schools.
    const [logout] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/api/logout")), page.locator("#logout").click()]);
    expect(logout.status()).toBe(204);
    await signIn(bureau);
    await expect.poll(() => new URL(page.url()).hash, { timeout: 15_000 }).toBe("#/district");
    const tiles = () => page.locator("#view-district a.tile").evaluateAll((found) => found.map((tile) => tile.getAttribute("data-site")).sort());
    await expect.poll(tiles, { timeout: 15_000 }).toEqual(district.sites.map((site) => site.site.id).sort());
    for (const site of district.sites) expect(await page.locator(`a.tile[data-site="${site.site.id}"]`).textContent()).toContain(site.site.name);
    await page.screenshot({ path: join(ARTIFACTS, "demo-district-bureau-1920x1080.png") });
  });
});
