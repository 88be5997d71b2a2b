// The watchdog's tick over a district, in slices: one tick over 20,000 devices is one pure step of the engine,
// 541 ms of one core when it opens an offline alert on every one of them (bench:alerts-state), during which the
// event loop renews no lease and handles no reading. A pass ticks TICK_SLICE devices a turn of the event loop
// (the rule book's `tickOrder`, parents first: a child's alert still opens inhibited), the first slice at
// once, so a campus of up to TICK_SLICE devices ticks in one step as before. A pass still under way when the
// next tick comes lets it go by: the watchdog then counts from a slightly later clock, never twice.

/** Devices a slice of the tick covers. */
export const TICK_SLICE = 1_000;

export interface TickPasses {
  /** Starts a pass over every device; false (nothing done) while one is under way or after `stop`. */
  start(): boolean;
  /** No slice runs after this (a stop, a stand-down). */
  stop(): void;
}

/**
 * `runSlice` for each [from, to) of `devices` in order, a turn of the event loop each; `done` after the last
 * slice of a pass; a slice that throws is `failed`'s, and the pass goes on with the next.
 */
export function createTickPasses(devices: number, runSlice: (slice: { from: number; to: number }) => void, done: () => void, failed: (error: unknown) => void, size = TICK_SLICE): TickPasses {
  let running = false;
  let stopped = false;
  const from = (start: number) => {
    if (stopped) return void (running = false);
    const to = Math.min(devices, start + size);
    try {
      runSlice({ from: start, to });
    } catch (error) {
      failed(error);
    }
    if (to < devices) return void setImmediate(() => from(to));
    running = false;
    done();
  };
  return {
    start() {
      if (running || stopped) return false;
      running = true;
      from(0);
      return true;
    },
    stop: () => void (stopped = true),
  };
}
