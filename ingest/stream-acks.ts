// The device stream entries an ingest worker holds, per partition, and their acknowledgements (./redis-source.ts).
// An entry is held from the moment it is handed to the message handler until Redis has its XACK, so a read or a
// claim that brings it again meanwhile does not hand it twice. A durable entry waits here for its XACK, which goes
// out in groups (one XACK per partition, up to MAX_ACK_IDS ids); while Redis is away the ids wait for its return.
import { PARTITION_KEYS, PARTITIONS, INGEST_GROUP } from "../infra/device-stream.js";
import type { Redis } from "../infra/redis.js";

/** Ids per XACK. */
const MAX_ACK_IDS = 2_000;

export class StreamAcks {
  /** Per partition: handed to the handler and not yet acknowledged. */
  readonly held = Array.from({ length: PARTITIONS }, () => new Set<string>());
  private readonly waiting = Array.from({ length: PARTITIONS }, (): string[] => []);
  private flushing: Promise<void> | null = null;

  constructor(private readonly redis: Redis, private readonly onAcknowledged: (count: number) => void) {}

  /** These entries are durable: acknowledged as soon as Redis answers. */
  durable(partition: number, ids: readonly string[]): void {
    this.waiting[partition]!.push(...ids);
    void this.flush();
  }

  /** Nothing of the partition is held or waiting for its XACK. */
  idle(partition: number): boolean {
    return this.held[partition]!.size === 0 && this.waiting[partition]!.length === 0;
  }

  /** Durable entries whose XACK has not been answered yet. */
  get waitingCount(): number {
    return this.waiting.reduce((sum, ids) => sum + ids.length, 0);
  }

  /** Sends what waits; resolves when done or when Redis stopped answering (the rest waits for its return). */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      for (let k = 0; k < PARTITIONS; k++) {
        while (this.waiting[k]!.length > 0 && this.redis.status === "ready") {
          const ids = this.waiting[k]!.splice(0, MAX_ACK_IDS);
          try {
            // Redis counts fewer when an id was acknowledged already (an XACK whose answer was lost with the connection).
            await this.redis.xack(PARTITION_KEYS[k]!, INGEST_GROUP, ...ids);
            this.onAcknowledged(ids.length);
            for (const id of ids) this.held[k]!.delete(id);
          } catch {
            // Redis away (logged by infra/redis.ts), or this partition's key refused: kept for the next flush, and
            // the other partitions go on (one partition's trouble must not hold every other's acknowledgements).
            this.waiting[k] = ids.concat(this.waiting[k]!);
            break;
          }
        }
      }
    })().finally(() => (this.flushing = null));
    return this.flushing;
  }
}
