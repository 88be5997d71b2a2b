// The dashboard over HTTPS in headless Chromium (CONTRACT §13): `campus-power up` serving the self-signed
// demo pair (infra/tls.ts ensureDemoPair, as `up --demo --tls` makes it). Chromium trusts exactly that
// key (--ignore-certificate-errors-spki-list, never "ignore every error"), and the test checks the
// certificate Chromium was served is the one on disk (SHA-256 of its DER) before trusting the page:
// it then signs in, and the live stream (wss://) brings a reading published over mqtts://.
import { X509Certificate, createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devicePassword } from "../../domain/credentials.js";
import { freePort } from "../../infra/free-port.js";
import { ensureDemoPair } from "../../infra/tls.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { influxUrl } from "../helpers/influx.js";

const KEY = "a-tls-browser-fleet-key-0123456789";
const OPERATOR = "operator-token-tls-browser-0123";

describe("the dashboard over HTTPS in headless Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-tls-browser-"));
  const profileDir = mkdtempSync(join(tmpdir(), "campus-tls-chromium-"));
  const pair = ensureDemoPair(join(dataDir, "tls"));
  const certificate = new X509Certificate(readFileSync(pair.certFile));
  let up: CliProcess;
  let https: string;
  let context: BrowserContext;
  let page: Page;
  let device: MqttClient;

  beforeAll(async () => {
    const [mqttPort, mqttsPort, wsPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    https = `https://localhost:${httpPort}`;
    up = startCli(["up"], {
      CAMPUS_CONFIG: "tests/fixtures/test-campus.yaml", INFLUX_URL: influxUrl(), INFLUX_DB: `tls_browser_${process.pid}`,
      MQTT_PORT: String(mqttPort), MQTTS_PORT: String(mqttsPort), MQTT_WS_PORT: String(wsPort), HTTP_PORT: String(httpPort), DATA_DIR: dataDir,
      DEVICE_GROUP_KEY: KEY, SERVICE_PASSWORD: "service-password-tls-browser", API_TOKENS: `operator:${OPERATOR}`, LOG_LEVEL: "warn",
      TLS_CERT_FILE: pair.certFile, TLS_KEY_FILE: pair.keyFile, TLS_ONLY: "true",
    });
    await up.waitForOutput(/campus-power is up: https:/, 60_000);
    // Chromium's switch for a pinned key: the base64 SHA-256 of the certificate's SubjectPublicKeyInfo.
    const spki = createHash("sha256").update(certificate.publicKey.export({ type: "spki", format: "der" })).digest("base64");
    context = await launchChromium(profileDir, {
      args: [`--ignore-certificate-errors-spki-list=${spki}`],
    });
    page = context.pages()[0] ?? (await context.newPage());
    device = await mqtt.connectAsync(`mqtts://localhost:${mqttsPort}`, {
      protocolVersion: 4, reconnectPeriod: 0, ca: readFileSync(pair.certFile), clientId: "brk-d1-102", username: "brk-d1-102", password: devicePassword("brk-d1-102", KEY),
    });
  }, 90_000);

  afterAll(async () => {
    await device?.endAsync().catch(() => undefined);
    await context?.close();
    await up?.stop("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it("is served the demo certificate, signs in, and shows a reading over the wss:// live stream", async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    const response = await page.goto(`${https}/#token=${OPERATOR}`);
    expect(response?.status()).toBe(200);
    const { tableNames } = await cdp.send("Network.getCertificate", { origin: https });
    const servedDer = Buffer.from(tableNames[0]!, "base64");
    expect(new X509Certificate(servedDer).fingerprint256).toBe(certificate.fingerprint256);
    expect((await response!.securityDetails())?.protocol).toMatch(/^TLS 1\.[23]$/);

    await page.locator("#connection.on").waitFor({ timeout: 15_000 });
    await device.publishAsync("campus/devices/brk-d1-102/status", "online", { qos: 1, retain: true });
    await device.publishAsync("campus/devices/brk-d1-102/telemetry", JSON.stringify({ ts: Date.now(), power_w: 515, current_a: 2.3, voltage_v: 224 }), { qos: 1 });
    await page.locator('details.building[data-building="dorm-1"] > summary').click();
    const row = page.locator('li.device[data-device="brk-d1-102"]');
    await expect.poll(() => row.locator(".power").textContent(), { timeout: 15_000 }).toBe("515 W");
  });
});
