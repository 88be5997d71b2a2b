import { describe, expect, it } from "vitest";
import { type StoredWill, isStaleWill, liveValue, nodeOfLiveValue, wholeSweep, withoutStaleWills } from "../../../broker/cluster-client-ids.js";

const DEAD = "0b6e1f2a-dead-4c1e-9d2b-000000000001";
const OTHER = "0b6e1f2a-live-4c1e-9d2b-000000000002";

async function* listOf<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("client ids across broker nodes", () => {
  it("names the node of a live connection", () => {
    expect(nodeOfLiveValue(liveValue(OTHER, 42))).toBe(OTHER);
  });

  it("calls a dead node's will stale only when its client is connected on another node", () => {
    const will = { clientId: "brk-1", brokerId: DEAD };
    expect(isStaleWill(will, OTHER)).toBe(true);
    expect(isStaleWill(will, null)).toBe(false); // not connected anywhere: the will is the truth
    expect(isStaleWill(will, DEAD)).toBe(false); // the dead node's own leftover
  });

  it("passes the wills of clients not connected again, and drops the others once each", async () => {
    const wills: StoredWill[] = [
      { clientId: "moved", brokerId: DEAD },
      { clientId: "gone", brokerId: DEAD },
      { clientId: "leftover", brokerId: DEAD },
    ];
    const live: Record<string, string> = { moved: OTHER, leftover: DEAD };
    const dropped: string[] = [];
    const skipped: number[] = [];
    const passed = await collect(
      withoutStaleWills(
        listOf(wills),
        async (id) => live[id] ?? null,
        async (will) => void dropped.push(will.clientId),
        (count) => skipped.push(count),
      ),
    );
    expect(passed.map((w) => w.clientId)).toEqual(["gone", "leftover"]);
    expect(dropped).toEqual(["moved"]);
    expect(skipped).toEqual([1]);
  });

  it("ends the sweep with the error of a look-up Redis could not answer", async () => {
    const sweep = withoutStaleWills(
      listOf([{ clientId: "a", brokerId: DEAD }]),
      async () => {
        throw new Error("Redis away");
      },
      async () => undefined,
      () => undefined,
    );
    await expect(collect(sweep)).rejects.toThrow("Redis away");
  });

  it("reads the whole sweep before aedes gets its first will, each read waiting as one on Redis does", async () => {
    let read = 0;
    async function* slow(): AsyncGenerator<StoredWill> {
      for (const clientId of ["a", "b", "c"]) {
        await new Promise((resolve) => setImmediate(resolve));
        read += 1;
        yield { clientId, brokerId: DEAD };
      }
    }
    const seen: [string, number][] = [];
    for await (const will of wholeSweep(slow())) seen.push([will.clientId, read]);
    expect(seen).toEqual([["a", 3], ["b", 3], ["c", 3]]);
  });

  it("gives aedes no will at all from a sweep whose reading failed half-way", async () => {
    async function* failing(): AsyncGenerator<StoredWill> {
      yield { clientId: "a", brokerId: DEAD };
      throw new Error("Command timed out");
    }
    const given: string[] = [];
    const sweep = (async () => {
      for await (const will of wholeSweep(failing())) given.push(will.clientId);
    })();
    await expect(sweep).rejects.toThrow("Command timed out");
    expect(given).toEqual([]);
  });
});
