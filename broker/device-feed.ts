// `up`'s broker hands device messages to the ingest beside it in the same process, instead of delivering them
// over a loopback MQTT connection (docs/benchmarks.md "End to end": the hop cost the broker a delivery and a
// queue entry per reading and the ingest an MQTT parse and a PUBACK, and it stranded packets once the ingest
// fell 65,535 deliveries behind). Same guarantee as before: a device's QoS 1 publish is acknowledged only once
// it is on disk. `accept` runs inside the broker's authorizePublish, before aedes writes the PUBACK: it appends
// the publish to the broker's raw journal (./feed-journal.ts) and returns; the ingest then takes it off the
// device's path, and its journal entry is retired once the ingest's spool holds the reading. (Waiting for
// the ingest's own fsync instead, with no journal, cost 15-20 % of the rate: each device then waited for the
// decoding too.) Everything else the ingest reads (a device's last will, a QoS 0 publish, a service's publish
// on a device topic) reaches it through `routed`, an in-process subscription.
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import type { FeedJournal, JournalEntry } from "./feed-journal.js";

const require = createRequire(import.meta.url);
const { QlobberTrue } = require("qlobber") as { QlobberTrue: new (options: object) => { add(topic: string): void; test(topic: string): boolean } };
const TOPIC_MATCHING = { wildcard_one: "+", wildcard_some: "#", separator: "/" };

/** The ingest's side (ingest/mqtt-source.ts's Receiver). */
export interface FeedReceiver {
  /** The spool is full: nothing more may be acknowledged until it has room. */
  full(): boolean;
  onHeldBack(): void;
  /** Resolves once the message is durable in the ingest (or refused and dead-lettered). */
  handle(topic: string, payload: Buffer): Promise<void>;
}

/** How often a device's publish looks again whether a full spool has room, ms. */
const FULL_POLL_MS = 100;
const MAX_CACHED_TOPICS = 100_000;

export class DeviceFeed {
  private receiver: FeedReceiver | null = null;
  private readonly matcher = new QlobberTrue(TOPIC_MATCHING);
  private readonly wantedByTopic = new Map<string, boolean>();
  /** Payloads taken by `accept`: aedes routes the same Buffer afterwards, and `routed` must not take it twice. */
  private readonly accepted = new WeakSet<Buffer>();
  private markAttached!: () => void;
  /** Resolves when the ingest has attached for the first time. */
  readonly attached = new Promise<void>((resolve) => (this.markAttached = resolve));
  /** Resolves when an ingest attaches next (a new one after every detach). */
  private nextAttach = this.attached;
  private markNextAttach = () => this.markAttached();

  private journal: FeedJournal | null = null;
  /** Journaled while no ingest was attached: handed to the next one, in order. */
  private unhanded: { topic: string; payload: Buffer; entry: JournalEntry }[] = [];

  constructor(private readonly onError: (error: unknown, topic: string) => void) {}

  /**
   * The broker's raw journal (./feed-journal.ts): a device is acknowledged once its publish is there, and the
   * ingest takes it off the device's path; what an earlier start left goes to the ingest first.
   */
  useJournal(journal: FeedJournal): void {
    this.journal = journal;
    this.unhanded.push(...journal.leftOver);
    if (this.receiver) this.handUnhanded();
  }

  /** The ingest: its receiver and the topic filters it reads (what it would subscribe to). */
  attach(receiver: FeedReceiver, filters: readonly string[]): void {
    for (const filter of filters) this.matcher.add(filter);
    this.wantedByTopic.clear();
    this.receiver = receiver;
    this.markNextAttach();
    this.handUnhanded();
  }

  private handUnhanded(): void {
    const items = this.unhanded;
    this.unhanded = [];
    for (const item of items) this.hand(item.topic, item.payload, item.entry);
  }

  /** A journaled publish to the ingest, retired from the journal once the ingest holds it durably. */
  private hand(topic: string, payload: Buffer, entry: JournalEntry): void {
    const receiver = this.receiver;
    if (!receiver) {
      this.unhanded.push({ topic, payload, entry });
      return;
    }
    receiver.handle(topic, payload).then(
      () => this.journal!.retire(entry),
      (error: unknown) => this.onError(error, topic), // stays in the journal: handed again at the next start
    );
  }

  /** Detached (the ingest stopped): device publishes wait again, unacknowledged, for an ingest. */
  detach(): void {
    if (!this.receiver) return;
    this.receiver = null;
    this.nextAttach = new Promise<void>((resolve) => (this.markNextAttach = resolve));
  }

  private wants(topic: string): boolean {
    let wanted = this.wantedByTopic.get(topic);
    if (wanted === undefined) {
      if (this.wantedByTopic.size >= MAX_CACHED_TOPICS) this.wantedByTopic.clear();
      this.wantedByTopic.set(topic, (wanted = this.matcher.test(topic)));
    }
    return wanted;
  }

  /**
   * A device's QoS 1 publish, authorized: resolves once it is durable, in the journal (or, without one, in the
   * ingest); at once when the ingest does not read the topic. Waits while there is no ingest or its spool is full.
   */
  async accept(topic: string, payload: Buffer): Promise<void> {
    let receiver = this.receiver;
    while (!receiver) {
      await this.nextAttach;
      receiver = this.receiver;
    }
    if (!this.wants(topic)) return;
    this.accepted.add(payload);
    if (receiver.full()) {
      receiver.onHeldBack();
      while (receiver.full()) await sleep(FULL_POLL_MS);
    }
    if (!this.journal) return receiver.handle(topic, payload);
    const entry = await this.journal.append(topic, payload);
    this.hand(topic, payload, entry);
  }

  /** Every packet aedes routes (an in-process subscription to `#`): the ingest's topics not taken by `accept`. */
  routed(topic: string, payload: Buffer): void {
    if (this.accepted.has(payload)) {
      this.accepted.delete(payload);
      return;
    }
    const receiver = this.receiver;
    if (!receiver || !this.wants(topic)) return;
    receiver.handle(topic, payload).catch((error: unknown) => this.onError(error, topic));
  }
}
