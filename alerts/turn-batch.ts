// Collects what arrives in one turn of the event loop and hands it on as one batch, in arrival order.
// The alerts service judges each batch as one engine step: every step copies the device map once, and
// with 20,000 devices a copy costs ≈ 18 ms. When a district's devices connect at once their statuses
// (one message each) arrive by the hundred; judged one by one they kept `up` busy for minutes
// (docs/benchmarks.md, bench:district). The busier the service, the more a turn collects.
export interface TurnBatch<T> {
  add(items: readonly T[], source: string): void;
  /** Hands on what is waiting now (before anything judged alone, so the order holds). */
  flush(): void;
}

export function createTurnBatch<T>(handle: (items: T[], sources: string[]) => void): TurnBatch<T> {
  let items: T[] = [];
  let sources: string[] = [];
  let timer: NodeJS.Immediate | null = null;
  const flush = () => {
    if (timer) clearImmediate(timer);
    timer = null;
    if (items.length === 0) return;
    const batch = items;
    const from = sources;
    items = [];
    sources = [];
    handle(batch, from);
  };
  return {
    add(added, source) {
      for (const item of added) {
        items.push(item);
        sources.push(source);
      }
      if (items.length > 0) timer ??= setImmediate(flush);
    },
    flush,
  };
}
