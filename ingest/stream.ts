// The normalised stream on MQTT (docs/architecture.md "Topics between services"), as the ingest publishes it:
//   readings  batched on `campus/internal/readings-batch/{client id}` (a JSON array, QoS 1, not retained),
//             flushed `flushMs` after the first reading of a batch or at `maxReadings` / `maxBytes`;
//             and, for late subscribers, a device's latest reading retained on `campus/internal/readings/{device}`
//             (QoS 0), at most once per `latestEveryMs` per device published after the batch that carried it
//             (consumers apply it only as a retained starting state: domain/internal-stream.ts).
//   statuses, events  one message each, QoS 1, at once — after flushing the readings before them, so a
//             consumer sees every device's messages in the order the ingest received them.
//   relay reports  (`campus/internal/relay/{device}`, CONTRACT §10) the same, QoS 1, not retained — except a
//             periodic report that repeats the state last published for its device: such repeats wait (the
//             newest per device) for the sweep, which publishes them after the batch, at most one per device
//             per `relayRepeatMs`. Native, Shelly and Zigbee2MQTT devices report their relay in (nearly) every
//             reading; a message per reading, each flushing the batch before it, would undo the batching
//             (1,000 devices at 5,000 readings/s for 60 s: 300,000 relay and 300,000 batch messages; with the
//             sweep 13,000 and 3,990, against 3,000 batches without relay reports: stream.test.ts). A change
//             of state, and every answer to a command, is never held back; a repeat reaches the executor
//             within ~6 s, which confirms a command for a relay already in the commanded state
//             (COMMAND_TIMEOUT_S: 15 s).
// Before batching every reading was its own QoS 1 retained publish: the broker carried each reading twice
// and the ingest's unacknowledged publishes outgrew mqtt.js's 65,535 message ids (docs/benchmarks.md).
import type { RelayReport } from "../domain/command.js";
import { internalTopic } from "../domain/topics.js";
import type { Publication } from "./process-message.js";

export interface StreamOptions {
  /** The ingest's MQTT client id: names its batch topic. */
  source: string;
  /** Longest a reading waits in a batch, ms (default 20). */
  flushMs?: number;
  maxReadings?: number;
  maxBytes?: number;
  /** Least time between two retained latest readings of one device, ms (default 5 s). */
  latestEveryMs?: number;
  /** How often the due latest readings and relay repeats are published, ms (default 1 s). */
  sweepMs?: number;
  /** Least time between two periodic relay reports of one device that repeat the same state, ms (default 5 s). */
  relayRepeatMs?: number;
  now?: () => number;
}

export type StreamPublish = (topic: string, payload: string, qos: 0 | 1, retain: boolean) => void;

export const STREAM_DEFAULTS = { flushMs: 20, maxReadings: 1_000, maxBytes: 256 * 1024, latestEveryMs: 5_000, sweepMs: 1_000, relayRepeatMs: 5_000 } as const;
const READING_PREFIX = internalTopic.reading("");

export class InternalStream {
  private batch: string[] = [];
  private bytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly sweepTimer: NodeJS.Timeout;
  /** Per device: its newest reading not yet republished retained (arrival order), and when it last was. */
  private readonly pendingLatest = new Map<string, string>();
  private readonly latestAt = new Map<string, number>();
  /** Per device: the relay state last published (and when), and a periodic repeat of it waiting for its window. */
  private readonly relayPublished = new Map<string, { on: boolean; at: number }>();
  private readonly pendingRelay = new Map<string, { message: Publication; report: RelayReport }>();
  private readonly options: Required<Omit<StreamOptions, "source" | "now">>;
  private readonly batchTopic: string;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly publish: StreamPublish,
    options: StreamOptions,
  ) {
    this.options = { ...STREAM_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof this.options;
    this.batchTopic = internalTopic.readingBatch(options.source);
    this.now = options.now ?? Date.now;
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepMs);
    this.sweepTimer.unref();
  }

  /** One publication of processMessage(): readings are batched, relay repeats may wait, anything else goes out at once. */
  push(message: Publication): void {
    if (this.closed) return;
    if (message.topic.startsWith(READING_PREFIX)) {
      this.reading(message.topic.slice(READING_PREFIX.length), message.payload);
      return;
    }
    if (message.relay !== undefined) {
      this.relay(message, message.relay);
      return;
    }
    this.flush();
    this.publish(message.topic, message.payload, 1, message.retain);
  }

  private relay(message: Publication, report: RelayReport): void {
    const repeat = !report.explicit && this.relayPublished.get(report.device)?.on === report.on;
    if (repeat) {
      this.pendingRelay.set(report.device, { message, report });
      return;
    }
    this.pendingRelay.delete(report.device); // a newer report of the device goes out now
    this.publishRelay(message, report);
  }

  private publishRelay(message: Publication, report: RelayReport): void {
    this.flush();
    this.publish(message.topic, message.payload, 1, false);
    // An answer without a state (an RPC reply, a native switch event) leaves the known state as it was.
    if (report.on !== null) this.relayPublished.set(report.device, { on: report.on, at: this.now() });
  }

  private reading(device: string, payload: string): void {
    this.batch.push(payload);
    this.bytes += payload.length + 1;
    this.pendingLatest.set(device, payload);
    if (this.batch.length >= this.options.maxReadings || this.bytes >= this.options.maxBytes) this.flush();
    else if (this.flushTimer === null) this.flushTimer = setTimeout(() => this.flush(), this.options.flushMs);
  }

  /** Publishes the readings waiting in the batch, if any. */
  flush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.batch.length === 0) return;
    const payload = `[${this.batch.join(",")}]`;
    this.batch = [];
    this.bytes = 0;
    this.publish(this.batchTopic, payload, 1, false);
  }

  /**
   * Republishes the latest reading of every device whose throttle window has passed, and the relay repeats
   * whose window has passed (`all`: every one).
   */
  sweep(all = false): void {
    this.sweepRelays(all);
    if (this.pendingLatest.size === 0) return;
    this.flush(); // a latest reading is published after the batch that carried it
    const now = this.now();
    for (const [device, payload] of this.pendingLatest) {
      if (!all && now - (this.latestAt.get(device) ?? -Infinity) < this.options.latestEveryMs) continue;
      this.pendingLatest.delete(device);
      this.latestAt.set(device, now);
      this.publish(READING_PREFIX + device, payload, 0, true);
    }
  }

  private sweepRelays(all: boolean): void {
    const now = this.now();
    for (const [device, { message, report }] of this.pendingRelay) {
      if (!all && now - (this.relayPublished.get(device)?.at ?? -Infinity) < this.options.relayRepeatMs) continue;
      this.pendingRelay.delete(device);
      this.publishRelay(message, report);
    }
  }

  /** Flushes everything (the batch, every pending latest reading and relay repeat) and stops the timers. */
  close(): void {
    if (this.closed) return;
    this.sweep(true);
    this.flush();
    clearInterval(this.sweepTimer);
    this.closed = true;
  }
}
