// bench:e2e's idle connections (bench/e2e/idle.ts): device connections made with mqtt.js, each with its own
// credentials, that publish nothing and stay until SIGTERM. Prints "connected N failed M" once every attempt
// has ended. Arguments: URL KEY IDS_FILE FROM TO (the ids file's lines FROM..TO-1).
import { readFileSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { devicePassword } from "../../domain/credentials.js";

const [url, key, idsFile, from, to] = process.argv.slice(2);
const ids = readFileSync(idsFile!, "utf8").split("\n").filter(Boolean).slice(Number(from), Number(to));
const CONCURRENCY = 100;
const clients: MqttClient[] = [];
let connected = 0;
let failed = 0;
let next = 0;

function connectOne(id: string): Promise<void> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url!, { clientId: id, username: id, password: devicePassword(id, key!), clean: true, keepalive: 60, reconnectPeriod: 0, connectTimeout: 60_000 });
    clients.push(client);
    client.once("connect", () => (connected++, resolve()));
    client.once("error", () => (failed++, resolve()));
    client.once("close", () => resolve());
  });
}

async function worker(): Promise<void> {
  while (next < ids.length) await connectOne(ids[next++]!);
}

await Promise.all(Array.from({ length: CONCURRENCY }, worker));
process.stdout.write(`connected ${connected} failed ${failed}\n`);
process.on("SIGTERM", () => {
  for (const client of clients) client.end(true);
  process.exit(0);
});
