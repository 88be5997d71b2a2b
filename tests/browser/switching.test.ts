// Remote switching from the dashboard (CONTRACT §10, issue 11 §7) in headless Chromium against the real
// stack: `campus-power up` (broker, ingest, alerts, API) on a campus with dormitory rooms and a fire pump
// feeder whose pump is protected (tests/fixtures/switching-campus.yaml), fed by the real simulator, whose
// devices connect with their own credentials, obey commands in their own format, and — one of them — ignore
// them (`commandBehaviour`). What the page shows is checked against what the API recorded from the device.
// Screenshots are kept under .tmp/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type BrowserContext, type Page, type Request } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Command, CommandSchema } from "../../domain/command.js";
import { loadCampus } from "../../infra/campus-file.js";
import { freePort } from "../../infra/free-port.js";
import { createLogger } from "../../infra/logger.js";
import { type RunningSimulator, startSimulator } from "../../simulator/index.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

const CAMPUS_FILE = "tests/fixtures/switching-campus.yaml";
const KEY = "a-switching-fleet-key-0123456789";
const OPERATOR = "operator-token-switching-0123";
const VIEWER = "viewer-token-switching-01234";
/** COMMAND_TIMEOUT_S of this stack: short, so a command nobody answers ends within the test. */
const COMMAND_TIMEOUT_S = 5;
const IGNORING = "brk-d1-202";
const ARTIFACTS = resolve(".tmp/artifacts");
/** How the page names each state in Chinese. */
const STATE_ZH: Record<Command["state"], string> = { selected: "已选中", sent: "已下发，等待设备", confirmed: "已确认", failed: "失败", timeout: "超时", cancelled: "已取消", expired: "已失效" };

describe("remote switching on the dashboard, against simulated devices", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-switching-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-chromium-"));
  let up: CliProcess;
  let simulator: RunningSimulator;
  let http: string;
  let context: BrowserContext;
  let page: Page;

  /** The API as a client other than the page sees it: the command as the alerts service recorded it. */
  async function api(path: string, init: { method?: string; body?: object; token?: string } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? OPERATOR}` };
    if (init.body) headers["content-type"] = "application/json";
    const response = await fetch(`${http}${path}`, { method: init.method ?? "GET", headers, ...(init.body ? { body: JSON.stringify(init.body) } : {}) });
    return { status: response.status, body: await response.json() };
  }
  const commandOf = async (id: string): Promise<Command> => Value.Parse(CommandSchema, (await api(`/api/commands/${id}`)).body);
  /** The audit as GET /api/commands answers it (`query` starts with "?"), newest selection first. */
  const auditOf = async (query = "", token = OPERATOR): Promise<Command[]> => Value.Parse(T.Array(CommandSchema), (await api(`/api/commands${query}`, { token })).body);

  /** Signs the page in with a token link (a new document: the link is read when the page loads). */
  async function signIn(token: string, hash = "#/") {
    await page.goto("about:blank");
    await page.goto(`${http}/#token=${token}`);
    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    if (hash !== "#/") await page.goto(`${http}/${hash}`);
    else await openBuilding("dorm-1");
  }

  /** Opens a building of the campus view: each is a summary line until opened (then this browser keeps it open). */
  async function openBuilding(id: string) {
    const building = page.locator(`details.building[data-building="${id}"]`);
    if ((await building.getAttribute("open")) === null) await building.locator("> summary").click();
  }

  /** Opens the dialog from a button, gives a reason and selects; the select request's answer. */
  async function select(button: string, reason: string) {
    await page.locator(button).click();
    await page.locator("dialog#switch[open]").waitFor();
    await page.locator("#switch-reason").fill(reason);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/api/commands") && r.request().method() === "POST"), page.locator("#switch-go").click()]);
    return response;
  }

  /** Clicks the dialog's Confirm (once it is armed); the operate request's answer. */
  async function confirm() {
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/operate")), page.locator("#switch-go:not([disabled])").click()]);
    return response;
  }

  const status = () => page.locator("#switch-status");
  const screenshot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name) });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const [mqttPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    http = `http://127.0.0.1:${httpPort}`;
    up = startCli(["up"], {
      CAMPUS_CONFIG: CAMPUS_FILE, INFLUX_URL: influxUrl(), INFLUX_DB: `switching_${process.pid}`, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort),
      HTTP_PORT: String(httpPort), DATA_DIR: dataDir, DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "service-password-switching-0123",
      API_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}`, COMMAND_TIMEOUT_S: String(COMMAND_TIMEOUT_S), LOG_LEVEL: "warn",
    });
    await up.waitForOutput(/campus-power is up/);
    const campus = loadCampus(CAMPUS_FILE);
    simulator = await startSimulator({
      campus, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, deviceGroupKey: KEY, log: createLogger("silent"), seed: 11,
      commandBehaviour: { [IGNORING]: { mode: "ignore" } },
    });
    expect(simulator.connected).toBe(campus.devices.length);
    // Every device online as the API sees it, each having reported its relay (switch_on).
    const DevicesSchema = T.Array(T.Object({ online: T.Boolean(), latest: T.Object({ switch_on: T.Optional(T.Boolean()) }) }));
    await waitFor(async () => {
      const devices = Value.Parse(DevicesSchema, (await api("/api/devices")).body);
      return devices.every((d) => d.online && d.latest.switch_on === true);
    }, 20_000, { what: "every simulated device online with its relay reported" });
    context = await launchChromium(profileDir, { viewport: { width: 1920, height: 1080 } });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await simulator?.stop();
    await context?.close();
    await up?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("lets an operator switch a dormitory room off: select shows what goes dark and counts down, confirm ends as the device reported it", async () => {
    await signIn(OPERATOR);
    const roomButton = 'li.room button.switch-room[data-switch="brk-d1-201"]';
    await page.locator(roomButton).waitFor({ timeout: 10_000 });
    expect(await page.locator(roomButton).textContent()).toBe("Switch room…");

    const selected = await select(roomButton, "heater found in room 201");
    expect(selected.status()).toBe(201);
    const command = Value.Parse(CommandSchema, await selected.json());
    expect(command).toMatchObject({ device: "brk-d1-201", action: "switch_off", state: "selected" }); // the reported relay is on: "off" was preselected
    // Nothing is sent yet; the dialog lists the breaker and everything it feeds, with where each is.
    expect(await page.locator("#switch-dark li strong").allTextContents()).toEqual(["brk-d1-201", "plug-d1-201-a", "plug-d1-201-b"]);
    expect(await page.locator("#switch-dark li").first().textContent()).toBe("brk-d1-201 Dormitory 1 · Room 201 · breaker");
    expect(await page.locator("#switch-dark p").textContent()).toBe("Will go dark — the device and everything it feeds (3):");
    // The 30 s count down on screen.
    const secondsShown = async () => Number((await page.locator("#switch-go").textContent())?.match(/^Confirm switch-off \((\d+) s\)$/)?.[1]);
    const first = await secondsShown();
    expect(first).toBeGreaterThanOrEqual(28);
    expect(first).toBeLessThanOrEqual(30);
    await expect.poll(secondsShown, { timeout: 3_000 }).toBeLessThan(first);
    expect(await status().textContent()).toBe("Selected — nothing sent yet. Confirm before the time on the button runs out, or the selection expires.");
    expect((await commandOf(command.id)).state).toBe("selected");
    await screenshot("switching-selected-1920x1080.png");

    const operated = await confirm();
    expect(operated.status()).toBe(202);
    await expect.poll(() => status().getAttribute("class"), { timeout: 10_000 }).toBe("switch-status state-confirmed");
    // What the screen says is what the service recorded from the device's own report.
    const recorded = await commandOf(command.id);
    expect(recorded).toMatchObject({ state: "confirmed", issued_by: expect.stringMatching(/^operator:[0-9a-f]{8}$/), reason: "heater found in room 201" });
    expect(recorded.confirmed_at).toBeDefined();
    const confirmedAt = await page.evaluate((iso) => new Date(iso).toLocaleTimeString("en"), recorded.confirmed_at!); // the browser's clock and zone
    expect(await status().textContent()).toBe(`Confirmed by the device at ${confirmedAt}.`);
    expect(await page.locator("#switch-detail").textContent()).toBe(recorded.detail ?? "");
    expect(await page.locator("#switch-go").isHidden()).toBe(true);
    await screenshot("switching-confirmed-1920x1080.png");
    await page.locator("#switch-cancel").click(); // now "Close"
    await page.locator("dialog#switch").waitFor({ state: "hidden" });

    // The relay as the device reports it: its next reading carries switch_on false (the tree, then its page).
    const row = page.locator('li.device[data-device="brk-d1-201"]');
    await expect.poll(() => row.locator(".switch-mark").textContent(), { timeout: 10_000 }).toBe("relay off");
    await screenshot("switching-tree-1920x1080.png");
    await page.goto(`${http}/#/device/brk-d1-201`);
    await expect.poll(() => page.locator("#device-switch [data-relay]").textContent(), { timeout: 10_000 }).toBe("off (open)");
    expect(await page.locator(`#device-switch .command-now[data-command="${command.id}"] .cmd-state`).textContent()).toBe("confirmed");
    const logRow = page.locator(`#device-log tr[data-command="${command.id}"]`);
    await logRow.waitFor({ timeout: 10_000 });
    expect(await logRow.locator("td").allTextContents()).toEqual([
      expect.any(String), "Switch off", `you (${recorded.issued_by})`, "heater found in room 201", "confirmed", recorded.detail ?? "",
    ]);
    await screenshot("switching-device-1920x1080.png");
  });

  it("refuses the fire pump feeder for an operator, saying why in words and naming the protected pump", async () => {
    await signIn(OPERATOR, "#/device/brk-fire-feeder");
    const refused = await select('#device-switch button[data-action="switch_off"]', "checking the pump house");
    expect(refused.status()).toBe(409);
    expect(await page.locator("#switch-error .refusal-words").textContent()).toBe(
      "Refused — protected circuit: this device, or one it feeds, must stay on (fire pumps, emergency lighting, servers, lab fridges). Nobody can switch it remotely.",
    );
    expect(await page.locator("#switch-error .service-says").textContent()).toContain("brk-fire-pump");
    // Nothing was selected: no countdown, no list, and the service holds no command for the feeder.
    expect(await page.locator("#switch-dark").textContent()).toBe("");
    expect(await page.locator("#switch-go").textContent()).toBe("Select");
    expect(await auditOf("?device=brk-fire-feeder")).toEqual([]);
    await screenshot("switching-protected-1920x1080.png");
    await page.locator("#switch-cancel").click();
    await page.locator("dialog#switch").waitFor({ state: "hidden" });
  });

  it("operates only on a second, separate click: a click within a second of the selection (a double click) does nothing, and Cancel ends the selection", async () => {
    await signIn(OPERATOR, "#/device/brk-d1-main");
    const requests: string[] = [];
    const onRequest = (request: Request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
    page.on("request", onRequest);
    const selected = await select('#device-switch button[data-action="switch_off"]', "testing a double click");
    const { id } = Value.Parse(CommandSchema, await selected.json());
    expect(await page.locator("#switch-dark li strong").allTextContents()).toEqual(["brk-d1-main", "brk-d1-201", "brk-d1-202", "plug-d1-201-a", "plug-d1-201-b"]);
    await expect.poll(() => status().getAttribute("class")).toBe("switch-status state-selected");
    await page.locator("#switch-go").click({ force: true }); // the second click of a double click, as soon as the selection shows
    // The marker: a request the page makes after that click. Its requests are reported in the order it makes
    // them, so an operate the click caused is listed before it.
    await Promise.all([page.waitForRequest((request) => request.url().endsWith("/after-double-click")), page.evaluate("fetch('/after-double-click').then((response) => response.status)")]);
    page.off("request", onRequest);
    expect(requests.filter((r) => !r.startsWith("GET /api/"))).toEqual(["POST /api/commands", "GET /after-double-click"]); // the page's polls aside
    expect(await status().getAttribute("class")).toBe("switch-status state-selected");
    await Promise.all([page.waitForResponse((r) => r.request().method() === "DELETE"), page.locator("#switch-cancel").click()]);
    await page.locator("dialog#switch").waitFor({ state: "hidden" });
    expect((await commandOf(id)).state).toBe("cancelled");
  });

  it("shows a command the device ignores as sent and waiting, then as timeout — never as done", async () => {
    await signIn(OPERATOR, `#/device/${IGNORING}`);
    const selected = await select('#device-switch button[data-action="switch_off"]', "nobody in room 202 over the holiday");
    expect(selected.status()).toBe(201);
    const { id } = Value.Parse(CommandSchema, await selected.json());
    expect((await confirm()).status()).toBe(202);
    // Sent, and the service still waits for the device: the screen says exactly that.
    await expect.poll(() => status().getAttribute("class")).toBe("switch-status state-sent");
    expect(await status().textContent()).toBe("Sent to the device — waiting for its own report.");
    expect((await commandOf(id)).state).toBe("sent");
    await expect.poll(() => status().getAttribute("class"), { timeout: (COMMAND_TIMEOUT_S + 5) * 1000 }).toBe("switch-status state-timeout");
    const recorded = await commandOf(id);
    expect(recorded.state).toBe("timeout");
    expect(await status().textContent()).toBe("Timeout: the device did not report the commanded state in time.");
    expect(await page.locator("#switch-detail").textContent()).toBe(recorded.detail);
    expect(recorded.detail).toContain(`did not report the commanded state within ${COMMAND_TIMEOUT_S} s`);
    await screenshot("switching-timeout-1920x1080.png");
    await page.locator("#switch-cancel").click();
    expect(await page.locator("#device-switch [data-relay]").textContent()).toBe("on (closed)"); // it never opened its relay
  });

  it("after a reload mid-command shows the open commands as they stand: the stream's snapshot carries none", async () => {
    const sent = Value.Parse(CommandSchema, (await api("/api/commands", { method: "POST", body: { device: IGNORING, action: "switch_off", reason: "second try" } })).body);
    expect((await api(`/api/commands/${sent.id}/operate`, { method: "POST" })).status).toBe(202);
    const selected = Value.Parse(CommandSchema, (await api("/api/commands", { method: "POST", body: { device: "brk-d1-201", action: "switch_on", reason: "heater removed" } })).body);
    await signIn(OPERATOR); // a new document: its stream starts with a fresh snapshot
    const mark = (device: string) => page.locator(`li.device[data-device="${device}"] .switch-mark`);
    await expect.poll(() => mark(IGNORING).textContent(), { timeout: 5_000 }).toBe("sent, waiting for the device");
    await expect.poll(() => mark("brk-d1-201").textContent()).toBe("selected");
    // Live from there: the cancel and the timeout arrive on the stream, and the rows show no open command.
    expect((await api(`/api/commands/${selected.id}`, { method: "DELETE" })).status).toBe(200);
    await expect.poll(() => mark("brk-d1-201").locator(".cmd-state").count(), { timeout: 5_000 }).toBe(0);
    await expect.poll(() => mark(IGNORING).locator(".cmd-state").count(), { timeout: (COMMAND_TIMEOUT_S + 5) * 1000 }).toBe(0);
    expect((await commandOf(sent.id)).state).toBe("timeout");
  });

  it("gives a viewer no control: no room buttons, disabled device buttons with why, the log readable", async () => {
    const cancelled = Value.Parse(CommandSchema, (await api("/api/commands", { method: "POST", body: { device: "brk-d1-201", action: "switch_on", reason: "for the viewer to read" } })).body);
    expect((await api(`/api/commands/${cancelled.id}`, { method: "DELETE" })).status).toBe(200);
    await signIn(VIEWER);
    await page.locator('li.device[data-device="brk-d1-201"]').waitFor();
    expect(await page.locator("#role").textContent()).toBe("signed in as viewer");
    expect(await page.locator("button.switch-room").count()).toBe(0);
    await page.goto(`${http}/#/device/brk-d1-201`);
    const buttons = page.locator("#device-switch button[data-switch]");
    await expect.poll(() => buttons.count()).toBe(2);
    for (const button of await buttons.all()) expect(await button.isDisabled()).toBe(true);
    expect(await page.locator("#switch-why").textContent()).toBe("Only operators can switch circuits; you are signed in as viewer.");
    await page.locator(`#device-log tr[data-command="${cancelled.id}"]`).waitFor({ timeout: 10_000 });
    const audit = await auditOf("?device=brk-d1-201", VIEWER);
    expect(await page.locator("#device-log tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-command")))).toEqual(audit.map((c) => c.id));
    expect((await api("/api/commands", { method: "POST", token: VIEWER, body: { device: "brk-d1-201", action: "switch_on", reason: "x" } })).status).toBe(403);
  });

  it("shows the school's switching log live, in Chinese, on a wall screen and on a phone", async () => {
    const earlier = Value.Parse(CommandSchema, (await api("/api/commands", { method: "POST", body: { device: "brk-d1-201", action: "switch_on", reason: "先选中再取消" } })).body);
    expect((await api(`/api/commands/${earlier.id}`, { method: "DELETE" })).status).toBe(200);
    await signIn(OPERATOR);
    await page.selectOption("#lang", "zh-CN");
    await page.goto(`${http}/#/commands`);
    await page.locator("#school-log table").waitFor({ timeout: 10_000 });
    expect(await page.locator("#view-commands h2").textContent()).toBe("远程通断电操作记录");
    expect(await page.locator("#school-log thead th").allTextContents()).toEqual(["时间", "设备", "操作", "操作人", "原因", "状态", "详情"]);
    // The whole audit of the last 24 h, newest selection first, each command in its latest state.
    const audit = await auditOf();
    const shown = page.locator("#school-log tbody tr");
    expect(await shown.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-command")))).toEqual(audit.map((c) => c.id));
    expect(await shown.locator(".cmd-state").allTextContents()).toEqual(audit.map((c) => STATE_ZH[c.state]));
    // Live: a new selection appears at once, and its end too.
    const live = Value.Parse(CommandSchema, (await api("/api/commands", { method: "POST", body: { device: "brk-d1-201", action: "switch_on", reason: "恢复供电" } })).body);
    await expect.poll(() => page.locator(`#school-log tr[data-command="${live.id}"] .cmd-state`).textContent(), { timeout: 5_000 }).toBe("已选中");
    await page.screenshot({ path: join(ARTIFACTS, "switching-log-zh-1920x1080.png") });
    expect((await api(`/api/commands/${live.id}`, { method: "DELETE" })).status).toBe(200);
    await expect.poll(() => page.locator(`#school-log tr[data-command="${live.id}"] .cmd-state`).textContent(), { timeout: 5_000 }).toBe("已取消");

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = () => page.evaluate("document.documentElement.scrollWidth - window.innerWidth") as Promise<number>;
    expect(await overflow()).toBeLessThanOrEqual(1); // no sideways scrolling on a phone
    await page.screenshot({ path: join(ARTIFACTS, "switching-log-phone-zh.png"), fullPage: true });
    await page.goto(`${http}/#/device/brk-d1-201`);
    await page.locator('#device-switch button[data-action="switch_on"]').click();
    await page.locator("dialog#switch[open]").waitFor();
    expect(await page.locator("#switch-title").textContent()).toBe("远程通断电：brk-d1-201");
    expect(await overflow()).toBeLessThanOrEqual(1);
    await page.screenshot({ path: join(ARTIFACTS, "switching-dialog-phone-zh.png") });
    await page.locator("#switch-cancel").click();
    await page.locator("dialog#switch").waitFor({ state: "hidden" });
  });
});
