// Flood control for the group robots (CONTRACT §14 "Rate"), pure: no robot route gets more than 20 messages
// in any 60 s (a sliding window over the attempts, failed ones included: the vendor counts requests, and
// mutes a robot that exceeds its limit for 10 minutes — DingTalk, WeCom: 20 a minute). When more is
// waiting than the window has room for, each message carries several alerts, so the backlog is spread over
// the room left and never dropped: ceil(backlog / room) each (the robot then groups them by school and by
// building: ./message-text.ts), fewer when that would not fit the vendor's size limit.

export interface RateLimit {
  messages: number;
  windowMs: number;
}

export const ROBOT_RATE: RateLimit = { messages: 20, windowMs: 60_000 };

/** The attempts still inside the window at `now` (older ones are forgotten). */
export const withinWindow = (sent: readonly number[], now: number, limit: RateLimit) => sent.filter((at) => at > now - limit.windowMs);

/**
 * How many waiting messages (from the head of the queue) the next attempt carries, or when the window has
 * room again (epoch ms). `backlog` ≥ 1.
 */
export function nextBatch(sent: readonly number[], backlog: number, now: number, limit: RateLimit = ROBOT_RATE): { take: number } | { waitUntil: number } {
  const recent = withinWindow(sent, now, limit);
  const room = limit.messages - recent.length;
  if (room <= 0) return { waitUntil: Math.min(...recent) + limit.windowMs };
  return { take: Math.ceil(backlog / room) };
}

/**
 * The largest n ≤ `take` (at least 1) whose first n items `fits` (a message over the size limit carries fewer).
 * Found from below, doubling then halving the gap, so no message much larger than the one that fits is ever
 * composed: after a district's storm `take` can be hundreds of entries of ~100 alerts each, and composing them
 * all (then 3/4 of them, and so on down) held the alerts service's event loop for seconds.
 */
export function largestFitting(take: number, fits: (n: number) => boolean): number {
  if (take <= 1) return 1;
  let good = 0;
  let bad = take + 1;
  for (let n = 1; n <= take; n = Math.min(take, n * 2)) {
    if (!fits(n)) {
      bad = n;
      break;
    }
    good = n;
    if (n === take) return take;
  }
  if (good === 0) return 1;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (fits(mid)) good = mid;
    else bad = mid;
  }
  return good;
}
