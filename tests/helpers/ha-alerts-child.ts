// One alerts service with REDIS_URL in a process of its own, for tests/integration/ha-alerts.test.ts: a
// process the test can `kill -9`, or freeze (SIGSTOP) past its lease and wake (SIGCONT). Run with
// `node --import tsx`; settings come as JSON in HA_ALERTS_CHILD. It logs pino JSON lines on stdout, plus
// `{"event":"alert"}` for every alert its engine publishes (or would publish: fenced ones too), and exits
// with code 3 when it stands down (as the CLI will), 0 after SIGTERM.
import { startAlerts } from "../../alerts/index.js";
import { defaultRules } from "../../alerts/rules/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";

interface ChildSettings {
  instance: string;
  redisUrl: string;
  leaseMs?: number;
  mqttUrl: string;
  influxUrl: string;
  influxDb: string;
  dataDir: string;
  campusFile: string;
  servicePassword: string;
}

/** The rules without a wall-clock watchdog, so the test sees only the alerts its readings make (as the test's own instances). */
const testRules = () => defaultRules().filter((rule) => rule.id !== "offline" && rule.id !== "after-hours");

async function main() {
  const settings = JSON.parse(process.env.HA_ALERTS_CHILD ?? "") as ChildSettings;
  const env = readEnv({
    DATA_DIR: settings.dataDir,
    LOG_LEVEL: "info",
    SERVICE_PASSWORD: settings.servicePassword,
    DEVICE_GROUP_KEY: "group-key-for-tests-0123456789",
    INFLUX_URL: settings.influxUrl,
    INFLUX_DB: settings.influxDb,
    CAMPUS_CONFIG: settings.campusFile,
    MQTT_URL: settings.mqttUrl,
  });
  const log = createLogger("info", `alerts-${settings.instance}`);
  const ctx = { env, campus: loadCampus(settings.campusFile), log, metrics: createRegistry(false) };
  const alerts = await startAlerts(ctx, {
    influx: new InfluxClient({ url: settings.influxUrl, db: settings.influxDb }),
    rules: testRules(),
    tickMs: 200,
    onAlert: (alert) => log.info({ event: "alert", alert }, "alert published"),
    redis: {
      url: settings.redisUrl,
      instance: settings.instance,
      ...(settings.leaseMs ? { leaseMs: settings.leaseMs } : {}),
      onDeposed: () => setTimeout(() => process.exit(3), 50),
    },
  });
  process.once("SIGTERM", () => void alerts.stop().then(() => process.exit(0)));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
