// A schedule's orders leave at most SCHEDULE_RATE a second (CONTRACT §10), in order, on real timers.
import { describe, expect, it } from "vitest";
import type { CommandOrder } from "../../../alerts/commands/book.js";
import { createPacer } from "../../../alerts/automation/pacer.js";
import { waitFor } from "../../helpers/wait.js";

const orders = (n: number): CommandOrder[] => Array.from({ length: n }, (_, i) => ({ device: `brk-${i}`, action: "switch_off", reason: "lights out", by: "schedule:lights-out" }));

describe("the schedule pacer", () => {
  it("issues the first order at once and the others at least 1000 / rate ms apart, in order", async () => {
    const issued: { device: string; at: number }[] = [];
    // Each order is stamped with the instant the pacer read when it let the order go: a Date.now() taken
    // in the callback can fall into the next millisecond after one order and not after the next (19 ms apart).
    let read = 0;
    const clock = () => (read = Date.now());
    const pacer = createPacer(50, (o) => issued.push({ device: o.device, at: read }), clock);
    pacer.enqueue(orders(10));
    expect(issued.map((i) => i.device)).toEqual(["brk-0"]);
    await waitFor(() => issued.length === 10, 5_000, { what: "ten orders issued" });
    expect(issued.map((i) => i.device)).toEqual(orders(10).map((o) => o.device));
    const gaps = issued.slice(1).map((i, k) => i.at - issued[k]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
    expect(pacer.pending()).toBe(0);
  });

  it("keeps an issuer's own stamps at least 1000 / rate ms apart, however long it takes to stamp an order", async () => {
    // The command desk stamps sent_at from its own clock while it handles the order: every other order here
    // takes 3 ms before its stamp. Counted from the pacer's decision, the next one could be stamped 3 ms
    // short of the interval (CI saw 999 ms for 4 orders at 4 a second).
    const stamps: number[] = [];
    const pacer = createPacer(50, () => {
      if (stamps.length % 2 === 0) {
        const until = Date.now() + 3;
        while (Date.now() < until); // the work before the stamp
      }
      stamps.push(Date.now());
    });
    pacer.enqueue(orders(8));
    await waitFor(() => stamps.length === 8, 5_000, { what: "eight orders issued" });
    const gaps = stamps.slice(1).map((at, k) => at - stamps[k]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
  });

  it("rounds the interval up to whole ms, so the rate is never exceeded (3 a second: 334 ms)", async () => {
    const issued: number[] = [];
    const pacer = createPacer(3, () => issued.push(Date.now()));
    pacer.enqueue(orders(4));
    await waitFor(() => issued.length === 4, 5_000, { what: "four orders issued" });
    expect(issued[3]! - issued[0]!).toBeGreaterThanOrEqual(1_002);
  });

  it("drops the orders still waiting when stopped, and returns them", () => {
    const issued: string[] = [];
    const pacer = createPacer(1, (o) => issued.push(o.device));
    pacer.enqueue(orders(3));
    expect(pacer.stop().map((o) => o.device)).toEqual(["brk-1", "brk-2"]);
    pacer.enqueue(orders(1));
    expect(issued).toEqual(["brk-0"]);
  });

  it("waits one interval, not the jump, when its clock goes back", async () => {
    let offset = 0;
    const issued: number[] = [];
    const pacer = createPacer(20, () => issued.push(Date.now()), () => Date.now() + offset);
    pacer.enqueue(orders(1));
    offset = -3_600_000;
    pacer.enqueue(orders(1));
    await waitFor(() => issued.length === 2, 2_000, { what: "the second order after the clock went back an hour" });
    expect(issued[1]! - issued[0]!).toBeGreaterThanOrEqual(50);
  });
});
