// Per-connection outbox of the live stream: never an unbounded buffer (anchors §1.4/§4.5).
// While the socket's buffer is above the soft limit, messages wait here keyed by what they describe,
// so a newer one replaces an older one: the latest reading per device (coalesced), the latest status
// per device and the latest state per alert (never dropped: their newest state always arrives),
// and at most `maxEvents` device events. Pure: the socket and the clock are the caller's.
import type { Alert } from "../domain/alert.js";
import type { DeviceEvent } from "../domain/reading.js";
import type { LatestValues } from "./live-state.js";
import type { DeviceView } from "./views.js";

export interface LiveOptions {
  /** Close with 4401 when no valid token arrived within this time. */
  authTimeoutMs: number;
  /** Above this many buffered bytes, readings are coalesced instead of sent. */
  softLimitBytes: number;
  /** Above this, the client is terminated if it stays there for hardStuckMs. */
  hardLimitBytes: number;
  hardStuckMs: number;
  /** A client that stays above the soft limit this long has stopped reading: terminated. */
  softStuckMs: number;
  /** The live tick: held readings go out, batches are sent, a held outbox re-checks the socket's buffer. */
  flushIntervalMs: number;
  pingIntervalMs: number;
  maxEvents: number;
  /** At most one reading per device per this interval reaches a client (latest wins); 0 = every reading. */
  coalesceMs: number;
  /** Smallest interval a client may ask for in `subscribe` (`interval_ms`). */
  minCoalesceMs: number;
  /** A closed session can be resumed this long; also the age limit of its resume ring. */
  resumeWindowMs: number;
  resumeMaxMessages: number;
  resumeMaxBytes: number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = {
  authTimeoutMs: 5_000,
  softLimitBytes: 256 * 1024,
  hardLimitBytes: 1024 * 1024,
  hardStuckMs: 5_000,
  softStuckMs: 60_000,
  flushIntervalMs: 25,
  // A client that stopped reading is found by its missing pong within 1–2 intervals: its bufferedAmount
  // alone reveals it only after the kernel's socket buffers are full (up to tcp_rmem + tcp_wmem: here
  // 32 + 4 MB, i.e. minutes at ~150 KB/s), so the byte limits below catch floods, the pong catches stalls.
  pingIntervalMs: 10_000,
  maxEvents: 100,
  coalesceMs: 1_000,
  minCoalesceMs: 100,
  resumeWindowMs: 30_000,
  resumeMaxMessages: 2_048,
  resumeMaxBytes: 512 * 1024,
};

export type LiveMessage =
  | { type: "snapshot"; session?: string; interval_ms?: number; devices: DeviceView[]; alerts: Alert[] }
  | { type: "reading"; device: string; ts: number; values: LatestValues }
  | { type: "status"; device: string; online: boolean }
  | { type: "alert"; alert: Alert }
  | { type: "event"; event: DeviceEvent };

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
