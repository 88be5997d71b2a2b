import { describe, expect, it } from "vitest";
import { Coalescer, normaliseInterval } from "../../../../api/live/coalescer.js";

describe("the per-device coalescer", () => {
  it("lets the first update of a device through at once and holds later ones until the interval passed", () => {
    const c = new Coalescer<number>(1000);
    expect(c.offer("a", 1, 0)).toBe(1);
    expect(c.offer("a", 2, 100)).toBeNull();
    expect(c.offer("a", 3, 200)).toBeNull();
    expect(c.offer("b", 9, 200)).toBe(9);
    expect(c.due(999)).toEqual([]);
    expect(c.due(1000)).toEqual([3]); // the latest value wins
    expect(c.replaced).toBe(1);
    expect(c.due(5000)).toEqual([]);
  });

  it("never emits a device twice within one interval, however many updates arrive", () => {
    const c = new Coalescer<number>(1000);
    const emitted: number[] = [];
    for (let t = 0; t <= 10_000; t += 10) {
      const now = c.offer("a", t, t);
      if (now !== null) emitted.push(t);
      for (const _ of c.due(t)) emitted.push(t);
    }
    for (let i = 1; i < emitted.length; i++) expect(emitted[i]! - emitted[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(emitted.length).toBe(11);
  });

  it("sends a fresher update at once after the interval instead of the held one, and the held one after the grace", () => {
    const c = new Coalescer<number>(1000, 250);
    c.offer("a", 1, 0);
    c.offer("a", 2, 800); // held
    expect(c.due(1100)).toEqual([]); // within the grace a newer one may come
    expect(c.offer("a", 3, 1200)).toBe(3); // it did: out at once, the held one is dropped
    expect(c.due(5000)).toEqual([]);
    c.offer("a", 4, 2000); // held again
    expect(c.due(2449)).toEqual([]);
    expect(c.due(2450)).toEqual([4]); // nothing newer came: the last value still arrives
  });

  it("passes everything with an interval of 0", () => {
    const c = new Coalescer<number>(0);
    expect([1, 2, 3].map((v) => c.offer("a", v, 5))).toEqual([1, 2, 3]);
  });

  it("rounds and clamps a client's requested interval", () => {
    expect(normaliseInterval(1234, 1000, 100)).toBe(1200);
    expect(normaliseInterval(5, 1000, 100)).toBe(100);
    expect(normaliseInterval(10 ** 9, 1000, 100)).toBe(60_000);
    expect(normaliseInterval("x", 1000, 100)).toBe(1000);
  });
});
