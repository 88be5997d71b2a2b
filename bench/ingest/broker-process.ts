// Bench helper: the campus broker alone in its own process (as `campus-power broker`), printing its port.
// Env as for the CLI (CAMPUS_CONFIG, DATA_DIR, DEVICE_GROUP_KEY, SERVICE_PASSWORD); MQTT_PORT=0 picks one.
import { startBroker } from "../../broker/index.js";
import { loadContext } from "../../cli/runtime.js";

const { ctx } = loadContext({ ...process.env, LOG_LEVEL: "warn" }, "broker");
const broker = await startBroker(ctx, { port: 0, wsPort: 0, host: "127.0.0.1" });
process.stdout.write(`PORT ${broker.tcpPort}\n`);
process.on("SIGTERM", () => void broker.stop().then(() => process.exit(0)));
