// Spreads a schedule's orders out (CONTRACT §10: at most SCHEDULE_RATE commands per second), so a
// lights-out of 500 rooms is not one burst on the broker, the devices and the circuits: orders leave one
// at a time, at least 1000 / rate ms apart, in the order they came.
import type { CommandOrder } from "../commands/book.js";

export interface Pacer {
  enqueue(orders: readonly CommandOrder[]): void;
  /** Orders waiting their turn. */
  pending(): number;
  /** Stops; the orders still waiting are dropped and returned (the caller logs them). */
  stop(): CommandOrder[];
}

/** `clock`: ms (the wall clock); if it goes back, the next order waits one interval from then. */
export function createPacer(ratePerSecond: number, issue: (order: CommandOrder) => void, clock: () => number = Date.now): Pacer {
  // Whole ms, rounded up: timers and clocks count whole ms, and rounding down would exceed the rate.
  const intervalMs = Math.ceil(1000 / ratePerSecond);
  const queue: CommandOrder[] = [];
  let lastAt = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const drain = () => {
    timer = null;
    while (queue.length > 0 && !stopped) {
      const now = clock();
      if (now < lastAt) lastAt = now; // the clock went back: one interval from now
      const wait = lastAt + intervalMs - now;
      // A timer may fire a little early (libuv measures from the start of its loop turn): wait again then.
      if (wait > 0) {
        timer = setTimeout(drain, wait);
        return;
      }
      issue(queue.shift()!);
      // Counted from when the order has left, not from when it was decided: whatever the issuer stamps on
      // it (a command's sent_at, read from its own clock) is then at least one interval after the last one.
      lastAt = clock();
    }
  };

  return {
    enqueue(orders) {
      if (stopped) return;
      queue.push(...orders);
      if (timer === null) drain();
    },
    pending: () => queue.length,
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      return queue.splice(0);
    },
  };
}
