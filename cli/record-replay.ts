// `record` and `replay` (CONTRACT §7): NDJSON lines {"t", "topic", "payload"} (recording.ts).
// Replay publishes as the devices themselves (their own credentials), like the simulator, so the
// broker's authentication and ACLs see exactly what real traffic would give them.
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Campus } from "../domain/campus.js";
import { devicePassword } from "../domain/credentials.js";
import type { Logger } from "../infra/logger.js";
import { connectMqtt, connectService, type MqttClient } from "../infra/mqtt.js";
import {
  DEFAULT_RECORD_TOPICS,
  decodePayload,
  deviceForTopic,
  encodePayload,
  isAvailabilityTopic,
  parseRecordedLine,
  type RecordedMessage,
  restamp,
  topicMatches,
} from "../simulator/recording.js";
import { createProgress } from "./progress.js";
import { loadContext, stopOnSignals, UsageError } from "./runtime.js";

export { DEFAULT_RECORD_TOPICS, decodePayload, deviceForTopic, encodePayload, type RecordedMessage, restamp } from "../simulator/recording.js";

export interface Recorder {
  readonly count: number;
  stop(): Promise<void>;
}

/** Subscribes as the service account and hands every message to `write` as one NDJSON line. */
export async function startRecorder(options: { mqttUrl: string; servicePassword: string; topics?: readonly string[]; write: (line: string) => void; clientId?: string }): Promise<Recorder> {
  const client = await connectService(options.mqttUrl, options.servicePassword, options.clientId ?? `campus-record-${process.pid}-${Date.now()}`);
  let count = 0;
  client.on("message", (topic, payload) => {
    options.write(`${JSON.stringify({ t: Date.now(), topic, payload: encodePayload(payload) } satisfies RecordedMessage)}\n`);
    count++;
  });
  await client.subscribeAsync([...(options.topics ?? DEFAULT_RECORD_TOPICS)], { qos: 1 });
  return {
    get count() {
      return count;
    },
    stop: () => client.endAsync(),
  };
}

export async function runRecord(options: { out: string; topics?: string[]; durationMs?: number }): Promise<void> {
  const { env, log } = loadContext(process.env, ["SERVICE_PASSWORD"], "campus-power-record");
  const out = options.out === "-" ? process.stdout : createWriteStream(options.out, { flags: "a" });
  const recorder = await startRecorder({ mqttUrl: env.mqttUrl, servicePassword: env.servicePassword, ...(options.topics ? { topics: options.topics } : {}), write: (line) => out.write(line) });
  const progress = createProgress({ label: "record" });
  const started = Date.now();
  const ticker = setInterval(() => progress.update(options.durationMs === undefined ? recorder.count : Date.now() - started, options.durationMs ?? null, `${recorder.count} messages`), 250);
  stopOnSignals(() => [{ stop: async () => {
    clearInterval(ticker);
    await recorder.stop();
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
    progress.finish(`${recorder.count} messages recorded`);
  } }], log);
  if (options.durationMs !== undefined) setTimeout(() => process.kill(process.pid, "SIGTERM"), options.durationMs);
}

export interface ReplayOptions {
  campus: Campus;
  mqttUrl: string;
  deviceGroupKey: string;
  file: string;
  /** Original spacing divided by this; 0 = as fast as possible. */
  speed: number;
  loop?: boolean;
  /** Move the payloads' times so the first message is "now" (each round). */
  restamp?: boolean;
  /** Only messages on topics matching one of these MQTT filters. */
  topics?: readonly string[];
  log?: Logger;
  onProgress?: (done: number, total: number, round: number) => void;
  /** Set to stop between messages. */
  shouldStop?: () => boolean;
  /** Publishes awaiting PUBACK at once (default 100). */
  maxInFlight?: number;
}

export interface ReplayTotals {
  published: number;
  /** Messages on a topic of no campus device, or outside --topics. */
  skipped: number;
  /** Lines that are not recorded messages. */
  invalid: number;
  rounds: number;
}

export async function replayFile(options: ReplayOptions): Promise<ReplayTotals> {
  const total = readFileSync(options.file, "utf8").split("\n").filter((l) => l.trim() !== "").length;
  const clients = new Map<string, Promise<MqttClient>>();
  const totals: ReplayTotals = { published: 0, skipped: 0, invalid: 0, rounds: 0 };
  const pending = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 100;
  const clientFor = (device: string) => {
    let client = clients.get(device);
    if (!client) {
      client = connectMqtt({ url: options.mqttUrl, clientId: `replay-${device}`, username: device, password: devicePassword(device, options.deviceGroupKey) });
      clients.set(device, client);
    }
    return client;
  };
  try {
    do {
      totals.rounds++;
      let first: number | null = null;
      const startedAt = Date.now();
      let done = 0;
      const lines = createInterface({ input: createReadStream(options.file), crlfDelay: Infinity });
      for await (const line of lines) {
        if (options.shouldStop?.()) return totals;
        if (line.trim() === "") continue;
        done++;
        options.onProgress?.(done, total, totals.rounds);
        const message = parseRecordedLine(line);
        if ("error" in message) {
          totals.invalid++;
          options.log?.warn({ line: done, reason: message.error }, "replay: not a recorded message; skipped");
          continue;
        }
        first ??= message.t;
        const due = options.speed === 0 ? 0 : startedAt + (message.t - first) / options.speed - Date.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
        const device = deviceForTopic(options.campus, message.topic);
        if (!device || (options.topics && !options.topics.some((f) => topicMatches(f, message.topic)))) {
          totals.skipped++;
          continue;
        }
        let payload = decodePayload(message.payload);
        if (options.restamp) payload = restamp(message.topic, payload, startedAt - first, options.campus.site.timezone);
        const client = await clientFor(device);
        const sent = client.publishAsync(message.topic, payload, { qos: 1, retain: isAvailabilityTopic(message.topic) }).then(
          () => void totals.published++,
          (error: unknown) => options.log?.warn({ device, err: error }, "replay: publish failed"),
        );
        pending.add(sent);
        void sent.finally(() => pending.delete(sent));
        if (pending.size >= maxInFlight) await Promise.race(pending);
      }
      await Promise.all(pending);
    } while (options.loop && !options.shouldStop?.());
    return totals;
  } finally {
    await Promise.all(pending);
    await Promise.all([...clients.values()].map((c) => c.then((client) => client.endAsync(), () => undefined)));
  }
}

export async function runReplay(options: { file: string; speed: number; loop: boolean; restamp: boolean; topics?: string[] }): Promise<void> {
  if (!(options.speed >= 0)) throw new UsageError("--speed must be a number ≥ 0");
  try {
    readFileSync(options.file);
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
  }
  const { env, campus, log } = loadContext(process.env, ["DEVICE_GROUP_KEY"], "campus-power-replay");
  let stopped = false;
  stopOnSignals(() => [{ stop: async () => void (stopped = true) }], log);
  const progress = createProgress({ label: "replay" });
  const totals = await replayFile({
    campus,
    mqttUrl: env.mqttUrl,
    deviceGroupKey: env.deviceGroupKey,
    file: options.file,
    speed: options.speed,
    loop: options.loop,
    restamp: options.restamp,
    ...(options.topics ? { topics: options.topics } : {}),
    log,
    shouldStop: () => stopped,
    onProgress: (done, total, round) => progress.update(done, total, `${done}/${total}${round > 1 ? ` (round ${round})` : ""}`),
  });
  progress.finish(`${totals.published} published, ${totals.skipped} skipped (topic of no campus device or outside --topics), ${totals.invalid} invalid lines`);
  process.kill(process.pid, "SIGTERM");
}
