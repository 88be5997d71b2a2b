import { describe, expect, it } from "vitest";
import { Deque } from "../../../broker/fast-queue.js";

describe("the broker's deque", () => {
  it("gives items back in order through compactions, and undefined when empty", () => {
    const deque = new Deque<number>();
    const out: (number | undefined)[] = [];
    for (let i = 0; i < 5_000; i++) {
      deque.push(i);
      if (i % 3 === 0) out.push(deque.shift());
    }
    while (deque.length > 0) out.push(deque.shift());
    expect(out).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(deque.shift()).toBeUndefined();
    expect(deque.length).toBe(0);
  });
});
