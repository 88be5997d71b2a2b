// A retained message that a subscriber gets because it (re)subscribed is a copy of the broker's store at
// the moment it was read, and aedes may deliver it after a live message on the same topic that already
// replaced it: at the start of `up --demo`, an alert opened and resolved within 0.4 s while the API was
// subscribing, and the stale retained "firing" copy, arriving after the live clear, kept it open in the
// API. Within one connection, a retained copy that comes after a live message on its topic is stale.
// Pure; the MQTT adapter (./index.ts) asks it about every message.
export class RetainedGuard {
  private readonly live = new Set<string>();

  /** A new connection: the broker sends fresh retained copies again. */
  reset(): void {
    this.live.clear();
  }

  /** Whether to apply a message; `retained` is the RETAIN flag as received (set only on subscription copies). */
  accept(topic: string, retained: boolean): boolean {
    if (!retained) {
      this.live.add(topic);
      return true;
    }
    return !this.live.has(topic);
  }
}
