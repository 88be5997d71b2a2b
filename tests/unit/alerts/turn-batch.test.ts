import { describe, expect, it } from "vitest";
import { createTurnBatch } from "../../../alerts/turn-batch.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("a turn's batch", () => {
  it("hands on what arrived in one turn as one batch, in arrival order, with where each came from", async () => {
    const batches: Array<{ items: number[]; sources: string[] }> = [];
    const batch = createTurnBatch<number>((items, sources) => batches.push({ items, sources }));
    batch.add([1, 2], "a");
    batch.add([], "empty");
    batch.add([3], "b");
    expect(batches).toEqual([]); // not before the turn ends
    await nextTurn();
    expect(batches).toEqual([{ items: [1, 2, 3], sources: ["a", "a", "b"] }]);
    batch.add([4], "c");
    await nextTurn();
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3], [4]]);
  });

  it("hands on at once what is waiting when flushed, and then nothing more that turn", async () => {
    const batches: number[][] = [];
    const batch = createTurnBatch<number>((items) => batches.push(items));
    batch.add([1], "a");
    batch.flush();
    expect(batches).toEqual([[1]]);
    batch.flush(); // nothing waiting: no empty batch
    await nextTurn();
    expect(batches).toEqual([[1]]);
  });

  it("hands on nothing for a turn in which only empty lists arrived", async () => {
    const batches: number[][] = [];
    const batch = createTurnBatch<number>((items) => batches.push(items));
    batch.add([], "a");
    await nextTurn();
    batch.add([7], "b");
    await nextTurn();
    expect(batches).toEqual([[7]]);
  });
});
