// The simulated fleet's publish queue: what each device has generated and not yet handed to the broker.
// Two bounds keep a slow or absent broker from costing unbounded memory or a flood of retries:
// - one QoS 1 publish in flight per device and at most `maxInFlight` over the fleet (mqtt.js collapses
//   under a tight loop of unbounded publishes, reference/libraries.md §2);
// - at most `maxQueuedPerDevice` messages waiting per device: a device that cannot publish keeps its
//   latest ones and drops (and counts) the oldest, as a real device with a small buffer does.
// No MQTT in here: each lane publishes through the `Publisher` it is given (device-connection.ts).
import type { OutMessage } from "./messages.js";

/** Where a lane's messages go: one device's connection. */
export interface Publisher {
  /** Whether a publish can start now (the link is up). */
  readonly connected: boolean;
  /** Resolves once the broker acknowledged the message (PUBACK), rejects when it failed. */
  publish(message: OutMessage): Promise<unknown>;
}

/** What the queue counts as it happens (prom-client counters fit). */
export interface QueueCounters {
  published: { inc(): void };
  failures: { inc(): void };
  dropped: { inc(): void };
}

export interface PublishQueueOptions {
  /** QoS 1 publishes awaiting PUBACK across all lanes. */
  maxInFlight: number;
  /** Messages kept per lane that cannot publish; older ones are dropped. */
  maxQueuedPerDevice: number;
  counters: QueueCounters;
  /** Called after every publish settles (acknowledged or failed). */
  onSettled?: () => void;
  onPublishError?: (error: unknown) => void;
}

/** One device's place in the queue. */
export interface Lane {
  /** Messages waiting for this device's publish slot. */
  readonly length: number;
  /** Adds a report's messages, dropping the oldest beyond the per-device bound, and publishes if it can. */
  enqueue(messages: readonly OutMessage[]): void;
  /** Publishes the next waiting message if the slot, the link and the fleet's bound allow (call when the link is back). */
  resume(): void;
  /**
   * The link died: a publish in flight may never settle (mqtt.js keeps it for a resend), so it is counted
   * failed and its slot freed, and the device goes on with its next report once it is back.
   */
  abandonInFlight(): void;
  /** Forgets everything waiting (the device lost power: what it buffered is gone). */
  clear(): void;
}

export interface QueueTotals {
  published: number;
  dropped: number;
  failures: number;
  /** Messages waiting, all lanes. */
  queued: number;
  /** The longest lane right now (never above `maxQueuedPerDevice`). */
  longestQueue: number;
  /** Publishes awaiting PUBACK right now (never above `maxInFlight`; at most one per lane). */
  inFlight: number;
}

export interface PublishQueue {
  lane(publisher: Publisher): Lane;
  readonly queued: number;
  readonly inFlight: number;
  totals(): QueueTotals;
  /** Resolves once no publish is in flight (at once when none is). */
  drained(): Promise<void>;
  /** No publish starts after this; those in flight still settle. */
  close(): void;
}

interface LaneState {
  publisher: Publisher;
  waiting: OutMessage[];
  /** Token of the publish in flight, null when none: a late settlement of an abandoned publish is ignored. */
  inFlightToken: number | null;
}

export function createPublishQueue(options: PublishQueueOptions): PublishQueue {
  const { counters, maxInFlight } = options;
  const lanes: LaneState[] = [];
  /** Lanes with a message ready but held back by the fleet's in-flight bound, in arrival order. */
  const held = new Set<LaneState>();
  const counts = { published: 0, dropped: 0, failures: 0 };
  let queued = 0;
  let inFlight = 0;
  let nextToken = 0;
  let closed = false;
  const drainWaiters: (() => void)[] = [];

  const pump = (lane: LaneState): void => {
    if (closed || lane.inFlightToken !== null || !lane.publisher.connected || lane.waiting.length === 0) return;
    if (inFlight >= maxInFlight) {
      held.add(lane);
      return;
    }
    const message = lane.waiting.shift()!;
    queued--;
    inFlight++;
    const token = ++nextToken;
    lane.inFlightToken = token;
    lane.publisher.publish(message).then(
      () => settle(lane, token, true),
      (error: unknown) => {
        options.onPublishError?.(error);
        settle(lane, token, false);
      },
    );
  };

  /** Frees a lane's slot once, whether its PUBACK came or its connection died first. */
  const settle = (lane: LaneState, token: number, ok: boolean): void => {
    if (lane.inFlightToken !== token) return;
    lane.inFlightToken = null;
    inFlight--;
    if (ok) (counters.published.inc(), counts.published++);
    else (counters.failures.inc(), counts.failures++);
    pump(lane);
    for (const next of held) {
      if (inFlight >= maxInFlight) break;
      held.delete(next);
      pump(next);
    }
    if (inFlight === 0) for (const wake of drainWaiters.splice(0)) wake();
    options.onSettled?.();
  };

  return {
    lane(publisher) {
      const state: LaneState = { publisher, waiting: [], inFlightToken: null };
      lanes.push(state);
      return {
        get length() {
          return state.waiting.length;
        },
        enqueue(messages) {
          state.waiting.push(...messages);
          queued += messages.length;
          while (state.waiting.length > options.maxQueuedPerDevice) {
            state.waiting.shift();
            queued--;
            counters.dropped.inc();
            counts.dropped++;
          }
          pump(state);
        },
        resume: () => pump(state),
        abandonInFlight() {
          if (state.inFlightToken !== null) settle(state, state.inFlightToken, false);
        },
        clear() {
          queued -= state.waiting.length;
          state.waiting.length = 0;
        },
      };
    },
    get queued() {
      return queued;
    },
    get inFlight() {
      return inFlight;
    },
    totals: () => ({ ...counts, queued, inFlight, longestQueue: Math.max(0, ...lanes.map((l) => l.waiting.length)) }),
    drained: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => drainWaiters.push(resolve))),
    close() {
      closed = true;
      held.clear();
    },
  };
}
