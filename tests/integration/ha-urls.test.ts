// Several broker URLs (CONTRACT §12, issue 15 item 2): a service client given `mqtt://a,mqtt://b` and the
// simulator's devices use whichever broker answers and move to the other when theirs goes away. Two real
// brokers (single-process mode, each on its own port, not clustered), real mqtt.js clients. No mocks.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { brokerList, connectService, currentBroker, openMqtt, untilConnected } from "../../infra/mqtt.js";
import { TlsCredentials } from "../../infra/tls.js";
import type { ServiceContext } from "../../infra/service.js";
import { type RunningSimulator, startSimulator } from "../../simulator/index.js";
import { scaleCampus } from "../../simulator/scale.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { makeCa } from "./tls-fixture.js";

const GROUP_KEY = "ha-urls-group-key-0123456789abcdef";
const SERVICE_PASSWORD = "ha-urls-service-password";
const FLEET = 20;
/** CONTRACT §12: devices (and services) connected again within 10 s of their broker going away. */
const TAKEOVER_MS = 10_000;
const campus = scaleCampus(loadCampus("scenarios/campus.yaml"), FLEET);
const env = readEnv({ DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD, LOG_LEVEL: "silent" });
const ctx: ServiceContext = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
const log = createLogger("silent");

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** One real broker on an ephemeral port (and a TLS one, given a certificate), with the time each client became ready on it. */
async function broker(tls?: TlsCredentials): Promise<{ broker: RunningBroker; url: string; readyAt: Map<string, number> }> {
  const started = await startBroker({ ...ctx, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false, ...(tls ? { tls, tlsPort: 0 } : {}) });
  cleanups.push(() => started.stop());
  const readyAt = new Map<string, number>();
  started.aedes.on("clientReady", (client) => readyAt.set(client.id, Date.now()));
  return { broker: started, url: `mqtt://127.0.0.1:${started.tcpPort}`, readyAt };
}

async function service(url: string, clientId: string) {
  const client = await connectService(url, SERVICE_PASSWORD, clientId);
  cleanups.push(() => client.endAsync(true));
  return client;
}

async function simulator(mqttUrl: string): Promise<RunningSimulator> {
  const sim = await startSimulator({ campus, mqttUrl, deviceGroupKey: GROUP_KEY, log, seed: 5, speed: 20, connectConcurrency: 16 });
  cleanups.push(() => sim.stop());
  return sim;
}

describe("a service client given several brokers", () => {
  it("connects to the first, and to the second within 10 s once the first goes away", async () => {
    const a = await broker();
    const b = await broker();
    const list = `${a.url},${b.url}`;
    const client = await service(list, "ha-urls-service");
    expect(a.readyAt.has("ha-urls-service")).toBe(true);
    expect(b.readyAt.has("ha-urls-service")).toBe(false);
    expect(currentBroker(client, list, brokerList({ url: list }))).toBe(a.url);
    const received: string[] = [];
    client.on("message", (topic) => received.push(topic));
    await client.subscribeAsync("test/ha/#", { qos: 1 });

    const stoppedAt = Date.now();
    await a.broker.stop();
    await waitFor(() => b.readyAt.has("ha-urls-service"), TAKEOVER_MS + 5_000, { intervalMs: 25, what: "the client connected to the second broker" });
    const takeoverMs = b.readyAt.get("ha-urls-service")! - stoppedAt;
    expect(takeoverMs, `connected to the second broker ${takeoverMs} ms after the first went away`).toBeLessThanOrEqual(TAKEOVER_MS);
    expect(currentBroker(client, list, brokerList({ url: list }))).toBe(b.url);

    // It works there: its subscription was renewed, so what another client publishes on b reaches it.
    await waitFor(() => client.connected, 5_000, { what: "connected" });
    const publisher = await service(b.url, "ha-urls-publisher");
    await waitFor(
      async () => {
        await publisher.publishAsync("test/ha/after", "x", { qos: 1 });
        return received.includes("test/ha/after");
      },
      10_000,
      { intervalMs: 250, what: "a message published on the second broker received" },
    );
  });

  it("connects to the one that answers when the first is down from the start", async () => {
    const gone = await broker();
    const deadUrl = gone.url;
    await gone.broker.stop();
    const b = await broker();
    const client = await service(`${deadUrl},${b.url}`, "ha-urls-late");
    expect(client.connected).toBe(true);
    expect(b.readyAt.has("ha-urls-late")).toBe(true);
  });

  it("fails to connect, with the last broker's error, when none answers", async () => {
    const first = await broker();
    const second = await broker();
    const list = `${first.url},${second.url}`;
    await first.broker.stop();
    await second.broker.stop();
    await expect(connectService(list, SERVICE_PASSWORD, "ha-urls-nobody")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("is refused at once by a broker that refuses its credentials", async () => {
    const a = await broker();
    const b = await broker();
    await expect(connectService(`${a.url},${b.url}`, "not-the-service-password", "ha-urls-refused")).rejects.toMatchObject({ code: 4 });
    expect(b.readyAt.has("ha-urls-refused")).toBe(false);
  });
});

describe("the simulator given several brokers", () => {
  it("spreads its devices over both, and moves those of a stopped broker to the other within 10 s, publishing there", async () => {
    const a = await broker();
    const b = await broker();
    const list = `${a.url},${b.url}`;
    const sim = await simulator(list);
    expect(sim.failed).toEqual([]);
    expect(sim.connected).toBe(FLEET);

    // Device i starts on broker i mod 2: half on each, as the brokers themselves count them.
    const ids = campus.devices.map((d) => d.id);
    const onA = ids.filter((_, i) => i % 2 === 0);
    const onB = ids.filter((_, i) => i % 2 === 1);
    expect(ids.filter((id) => a.readyAt.has(id))).toEqual(onA);
    expect(ids.filter((id) => b.readyAt.has(id))).toEqual(onB);
    expect(Object.fromEntries(sim.connectedByBroker())).toEqual({ [a.url]: FLEET / 2, [b.url]: FLEET / 2 });

    // What the devices publish on b from now on (the retained "online" after a connect aside: readings).
    const readingsOnB = new Map<string, number>();
    b.broker.aedes.on("publish", (packet, client) => {
      if (client && !packet.retain) readingsOnB.set(client.id, (readingsOnB.get(client.id) ?? 0) + 1);
    });

    const stoppedAt = Date.now();
    await a.broker.stop();
    const moved = () => onA.filter((id) => (b.readyAt.get(id) ?? 0) >= stoppedAt);
    await waitFor(() => moved().length === onA.length, TAKEOVER_MS + 5_000, { intervalMs: 25, what: "every device of the stopped broker on the other" });
    const slowest = Math.max(...onA.map((id) => b.readyAt.get(id)! - stoppedAt));
    expect(slowest, `the last device connected to the other broker ${slowest} ms after the first went away`).toBeLessThanOrEqual(TAKEOVER_MS);
    await waitFor(() => sim.connectedByBroker().get(b.url) === FLEET, 5_000, { intervalMs: 25, what: "the simulator counts every device on b" });
    expect(sim.connectedByBroker().has(a.url)).toBe(false);

    // … and they publish their readings there.
    await waitFor(() => onA.every((id) => (readingsOnB.get(id) ?? 0) > 0), 15_000, { intervalMs: 50, what: "every moved device publishing readings on b" });
    expect(onB.some((id) => (readingsOnB.get(id) ?? 0) > 0)).toBe(true);
  });
});

describe("the simulator whose first broker is down from the start", () => {
  it("connects every device to the broker that answers", async () => {
    const gone = await broker();
    const deadUrl = gone.url;
    await gone.broker.stop();
    const b = await broker();
    const sim = await simulator(`${deadUrl},${b.url}`);
    expect(sim.failed).toEqual([]);
    expect(campus.devices.filter((d) => !b.readyAt.has(d.id)).map((d) => d.id)).toEqual([]);
    expect(Object.fromEntries(sim.connectedByBroker())).toEqual({ [b.url]: FLEET });
  });
});

describe("campus-power simulate --mqtt-url", () => {
  it("refuses a bad broker URL, naming it", () => {
    const run = runCli(["simulate", "--mqtt-url", "mqtt://127.0.0.1:1", "--mqtt-url", "http://127.0.0.1:2"], { DEVICE_GROUP_KEY: GROUP_KEY, LOG_LEVEL: "silent" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('--mqtt-url: entry 2 "http://127.0.0.1:2" must be an mqtt://');
  });

  it("spreads the devices over the brokers it is given once each, and says how many are on each", async () => {
    const a = await broker();
    const b = await broker();
    const cli = startCli(["simulate", "--config", "scenarios/campus.yaml", "--devices", String(FLEET), "--mqtt-url", a.url, "--mqtt-url", b.url, "--speed", "20", "--duration", "20s"], { DEVICE_GROUP_KEY: GROUP_KEY, LOG_LEVEL: "silent" });
    cleanups.push(() => cli.stop());
    await cli.waitForOutput(new RegExp(`connecting ${FLEET} simulated devices to 2 brokers \\(${a.url}, ${b.url}\\)`));
    await cli.waitForOutput(new RegExp(`${FLEET} connected \\(${a.url} ${FLEET / 2} · ${b.url} ${FLEET / 2}\\)`));
    expect(campus.devices.filter((d) => a.readyAt.has(d.id)).length).toBe(FLEET / 2);
    expect(campus.devices.filter((d) => b.readyAt.has(d.id)).length).toBe(FLEET / 2);
  });
});

describe("a TLS client given several brokers", () => {
  /** A leaf of the test CA naming only `subjectAltName` (e.g. DNS:localhost, or IP:127.0.0.1). */
  function leaf(ca: ReturnType<typeof makeCa>, name: string, subjectAltName: string): TlsCredentials {
    const file = (suffix: string) => join(ca.dir, `${name}${suffix}`);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OPENSSL_CONF: "/dev/null" } });
    execFileSync("sh", ["-c", `printf 'subjectAltName=${subjectAltName}\\nextendedKeyUsage=serverAuth\\n' > '${file(".ext")}'`]);
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-subj", `/CN=${name}`, "-keyout", file("-key.pem"), "-out", file(".csr"));
    openssl("x509", "-req", "-in", file(".csr"), "-CA", ca.caFile, "-CAkey", join(ca.dir, "ca-key.pem"), "-CAcreateserial", "-days", "2", "-sha256", "-extfile", file(".ext"), "-out", file(".pem"));
    return new TlsCredentials({ certFile: file(".pem"), keyFile: file("-key.pem") }, log);
  }

  it("checks each broker's certificate against that broker's own name", async () => {
    const ca = makeCa();
    // Each broker's certificate names only the host its URL gives: a name for a, an address for b.
    const a = await broker(leaf(ca, "broker-a", "DNS:localhost"));
    const b = await broker(leaf(ca, "broker-b", "IP:127.0.0.1"));
    const list = `mqtts://localhost:${a.broker.tlsPort},mqtts://127.0.0.1:${b.broker.tlsPort}`;
    const client = openMqtt({ url: list, clientId: "ha-urls-tls", username: "campus-service", password: SERVICE_PASSWORD }, { ca: ca.ca });
    cleanups.push(() => client.endAsync(true));
    await untilConnected(client, { url: list });
    expect(a.readyAt.has("ha-urls-tls")).toBe(true);

    const stoppedAt = Date.now();
    await a.broker.stop();
    await waitFor(() => b.readyAt.has("ha-urls-tls"), TAKEOVER_MS + 5_000, { intervalMs: 25, what: "the TLS client connected to the second broker" });
    expect(b.readyAt.get("ha-urls-tls")! - stoppedAt).toBeLessThanOrEqual(TAKEOVER_MS);
  });
});
