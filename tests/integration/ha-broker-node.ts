// One broker node with REDIS_URL in a process of its own, for ha-broker-ids.test.ts to crash with SIGKILL (a
// stop() would publish its clients' wills itself; a crash leaves them to the surviving nodes). Settings come
// as JSON in HA_BROKER_NODE; once listening it prints one JSON line: {"port": <tcp port>, "brokerId": <aedes id>}.
import { startBroker } from "../../broker/index.js";
import { readEnv } from "../../domain/env.js";
import { loadCampus } from "../../infra/campus-file.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { buildRouter } from "../../ingest/routing.js";

interface NodeSettings {
  campusFile: string;
  dataDir: string;
  redisUrl: string;
  deviceGroupKey: string;
  servicePassword: string;
}

const settings = JSON.parse(process.env.HA_BROKER_NODE ?? "{}") as NodeSettings;
const env = readEnv({ DEVICE_GROUP_KEY: settings.deviceGroupKey, SERVICE_PASSWORD: settings.servicePassword, LOG_LEVEL: "silent", DATA_DIR: settings.dataDir });
const campus = loadCampus(settings.campusFile);
const ctx = { env, campus, log: createLogger("silent"), metrics: createRegistry(false) };
const broker = await startBroker(ctx, {
  port: 0,
  wsPort: 0,
  host: "127.0.0.1",
  redis: { url: settings.redisUrl, deviceFilters: buildRouter(campus).subscriptions },
});
process.stdout.write(`${JSON.stringify({ port: broker.tcpPort, brokerId: broker.aedes.id })}\n`);
