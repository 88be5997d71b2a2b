import { describe, expect, it } from "vitest";
import { RetainedGuard } from "../../../api/retained-guard.js";

describe("retained copies after live messages", () => {
  it("drops a retained copy that arrives after a live message on its topic, on that connection only", () => {
    const guard = new RetainedGuard();
    const topic = "campus/alerts/brk-d3-301/offline";
    expect(guard.accept(topic, true)).toBe(true); // the snapshot on subscribe: firing
    expect(guard.accept(topic, false)).toBe(true); // live: resolved
    expect(guard.accept(topic, false)).toBe(true); // live: the empty retained payload, forwarded live
    expect(guard.accept(topic, true)).toBe(false); // a stale copy of "firing" delivered late
    expect(guard.accept("campus/alerts/brk-d3-302/offline", true)).toBe(true); // another topic is not affected
    guard.reset(); // reconnected: fresh copies again
    expect(guard.accept(topic, true)).toBe(true);
  });
});
