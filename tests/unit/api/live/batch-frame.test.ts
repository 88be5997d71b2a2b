import { describe, expect, it } from "vitest";
import { encodeBatch, headOf } from "../../../../api/live/batch-frame.js";
import { withSeq } from "../../../../api/live/session.js";

describe("the live batch frame", () => {
  it("numbers each shared message head and parses as the batch of the numbered messages", () => {
    const messages = [{ type: "reading", device: "b1-d1", ts: 1, values: { power_w: 5, label: "電力 ✓" } }, { type: "status", device: "b1-d2", online: false }];
    const heads = messages.map((m) => headOf(JSON.stringify(m)));
    const frame = encodeBatch(heads, [9, 10], 2).toString();
    expect(frame).toBe(`{"type":"batch","messages":[${messages.map((m, i) => withSeq(JSON.stringify(m), 9 + i)).join(",")}]}`);
    expect(JSON.parse(frame).messages.map((m: { seq: number }) => m.seq)).toEqual([9, 10]);
  });

  it("copies already numbered frames as they are and writes every digit of a large seq", () => {
    const numbered = Buffer.from(withSeq('{"type":"status","device":"d","online":true}', 7));
    const frame = encodeBatch([numbered, headOf('{"type":"status","device":"d","online":false}')], [-1, 1_000_000_007], 2).toString();
    expect(JSON.parse(frame).messages).toEqual([
      { type: "status", device: "d", online: true, seq: 7 },
      { type: "status", device: "d", online: false, seq: 1_000_000_007 },
    ]);
  });

  it("encodes only the first `count` entries of reused arrays, and an empty batch", () => {
    const heads = [headOf('{"a":1}'), headOf('{"a":2}')];
    expect(JSON.parse(encodeBatch(heads, [1, 2], 1).toString()).messages).toEqual([{ a: 1, seq: 1 }]);
    expect(encodeBatch([], [], 0).toString()).toBe('{"type":"batch","messages":[]}');
  });
});
