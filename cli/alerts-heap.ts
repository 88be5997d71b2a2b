// How large the alerts thread's young generation may grow, from the number of devices it watches.
// V8 lets a busy isolate's young generation grow to 16 MB semi-spaces (48 MB in all: two semi-spaces and a
// large-object space of one semi-space), and sizes the old generation's next limit with the young generation's
// capacity added. For one school that is most of the thread's memory: its alerts state is a few MB. Measured
// with bench:e2e's load (docs/benchmarks.md "Memory"): at 1,000 devices, 4 MB semi-spaces held `up` 25–35 MiB
// lower with the same throughput (seven pairs); at 2,000 devices, 8 MB semi-spaces cost 5–17 % of it (two
// pairs); at a district's 20,000 devices, 4 MB slowed `up` by a third. So only a school of up to 1,000 devices
// gets the small young generation; a larger campus or a district keeps V8's own.

/** The most devices for which the alerts thread's young generation is bounded. */
const SMALL_CAMPUS_DEVICES = 1_000;
/** 4 MB semi-spaces: a young generation is three (V8 11: two semi-spaces, a new large-object space of one). */
const SMALL_YOUNG_GENERATION_MB = 3 * 4;

/** The `maxYoungGenerationSizeMb` of the alerts thread's resource limits, or undefined for V8's default. */
export function alertsYoungGenerationMb(devices: number): number | undefined {
  return devices <= SMALL_CAMPUS_DEVICES ? SMALL_YOUNG_GENERATION_MB : undefined;
}
