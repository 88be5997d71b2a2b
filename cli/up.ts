// `campus-power up [--demo [--district] [--tls]]`: every service in one process, wired only through the broker and InfluxDB;
// the alerts service on a thread of its own (./service-thread.ts).
import { type IncomingMessage, get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { extname, join, resolve } from "node:path";
import type { TlsOptions } from "node:tls";
import { fileURLToPath } from "node:url";
import type { Campus } from "../domain/campus.js";
import { DEMO_CAMPUS_FILE, type Env } from "../domain/env.js";
import { InfluxClient, redactUrl } from "../infra/influx.js";
import { findInfluxd, type LocalInfluxd, startLocalInfluxd } from "../infra/local-influxd.js";
import type { Logger } from "../infra/logger.js";
import { joinedExposition } from "../infra/metrics.js";
import type { RunningService, ServiceContext } from "../infra/service.js";
import { type DemoPair, ensureDemoPair, reloadOnHangup, tlsFromEnv } from "../infra/tls.js";
import { DEFAULT_HISTORY, parseHistorySpan } from "../simulator/history.js";
import { type DemoAccount, ensureDemoAccounts } from "./demo-accounts.js";
import { demoSecrets, loadContext, stopOnSignals, UsageError } from "./runtime.js";

/** The bundled demo district (CONTRACT §9): the demo campus and two more schools of other sizes and rhythms. */
export const DEMO_DISTRICT_FILE = fileURLToPath(new URL("../config/demo-district.yaml", import.meta.url));

export interface UpOptions {
  demo: boolean;
  /** With `demo`: the bundled demo district instead of the demo campus. */
  district?: boolean;
  seed: number;
  /** `--history`: how much simulated past `--demo` writes first (simulator/history.ts; default 14d, `0` none). */
  history?: string;
  /** `--tls` with `demo`: serve TLS with a self-signed pair made under DATA_DIR/tls (docs/tls.md). */
  tls?: boolean;
}

export async function runUp(options: UpOptions): Promise<void> {
  const source: NodeJS.ProcessEnv = { ...process.env };
  // Never a silent fallback (CONTRACT §12): `up` is one process, so it cannot be one of several sharing Redis.
  if (source.REDIS_URL) throw new UsageError("REDIS_URL is set, but `up` runs every service in one process; to run several processes sharing Redis, start `campus-power broker`, `ingest`, `alerts` and `api` (docs/ha.md), or unset REDIS_URL");
  let generated: string[] = [];
  if (options.district) {
    if (!options.demo) throw new UsageError("--district runs the bundled demo district and needs --demo (for a district of your own, set CAMPUS_CONFIG to its file)");
    if (source.CAMPUS_CONFIG) throw new UsageError(`--district runs the bundled demo district, but CAMPUS_CONFIG names ${source.CAMPUS_CONFIG} (unset it, or drop --district: up --demo simulates every school of the file CAMPUS_CONFIG names)`);
    source.CAMPUS_CONFIG = DEMO_DISTRICT_FILE;
  }
  if (options.demo) {
    // A newcomer watching the demo wants the banner, not a stream of JSON lines.
    source.LOG_LEVEL ??= "warn";
    const secrets = demoSecrets(source, source.DATA_DIR || "./data");
    Object.assign(source, secrets.values);
    generated = secrets.generated;
  }
  if (options.history !== undefined && !options.demo) throw new UsageError("--history writes the simulated devices' past and needs --demo");
  if (options.tls && !options.demo) throw new UsageError("--tls makes a self-signed demo certificate and needs --demo (otherwise set TLS_CERT_FILE and TLS_KEY_FILE)");
  let demoPair: DemoPair | null = null;
  if (options.tls && !source.TLS_CERT_FILE && !source.TLS_KEY_FILE) {
    demoPair = ensureDemoPair(resolve(source.DATA_DIR || "./data", "tls"));
    Object.assign(source, { TLS_CERT_FILE: demoPair.certFile, TLS_KEY_FILE: demoPair.keyFile });
  }
  const { ctx, env, log } = loadContext(source, "up");
  const historySpan = options.demo ? parseHistorySpan(options.history ?? DEFAULT_HISTORY, env.rawRetentionMs) : { ok: true as const, ms: 0 };
  if (!historySpan.ok) throw new UsageError(historySpan.problem);
  const services: RunningService[] = [];
  let progress: NodeJS.Timeout | undefined;
  stopOnSignals(() => services, log, () => clearInterval(progress));
  // One certificate for the broker and the API, so one `kill -HUP` reloads both (docs/tls.md).
  const tls = tlsFromEnv(env, log);
  if (tls) reloadOnHangup(tls);

  // The demo's people sign in by name and password (made once; the first start hashes a few seconds).
  const people = options.demo ? await ensureDemoAccounts(ctx.campus, env.usersFile, env.dataDir) : [];
  const influxd = await ensureInflux(env, log);
  if (influxd) services.push({ stop: () => influxd.stop() });
  const influx = new InfluxClient({ url: env.influxUrl, db: env.influxDb, username: env.influxUsername, password: env.influxPassword });

  const { startBroker } = await import("../broker/index.js");
  // TLS_ONLY leaves no plain TCP port: the services beside the broker reach it on a Unix socket only this user may open.
  const unixSocketPath = tls && env.tlsOnly ? resolve(env.dataDir, "broker.sock") : undefined;
  // The ingest beside the broker takes device messages in-process (broker/device-feed.ts): no MQTT hop, no journal.
  const { DeviceFeed } = await import("../broker/device-feed.js");
  const feed = new DeviceFeed((error, topic) => log.error({ err: error, topic }, "ingest: a routed device message was not stored"));
  const broker = await startBroker(ctx, { tls, feed, ...(unixSocketPath ? { unixSocketPath } : {}) });
  services.push(broker);
  // In one process the services reach the broker they run beside, whatever MQTT_URL says.
  const brokerHost = env.bindHost === "0.0.0.0" || env.bindHost === "::" ? "127.0.0.1" : env.bindHost;
  const mqttUrl = unixSocketPath ? `mqtt+unix://${unixSocketPath}` : `mqtt://${brokerHost.includes(":") ? `[${brokerHost}]` : brokerHost}:${broker.tcpPort}`;
  const local: Env = Object.freeze({ ...env, mqttUrl });
  const localCtx = { ...ctx, env: local };

  const { startIngest } = await import("../ingest/index.js");
  services.push(await startIngest(localCtx, { influx, feed }));
  // The alerts service on a thread of its own (a second core; docs/architecture.md), an MQTT client of the broker as before.
  // Its body is .ts or .js as this module is (tsx, or the bin's compiled build: bin/compiled.js).
  // Its young generation is bounded for a school of up to 1,000 devices (./alerts-heap.ts), V8's own above.
  const { startServiceThread } = await import("./service-thread.js");
  const { alertsYoungGenerationMb } = await import("./alerts-heap.js");
  const thread = { module: new URL(`./alerts-thread${extname(import.meta.url)}`, import.meta.url), source, mqttUrl };
  const alerts = await startServiceThread("alerts", thread, log, alertsYoungGenerationMb(ctx.campus.devices.length));
  services.push(alerts);
  const { startApi } = await import("../api/index.js");
  const api = await startApi(localCtx, { influx, tls, exposition: joinedExposition(ctx.metrics, () => alerts.metrics()) });
  services.push(api);
  log.info({ mqtt: broker.tcpPort, ws: broker.wsPort, http: api.port }, "campus-power is up");

  if (options.demo) {
    const { startSimulator } = await import("../simulator/index.js");
    const liveStartMs = Date.now();
    const simulator = await startSimulator({
      campus: ctx.campus,
      mqttUrl: local.mqttUrl,
      deviceGroupKey: env.deviceGroupKey,
      log: ctx.log,
      metrics: ctx.metrics,
      seed: options.seed,
      demoOverload: true,
    });
    // Stopped after the alerts service (the list stops in reverse): stopping the demo is not its devices going offline.
    services.splice(services.indexOf(alerts), 0, simulator);
    printBanner(env, ctx.campus, api.port, broker, generated, influxd, people);
    if (tls) process.stdout.write(tlsLines(env, demoPair));
    if (historySpan.ms > 0) services.push(await startDemoHistory(localCtx, influx, options.seed, historySpan.ms, liveStartMs));
    progress = startProgress(api.url, env.apiTokens.find((t) => t.role === "viewer")?.token ?? env.apiTokens[0]!.token, tls?.serverOptions().cert);
  } else {
    const mqtt = [broker.tcpPort ? `MQTT ${broker.tcpPort}` : "", broker.tlsPort ? `MQTTS ${broker.tlsPort}` : "", `MQTT/${tls ? "WSS" : "WS"} ${broker.wsPort}`].filter(Boolean).join(", ");
    process.stdout.write(`campus-power is up: ${tls ? "https" : "http"}://localhost:${api.port}/  (${mqtt})\n`);
  }
}

/** The simulated devices' past, written in the background with the ingest's own points, deltas and rollups. */
async function startDemoHistory(ctx: ServiceContext, influx: InfluxClient, seed: number, spanMs: number, toMs: number): Promise<RunningService> {
  const { readingToPoints } = await import("../ingest/points.js");
  const { observeCounter } = await import("../ingest/energy.js");
  const { rollupSelects } = await import("../ingest/retention.js");
  const { startHistoryWriter } = await import("../simulator/history-writer.js");
  const { rollUpDeviceDays } = await import("../infra/device-energy-rollup.js");
  const { rollUpPeakDays } = await import("../infra/peak-day-rollup.js");
  const { readPowerReporters } = await import("../infra/power-rollup.js");
  const history = startHistoryWriter({
    campus: ctx.campus, seed, spanMs, toMs, influx, log: ctx.log, readingToPoints, observeCounter,
    rollupSelects: (where) => rollupSelects(ctx.env.influxDb, where, ctx.campus),
    say: (line) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`),
  });
  // The ingest's catch-up may have marked the past days complete before they were written: roll them up again once they are.
  const past = { fromMs: toMs - spanMs, toMs };
  void history.done
    .then(async () => {
      await rollUpDeviceDays(influx, ctx.campus, past, Date.now());
      await rollUpPeakDays(influx, ctx.campus, await readPowerReporters(influx), past, Date.now());
    })
    .catch((error: unknown) => ctx.log.warn({ err: error }, "demo history: daily energy or peak rollup not filled"));
  return history;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Uses the InfluxDB at INFLUX_URL. When nothing answers there, the address is on this machine's
 * loopback and influxd is installed, starts and supervises a local one on that port (data under
 * DATA_DIR/influxdb), so a newcomer needs nothing else running. An INFLUX_URL on another host is a
 * server of the user's: it is never replaced, only waited for.
 */
async function ensureInflux(env: Env, log: Logger): Promise<LocalInfluxd | null> {
  const probe = new InfluxClient({ url: env.influxUrl, db: env.influxDb, username: env.influxUsername, password: env.influxPassword });
  if (await probe.ping()) return null;
  const where = redactUrl(env.influxUrl);
  const url = new URL(env.influxUrl);
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    log.warn({ url: where }, "InfluxDB does not answer at INFLUX_URL; readings wait until it does");
    process.stderr.write(`warning: InfluxDB does not answer at ${where}; the ingest keeps retrying.\n`);
    return null;
  }
  if (!findInfluxd()) {
    process.stderr.write(
      `warning: nothing answers at ${where} and influxd is not installed.\n` +
        "  Install it (Debian/Ubuntu: sudo apt-get install influxdb) or set INFLUX_URL; the ingest keeps retrying.\n",
    );
    return null;
  }
  const port = Number(url.port || 8086);
  const dir = resolve(env.dataDir, "influxdb");
  process.stdout.write(`Starting a local InfluxDB on 127.0.0.1:${port} (data in ${dir}) ...\n`);
  return startLocalInfluxd({ dir, port, log, supervise: true });
}

function printBanner(env: Env, campus: Campus, httpPort: number, broker: { tcpPort: number; tlsPort: number | null; wsPort: number }, generated: string[], influxd: LocalInfluxd | null, people: readonly DemoAccount[]) {
  const web = broker.tlsPort === null ? "http" : "https";
  const socket = broker.tlsPort === null ? "ws" : "wss";
  const mqtt = [broker.tcpPort ? `mqtt://localhost:${broker.tcpPort}` : "", broker.tlsPort ? `mqtts://localhost:${broker.tlsPort}` : "", `${socket}://localhost:${broker.wsPort}/mqtt`].filter(Boolean).join("   ");
  const tokens = generated.includes("API_TOKENS")
    ? env.apiTokens.map((t) => `    ${t.role.padEnd(9)} ${t.token}`).join("\n")
    : "    (the ones you set in API_TOKENS)";
  const viewer = env.apiTokens.find((t) => t.role === "viewer")?.token ?? "";
  const operator = env.apiTokens.find((t) => t.role === "operator")?.token ?? env.apiTokens[0]!.token;
  const campusNote = env.campusConfig === DEMO_CAMPUS_FILE ? "the bundled demo campus" : env.campusConfig === DEMO_DISTRICT_FILE ? "the bundled demo district" : env.campusConfig;
  process.stdout.write(`
campus-power demo is running (${campusNote}, simulated devices connected)
${districtLines(campus, `${web}://localhost:${httpPort}`)}
  Dashboard      ${web}://localhost:${httpPort}/#token=${operator}
  REST API       ${web}://localhost:${httpPort}/api/devices   (Authorization: Bearer <token>)
  Live stream    ${socket}://localhost:${httpPort}/api/live?token=<token>
  API docs       ${web}://localhost:${httpPort}/api/docs
  Metrics        ${web}://localhost:${httpPort}/metrics
  MQTT           ${mqtt}
  InfluxDB       ${redactUrl(env.influxUrl)} (database ${env.influxDb}${influxd ? ", started by campus-power" : ""})

${peopleLines(people)}
  API tokens (for scripts):
${tokens}
${secretLines(env, generated)}
  Try:  curl -H "Authorization: Bearer ${viewer}" ${web}://localhost:${httpPort}/api/devices
  A dormitory room overloads every few minutes: watch /api/alerts or the dashboard.
  Stop with Ctrl-C.

`);
}

/** The demo's accounts, to sign in on the dashboard with (docs/accounts.md). */
function peopleLines(people: readonly DemoAccount[]): string {
  if (people.length === 0) return "";
  const width = Math.max(...people.map((p) => p.name.length)) + 2;
  const lines = people.map((p) => `    ${p.name.padEnd(width)} ${p.password}   ${p.role}${p.sites ? ` of ${p.sites.join(", ")}` : ", every school"}`);
  return `  Sign in (name, password; kept in DATA_DIR/demo-accounts.json):\n${lines.join("\n")}\n`;
}

/** For a district (CONTRACT §9): its name and every school simulated, and where the API compares them. */
function districtLines(campus: Campus, apiBase: string): string {
  if (campus.sites.length < 2) return "";
  const schools = campus.sites.map((site) => `    ${site.site.id.padEnd(24)} ${site.site.name} (${site.devices.length} devices, ${site.site.timezone})`);
  return `
  District       ${campus.district.name}: ${campus.sites.length} schools, ${campus.devices.length} devices
${schools.join("\n")}
  Schools        ${apiBase}/api/sites
`;
}

/** Only secrets the demo generated are printed: ones the user set in the environment are theirs. */
function secretLines(env: Env, generated: string[]): string {
  const lines: string[] = [];
  if (generated.includes("DEVICE_GROUP_KEY")) lines.push(`  Device key     DEVICE_GROUP_KEY=${env.deviceGroupKey}   (device passwords: campus-power device-secret ID)`);
  if (generated.includes("SERVICE_PASSWORD")) lines.push(`  Service        SERVICE_PASSWORD=${env.servicePassword}   (MQTT user campus-service)`);
  if (generated.length > 0) lines.push(`  Generated ${generated.join(", ")}; kept in ${join(env.dataDir, "demo-secrets.json")} for the next start.`);
  return lines.map((l) => `${l}\n`).join("");
}

/** One progress line every 15 s, read from our own API like any client would (trusting our own certificate). */
function startProgress(apiUrl: string, token: string, cert?: TlsOptions["cert"]): NodeJS.Timeout {
  const read = <T>(path: string) => readJson<T>(`${apiUrl}${path}`, token, cert);
  const timer = setInterval(async () => {
    try {
      const devices = await read<{ online: boolean }[]>("/api/devices");
      const alerts = await read<{ rule: string; device: string }[]>("/api/alerts?state=open");
      const online = devices.filter((d) => d.online).length;
      const list = alerts.map((a) => `${a.rule}@${a.device}`).join(", ");
      process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] devices online ${online}/${devices.length}, open alerts ${alerts.length}${list ? `: ${list}` : ""}\n`);
    } catch {
      // the API is stopping or busy; the next tick tries again
    }
  }, 15_000);
  timer.unref();
  return timer;
}

/** A GET of our own API, over https with our certificate as the only CA when TLS is on. */
function readJson<T>(url: string, token: string, ca: TlsOptions["cert"]): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const headers = { authorization: `Bearer ${token}` };
    const onResponse = (res: IncomingMessage) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => {
        try {
          resolvePromise(JSON.parse(text) as T);
        } catch (error) {
          reject(error);
        }
      });
    };
    const req = url.startsWith("https:") ? httpsGet(url, { headers, ...(ca ? { ca } : {}), servername: "localhost" }, onResponse) : httpGet(url, { headers }, onResponse);
    req.on("error", reject);
  });
}

/** Where the certificate is, and how to trust it (docs/tls.md). */
function tlsLines(env: Env, pair: DemoPair | null): string {
  if (!pair) return `  TLS            serving ${env.tlsCertFile} (kill -HUP ${process.pid} after renewing it)\n\n`;
  return `  TLS            self-signed demo certificate (${pair.created ? "made now" : "reused"}; valid until ${pair.validTo})
                   ${pair.certFile}
                   SHA-256 ${pair.fingerprint256}
                 Trust it:  mosquitto_pub --cafile ${pair.certFile} -h localhost -p ${env.mqttsPort} ...
                            curl --cacert ${pair.certFile} https://localhost:${env.httpPort}/api/health
                 Browsers: import it as a trusted authority, or accept it once after checking the fingerprint (docs/tls.md)

`;
}
