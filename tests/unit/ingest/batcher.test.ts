import { describe, expect, it } from "vitest";
import type { Point } from "../../../src/domain/line-protocol.js";
import { Batcher } from "../../../src/ingest/batcher.js";

const point = (i: number): Point => ({ measurement: "electrical", tags: { device: "d" }, fields: { power_w: i }, ts: i });
const points = (from: number, count: number) => Array.from({ length: count }, (_, i) => point(from + i));

describe("the batcher", () => {
  it("holds points until the batch is full", () => {
    const batcher = new Batcher({ maxPoints: 3, maxWaitMs: 1_000 });
    expect(batcher.add(points(0, 2), 0)).toEqual([]);
    expect(batcher.size).toBe(2);
    expect(batcher.add(points(2, 1), 10)).toEqual([points(0, 3)]);
    expect(batcher.size).toBe(0);
  });

  it("cuts a large add into full batches and keeps the rest", () => {
    const batcher = new Batcher({ maxPoints: 4, maxWaitMs: 1_000 });
    const ready = batcher.add(points(0, 10), 0);
    expect(ready.map((b) => b.length)).toEqual([4, 4]);
    expect(ready.flat()).toEqual(points(0, 8));
    expect(batcher.size).toBe(2);
  });

  it("flushes by time once the oldest point has waited maxWaitMs", () => {
    const batcher = new Batcher({ maxPoints: 100, maxWaitMs: 1_000 });
    batcher.add(points(0, 1), 5_000);
    batcher.add(points(1, 1), 5_600);
    expect(batcher.dueAt()).toBe(6_000);
    expect(batcher.takeDue(5_999)).toEqual([]);
    expect(batcher.takeDue(6_000)).toEqual([points(0, 2)]);
    expect(batcher.dueAt()).toBeNull();
  });

  it("starts the wait clock again for points left after a full batch", () => {
    const batcher = new Batcher({ maxPoints: 2, maxWaitMs: 1_000 });
    batcher.add(points(0, 1), 0);
    expect(batcher.add(points(1, 2), 900)).toEqual([points(0, 2)]);
    expect(batcher.dueAt()).toBe(1_900);
  });

  it("emits a due batch on the next add without waiting for a timer", () => {
    const batcher = new Batcher({ maxPoints: 100, maxWaitMs: 1_000 });
    batcher.add(points(0, 1), 0);
    expect(batcher.add(points(1, 1), 1_500)).toEqual([points(0, 2)]);
  });

  it("hands over everything pending on demand, and nothing when empty", () => {
    const batcher = new Batcher({ maxPoints: 100, maxWaitMs: 1_000 });
    expect(batcher.takeAll()).toEqual([]);
    batcher.add(points(0, 3), 0);
    expect(batcher.takeAll()).toEqual([points(0, 3)]);
    expect(batcher.size).toBe(0);
  });
});
