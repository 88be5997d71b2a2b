// How large the alerts thread's young generation may grow, from the number of devices it watches.
// V8 lets a busy isolate's young generation grow to 16 MB semi-spaces (48 MB in all: two semi-spaces and a
// large-object space of one semi-space), and sizes the old generation's next limit with the young generation's
// capacity added. For one school that is most of the thread's memory: its alerts state is a few MB. Under
// bench:e2e's load (1,000 devices), 4 MB semi-spaces held `up` 25–35 MiB lower with the same throughput; at a
// district's 20,000 devices they slowed `up` by a third (its state is twenty times larger, and what a small
// young generation promotes early makes the old generation's collections longer). So the bound grows with the
// devices, and from 4,000 devices on V8's own default stands (docs/benchmarks.md "Memory").

/** V8's largest semi-space on 64-bit (MB): its default bound, which we do not raise. */
const V8_MAX_SEMI_SPACE_MB = 16;
/** Semi-space per 1,000 devices watched (MB), and the least we give. */
const SEMI_SPACE_MB_PER_1000_DEVICES = 4;

/**
 * The `maxYoungGenerationSizeMb` of the alerts thread's resource limits for `devices` devices, or undefined
 * for V8's default (4,000 devices and more). A young generation is three semi-spaces (V8 11: two semi-spaces
 * and a new large-object space the size of one).
 */
export function alertsYoungGenerationMb(devices: number): number | undefined {
  const semiSpaceMb = SEMI_SPACE_MB_PER_1000_DEVICES * Math.max(1, Math.ceil(devices / 1_000));
  return semiSpaceMb >= V8_MAX_SEMI_SPACE_MB ? undefined : 3 * semiSpaceMb;
}
