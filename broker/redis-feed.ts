// A broker node's hand-over of device messages to the ingest workers with REDIS_URL (CONTRACT §12): the Redis
// Stream of infra/device-stream.ts, in place of the single-process path (broker journal → the ingest's MQTT
// session). aedes 1.x has no shared subscriptions (moscajs/aedes #228), so ingest workers cannot split an MQTT
// subscription; they read the stream through one consumer group instead.
// - A device's (or bridge's) QoS 1 publish: `accept` runs inside authorizePublish, and aedes 1.2.0 writes the
//   PUBACK right after that hook (lib/handlers/publish.js, enqueuePublish case 1), so the device is
//   acknowledged only once XADD has answered, i.e. once Redis holds the message. When Redis cannot take it,
//   the hook fails, aedes closes the device's connection, and the device resends it later: nothing is ever
//   acknowledged into this process's memory.
// - Everything else the ingest reads and that was published ON THIS NODE (a device's QoS 0 publish, a will, a
//   service's publish on a device topic) comes through aedes' `publish` event, which fires only on the node
//   where the message was published (aedes.js callPublished), so each is appended once in the cluster; these
//   appends are fire and forget, their failures counted.
// Only topics the ingest reads (its subscription filters) are appended, as the in-process feed of `up` does
// (./device-feed.ts): a device's other topics (command replies) still reach their MQTT subscribers.
// Partition: every message is appended to the partition of the device its TOPIC belongs to
// (domain/device-of-topic.ts), whoever published it: one rule for a device's own publishes, its will, and a
// service publishing on its behalf, so all of one device's messages land in one partition. For a device's own
// publish this is its authenticated id anyway: the ACL lets a device publish only to its own topics (CONTRACT §3).
// A topic no campus device speaks is appended under the topic itself (the ingest refuses it wherever it lands).
import { createRequire } from "node:module";
import type { Campus } from "../domain/campus.js";
import { deviceOfTopicIn } from "../domain/device-of-topic.js";
import { appendDeviceMessage } from "../infra/device-stream.js";
import type { Logger } from "../infra/logger.js";
import type { Redis } from "../infra/redis.js";
import type { BrokerMetrics } from "./metrics.js";

const require = createRequire(import.meta.url);
const { QlobberTrue } = require("qlobber") as { QlobberTrue: new (options: object) => { add(topic: string): void; test(topic: string): boolean } };
const TOPIC_MATCHING = { wildcard_one: "+", wildcard_some: "#", separator: "/" };
const MAX_CACHED_TOPICS = 100_000;

export type AppendKind = "device_qos1" | "device_qos0" | "will" | "service";

interface Publish {
  topic: string;
  payload: Buffer | string;
}

export interface RedisFeed {
  /** Whether the ingest reads this topic (matches one of its filters). */
  wants(topic: string): boolean;
  /**
   * A device's QoS 1 publish the ACL allowed: resolves once Redis holds it (at once when the ingest does not
   * read the topic), rejects when Redis cannot take it.
   */
  accept(packet: Publish): Promise<void>;
  /** aedes' `publish` event on this node: appends what the ingest reads and `accept` did not take. */
  published(packet: Publish, kind: Exclude<AppendKind, "device_qos1">): void;
}

/**
 * Which append aedes' `publish` event is, from the publisher's account (null: the broker itself, publishing the
 * will of a client whose node died) and the packet: a will has no `cmd` (mqtt-packet's CONNECT will), a
 * device's QoS 1 PUBLISH never gets here (`accept` took it, or the ingest does not read its topic).
 */
export function appendKindOf(account: string | null, packet: { cmd?: string }): Exclude<AppendKind, "device_qos1"> {
  if (account === null) return "will";
  if (account === "service") return "service";
  return packet.cmd === "publish" ? "device_qos0" : "will";
}

/** Says once when appends start failing and once when they work again, never once per message. */
export function failureEpisodes(log: Logger): { failed(error: Error, kind: AppendKind): void; succeeded(): void } {
  let failing = false;
  return {
    failed(error, kind) {
      if (failing) return;
      failing = true;
      log.error({ err: error.message, kind }, "cannot append device messages to the Redis Stream; devices are not acknowledged and will resend");
    },
    succeeded() {
      if (!failing) return;
      failing = false;
      log.info("appending device messages to the Redis Stream again");
    },
  };
}

/**
 * `campus` maps foreign topics (`tele/{source}/…`) to their device; without it (a caller not yet passing it)
 * only native topics are mapped and a foreign topic is partitioned by its own text, which still keeps each
 * topic in order but may split a foreign device's topics over two partitions.
 */
export function createRedisFeed(redis: Redis, filters: readonly string[], log: Logger, metrics: BrokerMetrics, campus?: Pick<Campus, "devices">): RedisFeed {
  const deviceOf = deviceOfTopicIn(campus ?? { devices: [] });
  const matcher = new QlobberTrue(TOPIC_MATCHING);
  for (const filter of filters) matcher.add(filter);
  const wantedByTopic = new Map<string, boolean>();
  // Packets appended by `accept`: aedes later emits `publish` for the very same object, which must not be
  // appended a second time (./device-feed.ts does the same with the payload).
  const accepted = new WeakSet<Publish>();
  const episodes = failureEpisodes(log);
  for (const kind of ["device_qos1", "device_qos0", "will", "service"] as const) {
    metrics.streamAppends.inc({ kind }, 0);
    metrics.streamAppendFailures.inc({ kind }, 0);
  }

  const wants = (topic: string) => {
    let wanted = wantedByTopic.get(topic);
    if (wanted === undefined) {
      if (wantedByTopic.size >= MAX_CACHED_TOPICS) wantedByTopic.clear();
      wantedByTopic.set(topic, (wanted = matcher.test(topic)));
    }
    return wanted;
  };
  const append = async (packet: Publish, kind: AppendKind) => {
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    try {
      await appendDeviceMessage(redis, deviceOf(packet.topic) ?? packet.topic, packet.topic, payload);
    } catch (error) {
      metrics.streamAppendFailures.inc({ kind });
      episodes.failed(error as Error, kind);
      throw error;
    }
    metrics.streamAppends.inc({ kind });
    episodes.succeeded();
  };

  return {
    wants,
    async accept(packet) {
      if (!wants(packet.topic)) return;
      await append(packet, "device_qos1");
      accepted.add(packet);
    },
    published(packet, kind) {
      if (accepted.has(packet)) {
        accepted.delete(packet);
        return;
      }
      if (!wants(packet.topic)) return;
      append(packet, kind).catch(() => undefined); // counted and logged in append
    },
  };
}
