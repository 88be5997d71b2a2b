import { describe, expect, it } from "vitest";
import { Coalescer, normaliseInterval } from "../../../api/coalescer.js";
import { ResumeRing } from "../../../api/resume-ring.js";

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

describe("the resume ring", () => {
  const ring = (max = 5) => new ResumeRing({ maxMessages: max, maxBytes: 1_000, maxAgeMs: 10_000 });

  it("replays the frames after the last seq a client saw", () => {
    const r = ring();
    for (let seq = 1; seq <= 4; seq++) r.push(seq, `f${seq}`, 0);
    expect(r.replay(2, 4)).toEqual([[3, "f3"], [4, "f4"]]);
    expect(r.replay(4, 4)).toEqual([]);
  });

  it("answers null when the gap is no longer held or the seq is not this session's", () => {
    const r = ring(3);
    for (let seq = 1; seq <= 10; seq++) r.push(seq, `f${seq}`, 0);
    expect(r.replay(7, 10)?.map(([, f]) => f)).toEqual(["f8", "f9", "f10"]);
    expect(r.replay(6, 10)).toBeNull();
    expect(r.replay(11, 10)).toBeNull();
    expect(r.replay(0, 10)).toBeNull();
  });

  it("forgets frames older than its window and beyond its byte budget", () => {
    const r = new ResumeRing({ maxMessages: 100, maxBytes: 10, maxAgeMs: 1_000 });
    r.push(1, "aaaa", 0);
    r.push(2, "bbbb", 500);
    r.push(3, "cccc", 600); // 12 bytes: the oldest goes
    expect(r.replay(1, 3)?.map(([, f]) => f)).toEqual(["bbbb", "cccc"]);
    r.push(4, "d", 2_000); // 2 and 3 are older than the window
    expect(r.size).toBe(1);
    expect(r.replay(2, 4)).toBeNull();
  });
});

describe("the resume ring's circular buffer", () => {
  it("keeps the newest maxMessages entries across many wrap-arounds", () => {
    const r = new ResumeRing({ maxMessages: 4, maxBytes: 1_000, maxAgeMs: 10_000 });
    for (let seq = 1; seq <= 1_003; seq++) r.push(seq, `f${seq}`, seq);
    expect(r.size).toBe(4);
    expect(r.replay(999, 1_003)?.map(([seq]) => seq)).toEqual([1_000, 1_001, 1_002, 1_003]);
    expect(r.replay(998, 1_003)).toBeNull();
  });
});
