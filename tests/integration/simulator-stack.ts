// The real stack for the simulator's integration tests: broker on an ephemeral port, ingest into a fresh
// database of the shared real influxd, optionally the alerts service, all on one campus file, each with
// its own DATA_DIR. (Helper of simulator*.test.ts, replay*.test.ts and scenario*.test.ts.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAlerts } from "../../alerts/index.js";
import { startBroker } from "../../broker/index.js";
import { type Campus } from "../../domain/campus.js";
import { loadCampus } from "../../infra/campus-file.js";
import { readEnv } from "../../domain/env.js";
import { type InfluxClient, rows } from "../../infra/influx.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry, type Registry } from "../../infra/metrics.js";
import type { RunningService, ServiceContext } from "../../infra/service.js";
import { startIngest } from "../../ingest/index.js";
import { availabilityMessage } from "../../simulator/messages.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";

export const GROUP_KEY = "simulator-stack-group-key-0123456789";
export const SERVICE_PASSWORD = "simulator-stack-service-password";

export interface Stack {
  campus: Campus;
  mqttUrl: string;
  influx: InfluxClient;
  metrics: Registry;
  /** Waits until everything the ingest accepted is in InfluxDB. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(campusFile: string, options: { alerts?: boolean; influx?: InfluxClient } = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), "campus-sim-stack-"));
  const influx = options.influx ?? (await freshDatabase("sim"));
  const campus = loadCampus(campusFile);
  const metrics = createRegistry(false);
  const env = readEnv({
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    SERVICE_PASSWORD,
    DEVICE_GROUP_KEY: GROUP_KEY,
    INFLUX_URL: influxUrl(),
    INFLUX_DB: influx.config.db,
    CAMPUS_CONFIG: campusFile,
  });
  const base: ServiceContext = { env, campus, log: createLogger("silent"), metrics };
  const broker = await startBroker(base, { port: 0, wsPort: 0, host: "127.0.0.1" });
  const mqttUrl = `mqtt://127.0.0.1:${broker.tcpPort}`;
  const ctx: ServiceContext = { ...base, env: Object.freeze({ ...env, mqttUrl }) };
  const services: RunningService[] = [broker];
  const ingest = await startIngest(ctx, { influx });
  services.push(ingest);
  if (options.alerts) services.push(await startAlerts(ctx, { influx, tickMs: 200 }));
  return {
    campus,
    mqttUrl,
    influx,
    metrics,
    flush: () => ingest.flush(),
    async stop() {
      for (const service of services.reverse()) await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every stored `electrical` point of the devices, sorted, as comparable text lines. */
export async function storedReadings(influx: InfluxClient, devices: readonly string[]): Promise<string[]> {
  const regex = devices.map((d) => d.replace(/[-]/g, "\\-")).join("|");
  const found = rows(await influx.query(`SELECT * FROM electrical WHERE device =~ /^(${regex})$/`));
  return found.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b))))).sort();
}

/**
 * Whether every simulated device has said "offline" after "online" among `messages` (as received, in
 * order): a device says offline last, when the simulator stops, so all it published before has arrived
 * too. The marker of a check that nothing more is coming (tests/helpers/wait.ts). A retained "offline" of
 * an earlier run, delivered on subscription, comes before the run's "online" and does not count.
 */
export function everyDeviceLeft(campus: Campus, messages: readonly { topic: string; payload: string }[]): boolean {
  return campus.devices.every((device) => {
    const online = availabilityMessage(device, true);
    const offline = availabilityMessage(device, false);
    const said = messages.filter((m) => m.topic === online.topic).map((m) => m.payload);
    return said.at(-1) === offline.payload && said.includes(online.payload);
  });
}
