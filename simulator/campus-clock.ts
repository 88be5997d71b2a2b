// When the campus clock of `simulate` starts (CONTRACT §7): now at 1×; above 1× in the past
// (now − duration × speed), so the run reaches the present at its end and no timestamp lies in the
// future; or at a chosen start, as long as the run would not end in the future. Pure.

export type ClockStart = { ok: true; startMs: number } | { ok: false; problem: string };

/** Tolerance for a chosen start whose run ends just after `nowMs` (the connections take a moment), ms. */
const FUTURE_TOLERANCE_MS = 1_000;

/**
 * The event time the clock starts at, epoch ms, for a run at `speed` lasting `durationMs` of wall time
 * (undefined: until stopped), started at `startMs` when one is chosen; or why the combination is refused.
 */
export function campusClockStart(nowMs: number, speed: number, durationMs: number | undefined, startMs: number | undefined): ClockStart {
  if (startMs !== undefined) {
    if (speed > 1 && durationMs === undefined) return { ok: false, problem: "--start with --speed above 1 needs --duration" };
    const endMs = durationMs === undefined ? startMs : startMs + durationMs * speed;
    if (endMs > nowMs + FUTURE_TOLERANCE_MS) return { ok: false, problem: `the run would end ${Math.round((endMs - nowMs) / 1000)} s in the future; choose an earlier --start` };
    return { ok: true, startMs };
  }
  if (speed <= 1) return { ok: true, startMs: nowMs };
  if (durationMs === undefined) return { ok: false, problem: "--speed above 1 needs --duration: the campus clock starts at now − duration × speed (CONTRACT §7)" };
  return { ok: true, startMs: nowMs - durationMs * speed };
}
