// mqemitter 7.1 (aedes' message bus) queues the messages above its `concurrency` in plain arrays and takes
// them with shift(), which copies the whole array: with tens of thousands queued (1,000 devices publishing
// as fast as the broker takes them) that was 17 % of the broker's CPU (bench:ingest profile). The two
// arrays are swapped for a ring-less deque with the three members mqemitter uses (push, shift, length).
// These are private fields of the installed mqemitter (mqemitter.js: _messageQueue, _messageCallbacks);
// if they disappear the broker keeps mqemitter's own arrays.

export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): number {
    this.items.push(item);
    return this.length;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the consumed prefix dominates: amortised O(1) per item.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export function useFastQueues(mq: unknown): boolean {
  const emitter = mq as { _messageQueue?: unknown[]; _messageCallbacks?: unknown[] };
  if (!Array.isArray(emitter._messageQueue) || !Array.isArray(emitter._messageCallbacks)) return false;
  if (emitter._messageQueue.length > 0) return false; // only before any traffic
  (emitter as { _messageQueue: unknown })._messageQueue = new Deque();
  (emitter as { _messageCallbacks: unknown })._messageCallbacks = new Deque();
  return true;
}
