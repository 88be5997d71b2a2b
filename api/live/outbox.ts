// Per-connection outbox of the live stream: never an unbounded buffer (anchors §1.4/§4.5).
// While the socket's buffer is above the soft limit, messages wait here keyed by what they describe,
// so a newer one replaces an older one: the latest reading per device (coalesced), the latest status
// per device and the latest state per alert and per command (never dropped: their newest state always arrives),
// and at most `maxEvents` device events. Pure: the socket and the clock are the caller's.
import { DEFAULT_LIVE_OPTIONS, type LiveOptions } from "./options.js";
import type { LiveMessage } from "./protocol.js";

/** The key under which a waiting message is replaced by a newer one; null = kept in order (events). */
export function coalescingKey(message: LiveMessage): string | null {
  switch (message.type) {
    case "snapshot":
      return "snapshot";
    case "reading":
      return `reading:${message.device}`;
    case "status":
      return `status:${message.device}`;
    case "alert":
      return `alert:${message.alert.id}`;
    case "command":
      // Only its newest state matters; states only move forward (selected → sent → final).
      return `command:${message.command.id}`;
    case "event":
      return null;
  }
}

export class Outbox {
  private readonly pending = new Map<string, LiveMessage>();
  private eventCount = 0;
  private nextEvent = 0;
  /** Messages replaced by a newer one or dropped (events over the bound). */
  coalesced = 0;

  constructor(private readonly maxEvents = DEFAULT_LIVE_OPTIONS.maxEvents) {}

  get size(): number {
    return this.pending.size;
  }

  offer(message: LiveMessage): void {
    if (message.type === "snapshot") {
      // A snapshot holds the latest of everything: whatever waited before it is obsolete.
      this.coalesced += this.pending.size;
      this.pending.clear();
      this.eventCount = 0;
    }
    const key = coalescingKey(message) ?? `event:${this.nextEvent++}`;
    if (message.type === "event" && ++this.eventCount > this.maxEvents) {
      const oldest = [...this.pending.keys()].find((k) => k.startsWith("event:"));
      if (oldest !== undefined) this.pending.delete(oldest);
      this.eventCount--;
      this.coalesced++;
    }
    if (this.pending.delete(key)) this.coalesced++;
    // Re-inserting moves the key to the end: the newest message of a key goes out after older others.
    this.pending.set(key, message);
  }

  /** Everything waiting, oldest first; the outbox is empty afterwards. */
  drain(): LiveMessage[] {
    const messages = [...this.pending.values()];
    this.pending.clear();
    this.eventCount = 0;
    return messages;
  }
}

export interface Pressure {
  aboveSoftSince: number | null;
  aboveHardSince: number | null;
}

export type PressureAction = "send" | "hold" | "terminate";

/** What to do with a socket that has `bufferedBytes` waiting at `now`: send, hold (coalesce) or terminate. */
export function checkPressure(pressure: Pressure, bufferedBytes: number, now: number, options: LiveOptions): { action: PressureAction; pressure: Pressure } {
  if (bufferedBytes <= options.softLimitBytes) return { action: "send", pressure: { aboveSoftSince: null, aboveHardSince: null } };
  const next: Pressure = {
    aboveSoftSince: pressure.aboveSoftSince ?? now,
    aboveHardSince: bufferedBytes > options.hardLimitBytes ? (pressure.aboveHardSince ?? now) : null,
  };
  const stuckHard = next.aboveHardSince !== null && now - next.aboveHardSince >= options.hardStuckMs;
  const stuckSoft = now - next.aboveSoftSince! >= options.softStuckMs;
  return { action: stuckHard || stuckSoft ? "terminate" : "hold", pressure: next };
}
