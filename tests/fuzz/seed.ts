// The seed and the bounds every fuzz test of tests/fuzz/ runs with.
//   FUZZ_SEED=<integer>  replays a run (every failure prints the seed it ran with)
//   FUZZ_RUNS=<integer>  replaces each property's default number of runs (e.g. 20000 for a long local hunt)
// Without FUZZ_SEED a fresh seed is drawn per run, so CI explores new cases over time; a failure
// names its seed and fast-check's shrink path, and the case then becomes a regression test.
import fc from "fast-check";

/** The seed of this run: FUZZ_SEED when set, else a fresh one. */
export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number.parseInt(process.env.FUZZ_SEED, 10) : Math.floor(Math.random() * 2 ** 31);

/** fast-check parameters: seeded, `numRuns` cases at most, and never longer than `timeLimitMs`. */
export function fuzzParameters<T>(numRuns: number, timeLimitMs: number): fc.Parameters<T> {
  const runs = process.env.FUZZ_RUNS !== undefined ? Number.parseInt(process.env.FUZZ_RUNS, 10) : numRuns;
  // interruptAfterTimeLimit bounds the time: the runs done so far count, the rest are skipped (not failed).
  return { seed: FUZZ_SEED, numRuns: runs, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false };
}

/** `count` values of an arbitrary, drawn from this run's seed (for the socket tests, which are not properties). */
export const sampleOf = <T>(arbitrary: fc.Arbitrary<T>, count: number, salt = 0): T[] => fc.sample(arbitrary, { seed: FUZZ_SEED + salt, numRuns: count });

/** Runs a check and, when it fails, says which seed replays it (fast-check's own failures already do). */
export async function withSeed<T>(what: string, check: () => Promise<T> | T): Promise<T> {
  try {
    return await check();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${what} failed with FUZZ_SEED=${FUZZ_SEED} (replay: FUZZ_SEED=${FUZZ_SEED} npx vitest run tests/fuzz)\n${message}`, { cause: error });
  }
}
