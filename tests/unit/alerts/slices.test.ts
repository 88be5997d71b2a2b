// Effects in slices (alerts/slices.ts): in order across batches, a small batch at once, a storm spread over
// turns of the event loop with timers running in between, and one failing item failing alone.
import { describe, expect, it } from "vitest";
import { createSlicer } from "../../../alerts/slices.js";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("work in slices", () => {
  it("does a batch of at most a slice at once, when nothing is waiting", () => {
    const done: number[] = [];
    const slicer = createSlicer<number>((n) => done.push(n), () => undefined, 3);
    slicer.run([1, 2, 3]);
    expect(done).toEqual([1, 2, 3]);
    expect(slicer.waiting()).toBe(0);
  });

  it("spreads a storm over turns of the event loop, letting a timer run between slices, in order across batches", async () => {
    const done: string[] = [];
    // Each item takes 2 ms, so the timer (due in 1 ms) is due before the first slice is over.
    const slicer = createSlicer<string>((item) => {
      const until = performance.now() + 2;
      while (performance.now() < until);
      done.push(item);
    }, () => undefined, 2);
    setTimeout(() => done.push("timer"), 1);
    slicer.run(["a1", "a2", "a3", "a4", "a5"]);
    expect(done).toEqual(["a1", "a2"]);
    slicer.run(["b1"]); // queued behind the storm, not done ahead of it
    expect(done).toEqual(["a1", "a2"]);
    expect(slicer.waiting()).toBe(4);
    while (slicer.waiting() > 0 || !done.includes("timer")) await turn();
    expect(done.filter((item) => item !== "timer")).toEqual(["a1", "a2", "a3", "a4", "a5", "b1"]);
    const timerAt = done.indexOf("timer");
    expect(timerAt).toBeGreaterThan(1);
    expect(timerAt).toBeLessThan(done.length - 1); // the timer ran before the storm was over
  });

  it("reports an item that throws and goes on with the next", async () => {
    const done: number[] = [];
    const failures: unknown[] = [];
    const slicer = createSlicer<number>((n) => {
      if (n === 2) throw new Error("bad effect");
      done.push(n);
    }, (error) => failures.push(error), 2);
    slicer.run([1, 2, 3, 4]);
    while (slicer.waiting() > 0) await turn();
    expect(done).toEqual([1, 3, 4]);
    expect(failures).toEqual([new Error("bad effect")]);
  });

  it("does everything still queued at once when finished (a stop)", async () => {
    const done: number[] = [];
    const slicer = createSlicer<number>((n) => done.push(n), () => undefined, 2);
    slicer.run([1, 2, 3, 4, 5]);
    slicer.finish();
    expect(done).toEqual([1, 2, 3, 4, 5]);
    await turn();
    expect(done).toEqual([1, 2, 3, 4, 5]); // the slice that was scheduled does nothing more
  });
});
