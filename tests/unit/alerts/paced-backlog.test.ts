// A robot route's backlog after a district's storm (alerts/notify/paced-channel.ts, rate.ts): hundreds of queued
// messages of ~100 alerts each. Planning the next message must cost what that message costs, not what the
// backlog does: the sender plans at each of its turns, on the alerts service's event loop.
import { describe, expect, it } from "vitest";
import { contentOf, type Outlet, pacedChannel } from "../../../alerts/notify/paced-channel.js";
import { largestFitting, ROBOT_RATE } from "../../../alerts/notify/rate.js";
import type { OutboxEntry } from "../../../alerts/saved-state.js";

const alert = (i: number) => ({ id: `brk-${i}.offline.1.0`, rule: "offline", device: `brk-${i}`, building: "b1", site: "s1", severity: "warning", state: "firing", value: 60, threshold: 30, message: "offline", started_at: "2026-12-07T00:00:00.000Z", updated_at: "2026-12-07T00:00:00.000Z" });
const entry = (id: number, alerts: number, body?: string): OutboxEntry => ({
  id: `e${id}`, target: "site:s1", created_at: 0, attempts: 0, next_at: 0, expires_at: 1e15,
  body: body ?? JSON.stringify(Array.from({ length: alerts }, (_, i) => ({ event: "opened", alert: alert(id * 1_000 + i) }))),
});

/** An outlet that counts the alerts of every message it composes; a message fits with at most `limit` alerts. */
function countingOutlet(limit: number) {
  const composed: number[] = [];
  const outlet: Outlet<number> = {
    compose: (content) => {
      const size = "items" in content ? content.items.length : 1;
      composed.push(size);
      return size;
    },
    fits: (size) => size <= limit,
    send: async () => undefined,
  };
  return { outlet, composed };
}

describe("a robot route's backlog", () => {
  it("takes the most messages that fit, composing none much larger than the one it sends", () => {
    const queue = Array.from({ length: 400 }, (_, i) => entry(i, 100));
    const { outlet, composed } = countingOutlet(350); // 3 entries of 100 alerts fit, 4 do not
    const plan = pacedChannel(outlet, ROBOT_RATE, { now: () => 0 }).plan(queue, 0);
    expect(plan).toEqual({ take: 3 }); // room for 20 messages: 20 entries each would be due, 3 fit
    expect(Math.max(...composed)).toBeLessThanOrEqual(400); // never the 2,000 alerts of the 20 entries due
    expect(composed.length).toBeLessThanOrEqual(6);
  });

  it("waits out a full minute without reading the queue", () => {
    // Not JSON: reading it would throw.
    const queue = [entry(0, 0, "{not json"), entry(1, 1)];
    const { outlet, composed } = countingOutlet(1_000);
    const sent = Array.from({ length: ROBOT_RATE.messages }, () => 1_000);
    expect(pacedChannel(outlet, ROBOT_RATE, { now: () => 2_000, sent }).plan(queue, 2_000)).toEqual({ waitUntil: 1_000 + ROBOT_RATE.windowMs });
    expect(composed).toEqual([]);
  });

  it("reads each queued entry once", () => {
    const queued = entry(1, 2);
    expect(contentOf(queued)).toBe(contentOf(queued));
  });

  it("finds the largest count that fits from below", () => {
    const asked: number[] = [];
    expect(largestFitting(1_000, (n) => (asked.push(n), n <= 37))).toBe(37);
    expect(Math.max(...asked)).toBeLessThanOrEqual(64);
    expect(largestFitting(5, () => true)).toBe(5);
    expect(largestFitting(1, () => false)).toBe(1);
  });
});
