// The real stack the late-readings and counted-devices tests run on: the real broker, the suite's influxd
// (a fresh database), the real ingest (which makes the retention policies, continuous queries and the
// rollup catch-up) and the real API, with real mqtt.js devices that publish their buffered readings as
// one JSON array (CONTRACT §3).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { startApi, type RunningApi } from "../../api/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import { devicePassword } from "../../domain/credentials.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import type { ServiceContext } from "../../infra/service.js";
import { type IngestDeps, startIngest, type RunningIngest } from "../../ingest/index.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";
import { waitFor } from "../helpers/wait.js";

export const CAMPUS = "tests/fixtures/test-campus.yaml";
export const HOUR = 3_600_000;
const GROUP_KEY = "energy-late-group-key-0123456789";
const VIEWER = "viewer-token-energy-late-0123";

export interface EnergyStack {
  influx: InfluxClient;
  readonly ingest: RunningIngest;
  /** Stops the ingest and starts it again (same client id, spool and session) with these options. */
  restartIngest(options?: Partial<IngestDeps>): Promise<void>;
  campus: ReturnType<typeof loadCampus>;
  /** GET an API path as a viewer; the JSON body. */
  get(path: string): Promise<any>;
  /** Publishes readings `{ts, ...values}` of a native device as one buffered batch (QoS 1). */
  flush(device: string, readings: Record<string, number>[]): Promise<void>;
  /** Publishes any payload on a topic as the given device. */
  publish(device: string, topic: string, payload: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startEnergyStack(name: string, ingestOptions: Partial<IngestDeps> = {}): Promise<EnergyStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `campus-${name}-`));
  const influx = await freshDatabase(name.replace(/-/g, "_"));
  const campus = loadCampus(CAMPUS);
  const env = readEnv({
    CAMPUS_CONFIG: CAMPUS, DATA_DIR: dataDir, DEVICE_GROUP_KEY: GROUP_KEY, SERVICE_PASSWORD: `service-password-${name}`,
    API_TOKENS: `viewer:${VIEWER}`, HTTP_PORT: "0", INFLUX_URL: influxUrl(), INFLUX_DB: influx.config.db, LOG_LEVEL: "silent",
  });
  const base = { campus, log: createLogger("silent") };
  const broker: RunningBroker = await startBroker({ ...base, env, metrics: createRegistry(false) }, { port: 0, wsPort: 0, host: "127.0.0.1", journal: false });
  const ctx: ServiceContext = { ...base, env: { ...env, mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}` }, metrics: createRegistry(false) };
  let ingest = await startIngest(ctx, { influx, clientId: `ingest-${name}`, ...ingestOptions });
  const api: RunningApi = await startApi({ ...ctx, metrics: createRegistry(false) }, { influx, host: "127.0.0.1" });
  // The ingest made the rollups' retention policies (it waits for InfluxDB up to 2 s at start).
  await waitFor(async () => (await influx.query(`SHOW RETENTION POLICIES`)).some((s) => (s.values ?? []).some((row) => row[0] === "rollup_1h")), 10_000, { what: "the rollup retention policies" });

  const clients = new Map<string, MqttClient>();
  const client = async (device: string) => {
    let c = clients.get(device);
    if (c === undefined) {
      c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.tcpPort}`, {
        protocolVersion: 4, clientId: `${device}-${randomBytes(3).toString("hex")}`, username: device, password: devicePassword(device, GROUP_KEY), reconnectPeriod: 0,
      });
      clients.set(device, c);
    }
    return c;
  };
  const publish = async (device: string, topic: string, payload: string) => {
    await (await client(device)).publishAsync(topic, payload, { qos: 1 });
  };
  return {
    influx,
    get ingest() {
      return ingest;
    },
    restartIngest: async (options = {}) => {
      await ingest.stop();
      ingest = await startIngest(ctx, { influx, clientId: `ingest-${name}`, ...options });
    },
    campus,
    get: async (path) => {
      const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${VIEWER}` } });
      return res.json();
    },
    flush: (device, readings) => publish(device, `campus/devices/${device}/telemetry`, JSON.stringify(readings)),
    publish,
    stop: async () => {
      await Promise.all([...clients.values()].map((c) => c.endAsync(true).catch(() => undefined)));
      await api.stop();
      await ingest.stop();
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `count` readings 5 min apart from `fromMs`, the counter rising `stepKwh` each, at `powerW`. */
export function bufferedReadings(fromMs: number, count: number, stepKwh: number, powerW: number, startKwh = 100): { ts: number; power_w: number; energy_kwh: number }[] {
  return Array.from({ length: count }, (_, k) => ({ ts: fromMs + k * 5 * 60_000, power_w: powerW, energy_kwh: Math.round((startKwh + k * stepKwh) * 1e6) / 1e6 }));
}
