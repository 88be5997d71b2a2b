// Copy-on-write for the maps of a state that a pure core returns: `withEntry` copies the whole map (the
// core never mutates what it was given), which at 20,000 devices costs ≈ 18 ms a copy. Two ways to
// update in place instead, both invisible from the outside:
// - within `inStep` (one evaluation of the alerts engine), a map the step itself created is updated in
//   place: a step copies a map at most once, however many entries it changes (a watchdog tick may
//   change every device);
// - within an owner's `run` (the alerts service and its command desk, each the only holder of its state),
//   a map any earlier run created is updated in place, so a step copies nothing; a run that throws has
//   its in-place changes put back, so a failed input leaves the state exactly as it found it.
type Entries<V> = Record<string, V>;
type Undo = Array<{ map: Entries<unknown>; key: string; had: boolean; value: unknown }>;

let owned: WeakSet<object> | null = null;
let undo: Undo | null = null;

/** `map` with `key` set to `value`: the same map changed in place when it is owned here, else a copy. */
export function withEntry<V>(map: Entries<V>, key: string, value: V): Entries<V> {
  if (owned?.has(map)) {
    undo?.push({ map, key, had: Object.hasOwn(map, key), value: map[key] });
    map[key] = value;
    return map;
  }
  const copy = { ...map, [key]: value };
  owned?.add(copy);
  return copy;
}

/** `map` without `key`: the same map changed in place when it is owned here, else a copy (the map itself when it has no `key`). */
export function withoutEntry<V>(map: Entries<V>, key: string): Entries<V> {
  if (!Object.hasOwn(map, key)) return map;
  if (owned?.has(map)) {
    undo?.push({ map, key, had: true, value: map[key] });
    delete map[key];
    return map;
  }
  const { [key]: _gone, ...copy } = map;
  owned?.add(copy);
  return copy;
}

/** Runs `work` (synchronous) with in-place updates of the maps it creates. */
export function inStep<T>(work: () => T): T {
  if (owned) return work();
  owned = new WeakSet();
  try {
    return work();
  } finally {
    owned = null;
  }
}

export interface StateOwner {
  /** Runs `work` (synchronous) with in-place updates of every map this owner's runs created. */
  run<T>(work: () => T): T;
}

/** For the one holder of a state that never keeps an older one. */
export function createStateOwner(): StateOwner {
  const maps = new WeakSet<object>();
  return {
    run(work) {
      if (owned) throw new Error("an owner's run cannot be nested in another step");
      owned = maps;
      undo = [];
      try {
        return work();
      } catch (error) {
        for (const change of undo.reverse()) {
          if (change.had) change.map[change.key] = change.value;
          else delete change.map[change.key];
        }
        throw error;
      } finally {
        owned = null;
        undo = null;
      }
    },
  };
}
