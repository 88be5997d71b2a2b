// `record` and `replay` (CONTRACT §7), first cut: NDJSON lines {"t", "topic", "payload"}.
// Replay publishes as the devices themselves (their own credentials), like the simulator, so the
// broker's authentication and ACLs see exactly what real traffic would give them.
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { isUtf8 } from "node:buffer";
import type { Campus } from "../domain/campus.js";
import { devicePassword } from "../domain/credentials.js";
import { parseDeviceTopic } from "../domain/topics.js";
import { connectMqtt, connectService, type MqttClient } from "../infra/mqtt.js";
import { loadContext, stopOnSignals, UsageError } from "./runtime.js";

export interface RecordedMessage {
  t: number;
  topic: string;
  payload: string | { base64: string };
}

export const DEFAULT_RECORD_TOPICS = ["campus/devices/#", "tele/#", "stat/#", "shellies/#", "zigbee2mqtt/#", "+/status/#", "+/events/rpc", "+/online"];

export function encodePayload(payload: Buffer): RecordedMessage["payload"] {
  return isUtf8(payload) ? payload.toString("utf8") : { base64: payload.toString("base64") };
}

export function decodePayload(payload: RecordedMessage["payload"]): Buffer {
  return typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload.base64, "base64");
}

/** The device a topic belongs to: native topics by id, foreign ones by the campus file's `source`. */
export function deviceForTopic(campus: Campus, topic: string): string | null {
  const native = parseDeviceTopic(topic);
  if (native) return campus.deviceById.has(native.device) ? native.device : null;
  for (const device of campus.devices) {
    if (device.source === undefined) continue;
    const levels = topic.split("/");
    if (levels.includes(device.source)) return device.id;
  }
  return null;
}

/** Shifts `ts` of native telemetry and event payloads by `offsetMs`; other payloads pass unchanged. */
export function restamp(topic: string, payload: Buffer, offsetMs: number): Buffer {
  const native = parseDeviceTopic(topic);
  if (!native || (native.kind !== "telemetry" && native.kind !== "events")) return payload;
  try {
    const shift = (item: Record<string, unknown>) => {
      if (typeof item.ts === "number") item.ts += offsetMs;
      else if (typeof item.ts === "string" && Number.isFinite(Date.parse(item.ts))) item.ts = new Date(Date.parse(item.ts) + offsetMs).toISOString();
      return item;
    };
    const parsed = JSON.parse(payload.toString()) as Record<string, unknown> | Record<string, unknown>[];
    return Buffer.from(JSON.stringify(Array.isArray(parsed) ? parsed.map(shift) : shift(parsed)));
  } catch {
    return payload; // not JSON: replayed as recorded, the ingest will refuse it as it did the first time
  }
}

export async function runRecord(options: { out: string; topics?: string[]; durationMs?: number }): Promise<void> {
  const { env, log } = loadContext(process.env, ["SERVICE_PASSWORD"], "campus-power-record");
  const client = await connectService(env.mqttUrl, env.servicePassword, `campus-record-${process.pid}`);
  const out = options.out === "-" ? process.stdout : createWriteStream(options.out, { flags: "a" });
  let count = 0;
  client.on("message", (topic, payload) => {
    out.write(`${JSON.stringify({ t: Date.now(), topic, payload: encodePayload(payload) } satisfies RecordedMessage)}\n`);
    count++;
  });
  await client.subscribeAsync(options.topics ?? DEFAULT_RECORD_TOPICS, { qos: 1 });
  const progress = setInterval(() => process.stderr.write(`recorded ${count} messages\n`), 5_000);
  stopOnSignals(() => [{ stop: async () => {
    clearInterval(progress);
    await client.endAsync();
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
    process.stderr.write(`recorded ${count} messages in total\n`);
  } }], log);
  if (options.durationMs !== undefined) setTimeout(() => process.kill(process.pid, "SIGTERM"), options.durationMs);
}

export async function runReplay(options: { file: string; speed: number; loop: boolean; restamp: boolean }): Promise<void> {
  if (!(options.speed >= 0)) throw new UsageError("--speed must be a number ≥ 0");
  const { env, campus, log } = loadContext(process.env, ["DEVICE_GROUP_KEY"], "campus-power-replay");
  const total = readFileSync(options.file, "utf8").split("\n").filter((l) => l.trim() !== "").length;
  const clients = new Map<string, MqttClient>();
  let stopped = false;
  stopOnSignals(() => [{ stop: async () => {
    stopped = true;
    await Promise.all([...clients.values()].map((c) => c.endAsync()));
  } }], log);

  const clientFor = async (device: string) => {
    let client = clients.get(device);
    if (!client) {
      client = await connectMqtt({ url: env.mqttUrl, clientId: `replay-${device}`, username: device, password: devicePassword(device, env.deviceGroupKey) });
      clients.set(device, client);
    }
    return client;
  };

  let round = 0;
  do {
    round++;
    let first: number | null = null;
    const startedAt = Date.now();
    let sent = 0;
    let skipped = 0;
    let lastProgress = Date.now();
    const lines = createInterface({ input: createReadStream(options.file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (stopped) return;
      if (line.trim() === "") continue;
      const message = JSON.parse(line) as RecordedMessage;
      first ??= message.t;
      const due = options.speed === 0 ? 0 : startedAt + (message.t - first) / options.speed - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const device = deviceForTopic(campus, message.topic);
      if (!device) {
        skipped++;
        continue;
      }
      let payload = decodePayload(message.payload);
      if (options.restamp) payload = restamp(message.topic, payload, startedAt - first);
      await (await clientFor(device)).publishAsync(message.topic, payload, { qos: 1 });
      sent++;
      if (Date.now() - lastProgress > 5_000) {
        lastProgress = Date.now();
        process.stderr.write(`replay round ${round}: ${sent + skipped}/${total} (${Math.round(((sent + skipped) / total) * 100)}%)\n`);
      }
    }
    process.stderr.write(`replay round ${round}: ${sent} published, ${skipped} skipped (topic of no campus device)\n`);
  } while (options.loop && !stopped);
  process.kill(process.pid, "SIGTERM");
}
