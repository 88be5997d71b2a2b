// Where an ingest worker's device messages come from with REDIS_URL (CONTRACT §12; docs/ha.md): the partitions
// of the device stream every broker node appends to (infra/device-stream.ts), each read through its consumer
// group INGEST_GROUP by the one worker holding its lease (./partitions.ts), so each device's messages are
// handled by one worker at a time, in stream order: its energy deltas come from consecutive counters and its
// readings reach the internal stream in order. It replaces the MQTT subscription (./mqtt-source.ts), as `up`'s
// in-process feed does; the MQTT connection then only publishes the internal stream and the health.
//
// The guarantee is the single-process one: an entry is acknowledged (XACK) only once the message handler says
// it is durable (its points fsynced in this worker's spool, or the message refused and dead-lettered), so a
// worker killed at any moment leaves its unacknowledged entries pending in the partition's group. Whoever takes
// the partition over first claims ALL its pending entries (XAUTOCLAIM, min-idle 0: their holder lost the lease)
// and handles them in id order, then reads new ones. An entry may be handled twice (a paused holder waking up
// after its lease expired, an XACK lost with Redis): safe, since writes are idempotent (CONTRACT §4) and the
// energy deltas of a reading seen again are the same (./energy.ts).
// A lease lost (renewal refused, or not renewed within the TTL by this process's clock): the partition is
// dropped at once; entries a read brings for it afterwards are not handled (they stay pending for the new
// holder). Giving a partition up (more workers alive): no more reads from it, what was handed is made durable
// and acknowledged, then the lease is deleted so the next worker takes it over at once.
// Redis lost mid-stream: reading stops, nothing is acknowledged (the ids wait here and are acknowledged once
// Redis is back), leases lapse after the TTL and are taken again when Redis answers.
import { performance } from "node:perf_hooks";
import { RateLimiter } from "../domain/rate-limiter.js";
import { INGEST_GROUP, PARTITION_KEYS, type RawEntry, decodeEntry } from "../infra/device-stream.js";
import type { Logger } from "../infra/logger.js";
import { type Redis, connectRedis, untilReady } from "../infra/redis.js";
import { WakeableSleeps, finishesWithin } from "../infra/timeout.js";
import type { StreamMetrics } from "./metrics.js";
import type { Receiver } from "./mqtt-source.js";
import { DEFAULT_PARTITION_LEASE_MS, DEFAULT_RENEW_EVERY_MS, type PartitionLeases, createPartitionLeases, rebalance } from "./partitions.js";
import { StreamAcks } from "./stream-acks.js";
import { claimIdle, ensureGroup, forgetIdleConsumers, trimAcknowledged } from "./stream-group.js";

export interface RedisSourceOptions {
  url: string;
  /** This worker's name: its consumer in every partition's group and the holder named by its leases. */
  consumer: string;
  log: Logger;
  metrics: StreamMetrics;
  /** Entries of a held partition pending this long (a failed spool write, a stray read) are handled again, ms (default 10 s). */
  claimIdleMs?: number;
  /** How often idle entries are claimed, partitions trimmed and gone consumers forgotten, ms (default 2 s). */
  upkeepEveryMs?: number;
  /** A consumer with nothing pending that has not read for this long is deleted from the group, ms (default 1 h). */
  forgetConsumerAfterMs?: number;
  /** Partition lease TTL, ms (default 5 s). */
  leaseMs?: number;
  /** Heartbeat, renewals and rebalancing, ms (default 1 s). */
  renewEveryMs?: number;
  /** Before the entries of a partition just taken are handled (ingest/index.ts: its devices' energy counters forgotten). */
  onTakeOver?(partition: number): Promise<void>;
  /** After a partition given up is acknowledged, before its lease is deleted. */
  beforeRelease?(partition: number): Promise<void>;
}

/** Entries per read, over all partitions read: ~500 readings fill one spool record and one fsync. */
const READ_COUNT = 500;
/** A read waits at most this long for new entries, so a stop or a new partition does not wait longer, ms. */
const BLOCK_MS = 1_000;
/** How often a full spool, or a worker holding nothing, looks again, ms. */
const IDLE_POLL_MS = 100;
/** Read batches being made durable at once (a read does not wait for the previous batch's fsync). */
const MAX_BATCHES_IN_FLIGHT = 4;
/** Of the stop budget, what the sink's close keeps for itself, ms. */
const SINK_CLOSE_RESERVE_MS = 2_500;

type Phase = "claiming" | "reading" | "releasing";
interface Held {
  phase: Phase;
  /** Monotonic ms until which the lease is surely ours (last renewal's send time + TTL). */
  validUntil: number;
}

export class RedisSource {
  /** Only for the blocking XREADGROUP: a blocked connection cannot send anything else. */
  private readonly reader: Redis;
  private readonly commands: Redis;
  private readonly leases: PartitionLeases;
  private readonly leaseMs: number;
  private readonly sleeps = new WakeableSleeps();
  private readonly errorLog = new RateLimiter(60_000);
  private readonly partitions = new Map<number, Held>();
  private stopping = false;
  private reading: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private lastUpkeep = 0;
  /** Partitions of the XREADGROUP on its way: one given up waits for it. */
  private readingNow = new Set<number>();
  private readonly batches = new Set<Promise<void>>();
  /** What is held per partition, and the acknowledgements (./stream-acks.ts). */
  private readonly acks: StreamAcks;

  constructor(private readonly options: RedisSourceOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_PARTITION_LEASE_MS;
    this.reader = connectRedis(options.url, { name: `ingest-read-${options.consumer}`, log: options.log });
    this.commands = connectRedis(options.url, { name: `ingest-${options.consumer}`, log: options.log });
    this.leases = createPartitionLeases(this.commands, options.consumer, this.leaseMs);
    this.acks = new StreamAcks(this.commands, (count) => options.metrics.acknowledged.inc(count));
    // Redis is back: what was made durable meanwhile is acknowledged now rather than at the next beat.
    this.commands.on("ready", () => void this.acks.flush());
  }

  /** Waits for Redis (saying so every 5 s: a worker never runs without it) and for every partition's group. */
  async ready(): Promise<void> {
    for (;;) {
      await untilReady(this.commands, this.options.url, this.options.log);
      await untilReady(this.reader, this.options.url, this.options.log);
      try {
        for (const key of PARTITION_KEYS) await ensureGroup(this.commands, key);
        return;
      } catch (error) {
        this.logError(error, "cannot create the ingest groups on the device stream; trying again");
        await this.sleeps.sleep(250);
      }
    }
  }

  /** Partitions this worker holds now (tests, /metrics). */
  get heldPartitions(): number[] {
    return [...this.partitions.keys()].filter((k) => this.holds(k)).sort((a, b) => a - b);
  }

  /** Starts (after `ready`): leases taken on the first beat, then each partition's pending entries, then new ones. */
  start(receiver: Receiver): void {
    this.reading = this.readLoop(receiver);
    const beat = () => (this.ticking ??= this.beat(receiver).finally(() => (this.ticking = null)));
    void beat();
    this.timer = setInterval(beat, this.options.renewEveryMs ?? DEFAULT_RENEW_EVERY_MS);
    this.timer.unref();
  }

  private holds(partition: number): boolean {
    const held = this.partitions.get(partition);
    return held !== undefined && performance.now() < held.validUntil;
  }

  private lose(partition: number, reason: string): void {
    if (!this.partitions.delete(partition)) return;
    this.options.metrics.leasesLost.inc();
    this.options.metrics.partitionsHeld.set(this.partitions.size);
    this.options.log.warn({ partition, reason }, "lost the lease of a device stream partition; no longer handling it");
  }

  /** One beat: heartbeat, renewals, takeovers (claiming first), hand-overs, acknowledgements, upkeep. */
  private async beat(receiver: Receiver): Promise<void> {
    for (const k of this.partitions.keys()) if (!this.holds(k)) this.lose(k, "not renewed within the lease time");
    if (this.stopping || this.commands.status !== "ready") return;
    try {
      const live = await this.leases.heartbeat();
      const sentAt = performance.now();
      const mine = [...this.partitions.keys()];
      const notOurs = new Set(await this.leases.renew(mine));
      for (const k of mine) {
        if (notOurs.has(k)) this.lose(k, "the lease is not ours any more");
        else if (this.partitions.has(k)) this.partitions.get(k)!.validUntil = sentAt + this.leaseMs;
      }
      await this.acks.flush();
      const kept = [...this.partitions].filter(([, h]) => h.phase !== "releasing").map(([k]) => k);
      const { take, give } = rebalance(kept, await this.leases.free(new Set(this.partitions.keys())), live);
      for (const k of give) this.partitions.get(k)!.phase = "releasing";
      for (const k of take) {
        if (this.stopping || receiver.full()) break;
        const takenAt = performance.now();
        if (!(await this.leases.acquire(k))) continue;
        this.partitions.set(k, { phase: "claiming", validUntil: takenAt + this.leaseMs });
        this.options.metrics.takeovers.inc();
        this.options.metrics.partitionsHeld.set(this.partitions.size);
      }
      for (const [k, h] of this.partitions) if (h.phase === "claiming" && !this.stopping) await this.takeOver(receiver, k);
      for (const [k, h] of this.partitions) if (h.phase === "releasing") await this.giveUpWhenDone(k);
      if (Date.now() - this.lastUpkeep >= (this.options.upkeepEveryMs ?? 2_000)) await this.upkeep(receiver);
    } catch (error) {
      if (this.commands.status === "ready") this.logError(error, "device stream partition beat failed; trying again");
    }
  }

  /** A partition just taken (or read again after a lost connection): every pending entry of any consumer, in id order. */
  private async takeOver(receiver: Receiver, partition: number): Promise<void> {
    await this.options.onTakeOver?.(partition);
    let claimed = 0;
    for (let cursor = "0-0"; ; ) {
      if (!this.holds(partition)) return;
      const { entries, next } = await claimIdle(this.commands, PARTITION_KEYS[partition]!, this.options.consumer, 0, cursor, READ_COUNT);
      claimed += this.handleBatch(receiver, partition, entries);
      if (next === "0-0") break;
      cursor = next;
    }
    if (!this.holds(partition)) return;
    this.partitions.get(partition)!.phase = "reading";
    this.options.metrics.claimed.inc(claimed);
    this.options.log.info({ partition, claimed }, "took over a device stream partition");
    this.sleeps.wakeAll();
  }

  /** Releases a partition being given up once nothing read from it waits for its acknowledgement. */
  private async giveUpWhenDone(partition: number): Promise<void> {
    if (this.readingNow.has(partition) || !this.acks.idle(partition)) return;
    await this.options.beforeRelease?.(partition);
    this.partitions.delete(partition);
    await this.leases.release(partition);
    this.options.metrics.released.inc();
    this.options.metrics.partitionsHeld.set(this.partitions.size);
    this.options.log.info({ partition }, "gave a device stream partition up to another worker");
  }

  private async readLoop(receiver: Receiver): Promise<void> {
    let paused = false;
    while (!this.stopping) {
      if (receiver.full()) {
        if (!paused) {
          paused = true;
          this.options.metrics.pausedForRoom.inc();
          this.options.log.warn("spool full: reading the device stream paused (the stream keeps the messages)");
        }
        await this.sleeps.sleep(IDLE_POLL_MS);
        continue;
      }
      if (paused) this.options.log.info("spool has room again: reading the device stream");
      paused = false;
      if (this.batches.size >= MAX_BATCHES_IN_FLIGHT) {
        await Promise.race(this.batches);
        continue;
      }
      const partitions = [...this.partitions].filter(([k, h]) => h.phase === "reading" && this.holds(k)).map(([k]) => k);
      if (partitions.length === 0) {
        await this.sleeps.sleep(IDLE_POLL_MS);
        continue;
      }
      this.readingNow = new Set(partitions);
      let replies: [Buffer, RawEntry[]][];
      try {
        replies = await this.read(partitions);
      } catch (error) {
        this.readingNow = new Set();
        if (this.stopping) break;
        await this.recover(error, partitions);
        continue;
      }
      this.readingNow = new Set();
      let handed = 0;
      for (const [key, entries] of replies) {
        const partition = PARTITION_KEYS.indexOf(key.toString());
        // A lease lost while the read was on its way: left pending for the new holder, who claims it.
        if (partition >= 0 && this.holds(partition)) handed += this.handleBatch(receiver, partition, entries);
      }
      this.options.metrics.read.inc(handed);
    }
  }

  private async read(partitions: readonly number[]): Promise<[Buffer, RawEntry[]][]> {
    // Buffer replies: a payload stays the bytes the device sent. COUNT is per stream.
    const count = Math.max(50, Math.ceil(READ_COUNT / partitions.length));
    const keys = partitions.map((k) => PARTITION_KEYS[k]!);
    const reply = (await this.reader.callBuffer("XREADGROUP", "GROUP", INGEST_GROUP, this.options.consumer, "COUNT", count, "BLOCK", BLOCK_MS, "STREAMS", ...keys, ...keys.map(() => ">"))) as [Buffer, RawEntry[]][] | null;
    return reply ?? [];
  }

  /** After a failed read: groups made again if gone, the partitions claimed again (a lost reply's entries are pending for us). */
  private async recover(error: unknown, partitions: readonly number[]): Promise<void> {
    for (const k of partitions) {
      const held = this.partitions.get(k);
      if (held?.phase === "reading") held.phase = "claiming";
    }
    if (error instanceof Error && error.message.startsWith("NOGROUP")) {
      // A stream or group was deleted (a Redis that lost its data, a key removed by hand): made again from 0.
      this.options.log.warn("an ingest group on the device stream is missing; creating it again");
      for (const k of partitions) await ensureGroup(this.commands, PARTITION_KEYS[k]!).catch((e: unknown) => this.logError(e, "cannot create the ingest group"));
      return;
    }
    if (this.reader.status === "ready") {
      this.logError(error, "cannot read the device stream; trying again");
      await this.sleeps.sleep(1_000);
    }
    while (!this.stopping && this.reader.status !== "ready") await this.sleeps.sleep(100);
  }

  /**
   * Hands one partition's entries to the receiver in stream order (its synchronous part decodes and publishes
   * them at once) and acknowledges them all once each is durable. Returns how many were handed (not already held).
   */
  private handleBatch(receiver: Receiver, partition: number, entries: readonly RawEntry[]): number {
    const held = this.acks.held[partition]!;
    const done: Promise<string | null>[] = [];
    for (const entry of entries) {
      const id = entry[0].toString();
      if (held.has(id)) continue;
      held.add(id);
      // Fields are null for an entry deleted while pending (never done here: trimming keeps pending entries).
      const message = entry[1] ? decodeEntry(entry) : null;
      if (message === null) {
        this.options.metrics.malformed.inc();
        if (this.errorLog.check("malformed", Date.now()).log) this.options.log.warn({ id, partition }, "device stream entry without topic or payload; acknowledged and skipped");
        done.push(Promise.resolve(id));
        continue;
      }
      let durable: Promise<void>;
      try {
        durable = receiver.handle(message.topic, message.payload);
      } catch (error) {
        durable = Promise.reject(error);
      }
      done.push(
        durable.then(
          () => id,
          (error: unknown) => {
            // Not acknowledged: it stays pending and is handled again after claimIdleMs.
            held.delete(id);
            this.logError(error, "cannot write the spool; the device stream entry stays unacknowledged");
            return null;
          },
        ),
      );
    }
    if (done.length === 0) return 0;
    const batch = Promise.all(done).then((ids) => {
      this.acks.durable(partition, ids.filter((id): id is string => id !== null));
    });
    this.batches.add(batch);
    void batch.finally(() => this.batches.delete(batch));
    return done.length;
  }

  /** Per held partition: its own entries idle too long handled again, the trim, gone consumers forgotten. */
  private async upkeep(receiver: Receiver): Promise<void> {
    this.lastUpkeep = Date.now();
    const { consumer, log, metrics } = this.options;
    for (const [k, h] of [...this.partitions]) {
      if (this.stopping || h.phase !== "reading" || !this.holds(k)) continue;
      const key = PARTITION_KEYS[k]!;
      if (!receiver.full()) {
        const { entries } = await claimIdle(this.commands, key, consumer, this.options.claimIdleMs ?? 10_000, "0-0", READ_COUNT);
        const handed = this.holds(k) ? this.handleBatch(receiver, k, entries) : 0;
        if (handed > 0) {
          metrics.claimed.inc(handed);
          log.warn({ entries: handed, partition: k }, "handling device stream entries again that stayed unacknowledged too long");
        }
      }
      const trim = await trimAcknowledged(this.commands, key);
      if (trim) {
        metrics.trimmed.inc(trim.trimmed);
        metrics.pending.set({ partition: String(k) }, trim.pending);
      }
      const forgotten = await forgetIdleConsumers(this.commands, key, consumer, this.options.forgetConsumerAfterMs ?? 3_600_000);
      if (forgotten.length > 0) log.info({ consumers: forgotten, partition: k }, "removed ingest workers gone for good (nothing pending) from the group");
    }
  }

  /**
   * Stops reading (the read in flight returns within BLOCK_MS and its entries are handled), waits for the
   * entries in flight to be durable, acknowledges them, gives every lease up (the other workers take over at
   * once) and closes both connections, by `deadline` less what the spool's close needs. What is not
   * acknowledged by then stays pending for whoever takes the partition next.
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.sleeps.wakeAll();
    const until = Math.max(Date.now(), deadline - SINK_CLOSE_RESERVE_MS);
    await finishesWithin(this.reading, until - Date.now());
    await finishesWithin(this.ticking ?? Promise.resolve(), until - Date.now());
    await finishesWithin(Promise.all(this.batches), until - Date.now());
    // Twice: ids queued while an XACK was on its way are sent by the next round.
    await finishesWithin(this.acks.flush().then(() => this.acks.flush()), until - Date.now());
    const giveUp = async () => {
      for (const k of this.partitions.keys()) await this.leases.release(k);
      await this.leases.leave();
    };
    await finishesWithin(giveUp().catch(() => undefined), until - Date.now());
    this.partitions.clear();
    this.reader.disconnect();
    this.commands.disconnect();
    const unacknowledged = this.acks.waitingCount;
    this.options.log.info({ unacknowledged, batchesNotDurable: this.batches.size }, "device stream reading stopped");
  }

  private logError(error: unknown, message: string): void {
    const decision = this.errorLog.check(message, Date.now());
    if (decision.log) this.options.log.error({ err: error, suppressed: decision.suppressed }, message);
  }
}
