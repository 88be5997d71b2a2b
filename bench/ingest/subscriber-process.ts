// Bench helper: the pass-through ceiling. One plain mqtt.js subscriber (QoS 1, persistent session, the
// ingest's client id, so the broker journals and retires exactly as it does for the ingest) that only
// counts; prints "COUNT n" every 100 ms. Env: MQTT_URL, SERVICE_PASSWORD.
import mqtt from "mqtt";

const client = await mqtt.connectAsync(process.env.MQTT_URL!, {
  protocolVersion: 4, clientId: "campus-ingest", clean: false, username: "campus-service", password: process.env.SERVICE_PASSWORD!, reconnectPeriod: 0,
});
let count = 0;
client.on("message", () => count++);
await client.subscribeAsync("campus/devices/+/telemetry", { qos: 1 });
process.stdout.write("READY\n");
setInterval(() => process.stdout.write(`COUNT ${count}\n`), 100);
