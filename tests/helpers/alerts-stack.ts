// The real broker, ingest and alerts service of one campus in the test's process, started as the alerts
// integration tests need them (the broker on a free port, then the services as its MQTT clients), and a service
// client that keeps every alert the alerts service publishes (retained on campus/alerts/…, CONTRACT §5).
import { startAlerts, type AlertsDeps, type RunningAlerts } from "../../alerts/index.js";
import { startBroker, type RunningBroker } from "../../broker/index.js";
import type { Alert } from "../../domain/alert.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import type { InfluxClient } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { connectService, type MqttClient } from "../../infra/mqtt.js";
import type { ServiceContext } from "../../infra/service.js";
import { startIngest, type RunningIngest } from "../../ingest/index.js";

const HOST = "127.0.0.1";

export interface AlertsStack {
  /** The services' context, its env's MQTT_URL the broker's. */
  ctx: ServiceContext;
  broker: RunningBroker;
  ingest: RunningIngest;
  alerts: RunningAlerts;
  /** A service client subscribed to `watch`; every non-empty alert it receives is pushed to `seen`. */
  watcher: MqttClient;
}

export interface AlertsStackOptions {
  /** The environment readEnv reads (CAMPUS_CONFIG, SERVICE_PASSWORD, DATA_DIR, the webhook's variables, …). */
  env: Record<string, string>;
  influx: InfluxClient;
  /** Extra dependencies of the alerts service (default: a 100 ms watchdog tick). */
  alerts?: Omit<AlertsDeps, "influx">;
  /** The alerts the watcher subscribes to (an MQTT filter under campus/alerts/). */
  watch: string;
  seen: Alert[];
}

export async function startAlertsStack(options: AlertsStackOptions): Promise<AlertsStack> {
  const env = readEnv(options.env);
  let ctx: ServiceContext = { env, campus: loadCampus(env.campusConfig), log: createLogger("silent"), metrics: createRegistry(false) };
  const broker = await startBroker(ctx, { port: 0, wsPort: 0, host: HOST });
  ctx = { ...ctx, env: Object.freeze({ ...env, mqttUrl: `mqtt://${HOST}:${broker.tcpPort}` }) };
  const ingest = await startIngest(ctx, { influx: options.influx });
  const alerts = await startAlerts(ctx, { tickMs: 100, ...options.alerts, influx: options.influx });
  const watcher = await connectService(ctx.env.mqttUrl, env.servicePassword, "test-watcher");
  watcher.on("message", (_t, payload) => payload.length > 0 && options.seen.push(JSON.parse(payload.toString()) as Alert));
  await watcher.subscribeAsync(options.watch, { qos: 1 });
  return { ctx, broker, ingest, alerts, watcher };
}

/** Stops what was started, the watcher first and the broker last; a part never started is skipped. */
export async function stopAlertsStack(parts: Partial<AlertsStack>): Promise<void> {
  await parts.watcher?.endAsync();
  await parts.alerts?.stop();
  await parts.ingest?.stop();
  await parts.broker?.stop();
}
