// `scenario run --check`: which expected alerts opened and closed, and when, from what the alerts
// service published on `campus/alerts/{device}/{rule}`. Pure: observations in, a verdict out.
import type { Expectation } from "./scenario.js";

/** One change of an alert seen on the broker, placed on the scenario's event clock. */
export interface AlertObservation {
  device: string;
  rule: string;
  change: "opened" | "resolved";
  /** Event ms from the scenario's start. */
  atMs: number;
  severity?: string;
}

export interface ExpectationOutcome {
  expectation: Expectation;
  ok: boolean;
  /** Event ms from the start at which it opened, each time. */
  openedAtMs: number[];
  closedAtMs: number | null;
  problem?: string;
}

export interface CheckReport {
  ok: boolean;
  outcomes: ExpectationOutcome[];
  /** Alerts that opened although no expectation names them (a mismatch only with no_other_alerts). */
  unexpected: AlertObservation[];
}

const key = (device: string, rule: string) => `${device}\u0000${rule}`;

/**
 * Judges the observations of a run. Alerts opening at or after `spanMs` (the end of the scenario's
 * event time) are not counted as unexpected: when the stream ends every device falls silent, and the
 * offline watchdog rightly notices — that is the run stopping, not the scenario.
 */
export function checkExpectations(expectations: readonly Expectation[], observations: readonly AlertObservation[], noOtherAlerts: boolean, spanMs = Infinity): CheckReport {
  const outcomes = expectations.map((expectation): ExpectationOutcome => {
    const mine = observations.filter((o) => o.device === expectation.device && o.rule === expectation.rule);
    const openedAtMs = mine.filter((o) => o.change === "opened").map((o) => o.atMs);
    const firstOpen = openedAtMs[0];
    const closedAtMs = mine.find((o) => o.change === "resolved" && firstOpen !== undefined && o.atMs >= firstOpen)?.atMs ?? null;
    const base = { expectation, openedAtMs, closedAtMs };
    const within = openedAtMs.filter((t) => t <= expectation.opensWithinMs);
    if (within.length === 0) {
      const problem = firstOpen === undefined ? "never opened" : `opened only at ${formatOffset(firstOpen)}, expected within ${formatOffset(expectation.opensWithinMs)}`;
      return { ...base, ok: false, problem };
    }
    if (openedAtMs.length < expectation.times) return { ...base, ok: false, problem: `opened ${openedAtMs.length} times, expected at least ${expectation.times}` };
    if (expectation.closesWithinMs !== undefined && (closedAtMs === null || closedAtMs > expectation.closesWithinMs)) {
      const problem = closedAtMs === null ? "never closed" : `closed only at ${formatOffset(closedAtMs)}, expected within ${formatOffset(expectation.closesWithinMs)}`;
      return { ...base, ok: false, problem };
    }
    return { ...base, ok: true };
  });
  const expected = new Set(expectations.map((e) => key(e.device, e.rule)));
  const unexpected = observations.filter((o) => o.change === "opened" && o.atMs < spanMs && !expected.has(key(o.device, o.rule)));
  return { ok: outcomes.every((o) => o.ok) && (!noOtherAlerts || unexpected.length === 0), outcomes, unexpected };
}

/** `+2m05s` style offsets from the scenario's start, in event time. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  const total = Math.round(Math.abs(ms) / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${sign}${m}m${String(s).padStart(2, "0")}s`;
}

/** The report as lines a person (or a CI log) reads. */
export function formatReport(name: string, report: CheckReport, noOtherAlerts: boolean): string {
  const lines = [`scenario ${name}: ${report.ok ? "PASS" : "FAIL"}`];
  for (const o of report.outcomes) {
    const e = o.expectation;
    const opened = o.openedAtMs.length === 0 ? "not opened" : `opened at ${o.openedAtMs.map(formatOffset).join(", ")}`;
    const closed = o.closedAtMs === null ? "" : `, closed at ${formatOffset(o.closedAtMs)}`;
    lines.push(`  ${o.ok ? "ok  " : "FAIL"} ${e.rule} on ${e.device}: ${opened}${closed}${o.problem ? ` — ${o.problem}` : ""}`);
  }
  for (const u of report.unexpected) {
    lines.push(`  ${noOtherAlerts ? "FAIL" : "note"} unexpected ${u.rule} on ${u.device} opened at ${formatOffset(u.atMs)}${u.severity ? ` (${u.severity})` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
