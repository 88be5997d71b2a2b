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

/** The largest n ≤ `take` (at least 1) whose first n items `fits` (a message over the size limit carries fewer). */
export function largestFitting(take: number, fits: (n: number) => boolean): number {
  let n = take;
  while (n > 1 && !fits(n)) n = Math.max(1, Math.floor(n * 0.75));
  return n;
}
