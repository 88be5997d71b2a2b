// One ingest worker reading the device stream, in a process of its own, for ha-ingest.test.ts to kill with
// SIGKILL (the CLI's `campus-power ingest` does not take REDIS_URL yet). Its settings come as JSON in
// HA_WORKER; it prints "worker ready" once it reads the stream.
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { startIngest } from "../../ingest/index.js";

interface WorkerSettings {
  campus: string;
  dataDir: string;
  influxUrl: string;
  db: string;
  mqttUrl: string;
  redisUrl: string;
  servicePassword: string;
  clientId: string;
  claimIdleMs: number;
  leaseMs: number;
}

const settings = JSON.parse(process.env.HA_WORKER ?? "{}") as WorkerSettings;
const env = readEnv({
  DATA_DIR: settings.dataDir,
  DEVICE_GROUP_KEY: "ha-ingest-group-key-0123456789",
  SERVICE_PASSWORD: settings.servicePassword,
  INFLUX_URL: settings.influxUrl,
  INFLUX_DB: settings.db,
  MQTT_URL: settings.mqttUrl,
  LOG_LEVEL: "silent",
});
const ctx = { env, campus: loadCampus(settings.campus), log: createLogger("silent"), metrics: createRegistry(false) };
await startIngest(ctx, {
  influx: new InfluxClient({ url: settings.influxUrl, db: settings.db }),
  clientId: settings.clientId,
  retry: { baseMs: 50, capMs: 500 },
  redis: { url: settings.redisUrl, claimIdleMs: settings.claimIdleMs, upkeepEveryMs: 500, leaseMs: settings.leaseMs, renewEveryMs: 500 },
});
process.stdout.write("worker ready\n");
