// The ingest worker's acknowledgements of device stream entries (ingest/stream-acks.ts) against a real Redis:
// one partition whose XACK fails keeps its ids for the next flush, and the other partitions' entries are
// acknowledged all the same (before, the first failure ended the flush for every partition).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INGEST_GROUP, PARTITION_KEYS } from "../../infra/device-stream.js";
import { type LocalRedis, startLocalRedis } from "../../infra/local-redis.js";
import { createLogger } from "../../infra/logger.js";
import { connectRedis, type Redis, untilReady } from "../../infra/redis.js";
import { StreamAcks } from "../../ingest/stream-acks.js";

const dir = mkdtempSync(join(tmpdir(), "campus-stream-acks-"));
let server: LocalRedis;
let redis: Redis;

/** Entries appended to partition `k` (ids given, or Redis's) and read by a consumer of the group, so they are pending: their ids. */
async function pendingEntries(k: number, count: number, ids: string[] = []): Promise<string[]> {
  const key = PARTITION_KEYS[k]!;
  await redis.xgroup("CREATE", key, INGEST_GROUP, "0", "MKSTREAM");
  for (let i = 0; i < count; i++) await redis.xadd(key, ids[i] ?? "*", "device", `d-${i}`);
  const read = (await redis.xreadgroup("GROUP", INGEST_GROUP, "worker", "COUNT", count, "STREAMS", key, ">")) as [string, [string, string[]][]][];
  return read[0]![1].map(([id]) => id);
}
const pending = async (k: number) => Number(((await redis.xpending(PARTITION_KEYS[k]!, INGEST_GROUP)) as [number])[0]);

beforeAll(async () => {
  server = await startLocalRedis({ dir: join(dir, "redis") });
  redis = connectRedis(server.url, { name: "stream-acks-test", log: createLogger("silent") });
  await untilReady(redis, server.url, createLogger("silent"));
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("stream acknowledgements", () => {
  it("acknowledges every other partition when one partition's XACK fails, and that one's on a later flush", async () => {
    // Partition 0's key is not a stream (WRONGTYPE for its XACK); partitions 1 and 2 hold pending entries.
    await redis.set(PARTITION_KEYS[0]!, "not a stream");
    const one = await pendingEntries(1, 3);
    const two = await pendingEntries(2, 2);
    let acknowledged = 0;
    const acks = new StreamAcks(redis, (count) => (acknowledged += count));
    acks.durable(0, ["1-1", "1-2"]);
    acks.durable(1, one);
    acks.durable(2, two);
    await acks.flush();
    expect([await pending(1), await pending(2), acknowledged]).toEqual([0, 0, 5]);
    expect([acks.idle(1), acks.idle(2), acks.idle(0), acks.waitingCount]).toEqual([true, true, false, 2]);

    // Partition 0 mended (its entries now pending there): the ids it kept go on the next flush.
    await redis.del(PARTITION_KEYS[0]!);
    expect(await pendingEntries(0, 2, ["1-1", "1-2"])).toEqual(["1-1", "1-2"]);
    await acks.flush();
    expect([await pending(0), acks.waitingCount, acknowledged]).toEqual([0, 0, 7]);
  });
});
