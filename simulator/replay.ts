// `replay` (CONTRACT §7): a recording's messages published again with the recorded spacing divided by
// the speed, as the devices themselves (their own credentials), so the broker's authentication and ACLs
// see exactly what real traffic would give them.
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import type { Campus } from "../domain/campus.js";
import { devicePassword } from "../domain/credentials.js";
import type { Logger } from "../infra/logger.js";
import { connectMqtt, type MqttClient } from "../infra/mqtt.js";
import { decodePayload, deviceForTopic, isAvailabilityTopic, parseRecordedLine, restamp, topicMatches } from "./recording.js";

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
  /** Messages on a topic of no campus device, or outside `topics`. */
  skipped: number;
  /** Lines that are not recorded messages. */
  invalid: number;
  rounds: number;
}

/** Replays the file (round after round with `loop`) and resolves with what it did once done or stopped. */
export async function replayFile(options: ReplayOptions): Promise<ReplayTotals> {
  const total = readFileSync(options.file, "utf8").split("\n").filter((l) => l.trim() !== "").length;
  const clients = new Map<string, Promise<MqttClient>>();
  const totals: ReplayTotals = { published: 0, skipped: 0, invalid: 0, rounds: 0 };
  const pending = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 100;
  const clientFor = (device: string) => {
    let client = clients.get(device);
    if (!client) {
      // Given several brokers, the k-th device met starts on broker k mod n (CONTRACT §12), as the simulator's do.
      client = connectMqtt({ url: options.mqttUrl, firstBroker: clients.size, clientId: `replay-${device}`, username: device, password: devicePassword(device, options.deviceGroupKey) });
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
        const dueInMs = options.speed === 0 ? 0 : startedAt + (message.t - first) / options.speed - Date.now();
        if (dueInMs > 0) await sleep(dueInMs);
        const device = deviceForTopic(options.campus, message.topic);
        if (!device || (options.topics && !options.topics.some((f) => topicMatches(f, message.topic)))) {
          totals.skipped++;
          continue;
        }
        let payload = decodePayload(message.payload);
        // A zone-less Tasmota `Time` is the device's own school's local time (CONTRACT §9: a site each).
        if (options.restamp) payload = restamp(message.topic, payload, startedAt - first, options.campus.siteOfDevice.get(device)!.site.timezone);
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
