import { describe, expect, it } from "vitest";
import { ResumeRing } from "../../../../api/live/resume-ring.js";

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
