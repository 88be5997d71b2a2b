// `scenario run --check` for remote switching: which expected commands happened, the state each ended in
// and when, how each person's command went at the API, and (with no_other_commands) nothing else. Pure:
// what the run observed in, a verdict and its report lines out.
import { isFinal } from "../domain/command.js";
import type { AlertLink } from "./alert-observer.js";
import { formatOffset } from "./check.js";
import type { CommandObservation } from "./command-observer.js";
import { type CommandExpectation, issuedByMatches, type PersonCommand } from "./scenario-commands.js";

/** What the API answered a person's select and operate. */
export type PersonResult = { ok: true; commandId: string } | { ok: false; step: "select" | "operate"; code: string; message: string };

export interface PersonOutcome {
  /** Event ms from the start at which the person selected. */
  atMs: number;
  result: PersonResult;
}

/** The schedule run the scenario meets, placed on its clock. */
export interface ScheduleMet {
  schedule: string;
  /** The run in words, e.g. `2030-01-07 23:00 (Asia/Shanghai)`. */
  run: string;
  /** Event ms from the start at which it ran. */
  atMs: number;
  /** Why the run could not show it (the devices connected only after it). */
  problem?: string;
}

export interface CommandOutcome {
  expectation: CommandExpectation;
  ok: boolean;
  observed: CommandObservation | null;
  problem?: string;
}

export interface PersonCheck {
  person: PersonCommand;
  outcome: PersonOutcome | null;
  ok: boolean;
  problem?: string;
}

export interface CommandReport {
  ok: boolean;
  outcomes: CommandOutcome[];
  persons: PersonCheck[];
  /** Commands seen before the span ended that no expectation names (a mismatch only with no_other_commands). */
  unexpected: CommandObservation[];
  schedule?: ScheduleMet;
}

export interface CommandCheckInput {
  expectCommands: readonly CommandExpectation[];
  personCommands: readonly PersonCommand[];
  noOtherCommands: boolean;
}

/**
 * Judges the commands of a run. Each expectation takes the first command not yet taken with its device,
 * action and issuer that meets it whole, else the first such command (whose problem is then told).
 * `persons[i]` is the outcome of `personCommands[i]` (missing: not taken before the run ended).
 */
export function checkCommands(
  input: CommandCheckInput,
  observed: readonly CommandObservation[],
  persons: readonly (PersonOutcome | undefined)[],
  links: ReadonlyMap<string, AlertLink>,
  spanMs = Infinity,
  schedule?: ScheduleMet,
): CommandReport {
  const taken = new Set<string>();
  const outcomes = input.expectCommands.map((expectation): CommandOutcome => {
    const candidates = observed
      .filter((o) => !taken.has(o.id) && o.device === expectation.device && o.action === expectation.action && issuedByMatches(expectation.issuedBy, o.issuedBy))
      .map((o) => ({ o, problem: commandProblem(expectation, o, links) }));
    const pick = candidates.find((c) => c.problem === null) ?? candidates[0];
    if (pick === undefined) return { expectation, ok: false, observed: null, problem: "never issued" };
    taken.add(pick.o.id);
    return { expectation, ok: pick.problem === null, observed: pick.o, ...(pick.problem !== null ? { problem: pick.problem } : {}) };
  });
  const personChecks = input.personCommands.map((person, i) => checkPerson(person, persons[i] ?? null, observed));
  const unexpected = observed.filter((o) => !taken.has(o.id) && o.firstSeenAtMs < spanMs);
  const ok =
    outcomes.every((o) => o.ok) && personChecks.every((p) => p.ok) && (!input.noOtherCommands || unexpected.length === 0) && schedule?.problem === undefined;
  return { ok, outcomes, persons: personChecks, unexpected, ...(schedule ? { schedule } : {}) };
}

function commandProblem(expectation: CommandExpectation, o: CommandObservation, links: ReadonlyMap<string, AlertLink>): string | null {
  const why = o.detail === undefined ? "" : ` (${o.detail})`;
  const sendable = expectation.state !== "cancelled" && expectation.state !== "expired";
  if (sendable && o.sentAtMs === null) return `never sent: ${o.state}${why}`;
  if (sendable && o.sentAtMs! > expectation.sentWithinMs) return `sent only at ${formatOffset(o.sentAtMs!)}, expected within ${formatOffset(expectation.sentWithinMs)}`;
  if (!isFinal(o.state)) return `still ${o.state} when the check ended, expected ${expectation.state}`;
  if (o.state !== expectation.state) return `ended ${o.state}, expected ${expectation.state}${why}`;
  const rule = expectation.linkedAlert;
  if (rule === undefined) return null;
  const alert = o.alertId === undefined ? undefined : links.get(o.alertId);
  if (alert === undefined || alert.rule !== rule) return `names no ${rule} alert the run saw (alert_id ${o.alertId ?? "missing"})`;
  if (alert.commandId !== o.id) return `its ${rule} alert ${o.alertId} on ${alert.device} does not name it (command_id ${alert.commandId ?? "missing"})`;
  return null;
}

function checkPerson(person: PersonCommand, outcome: PersonOutcome | null, observed: readonly CommandObservation[]): PersonCheck {
  if (outcome === null) return { person, outcome, ok: false, problem: "not given: the run ended first" };
  const { result } = outcome;
  if (person.refused === undefined) {
    return result.ok ? { person, outcome, ok: true } : { person, outcome, ok: false, problem: `refused ${result.code} at ${result.step}: ${result.message}` };
  }
  if (result.ok) return { person, outcome, ok: false, problem: `not refused: command ${result.commandId} was operated, expected ${person.refused}` };
  if (result.code !== person.refused) return { person, outcome, ok: false, problem: `refused ${result.code} at ${result.step}, expected ${person.refused}: ${result.message}` };
  const sent = observed.find((o) => o.device === person.device && o.sentAtMs !== null && o.sentAtMs >= outcome.atMs);
  if (sent !== undefined) return { person, outcome, ok: false, problem: `refused, yet ${sent.id} was sent to ${person.device} at ${formatOffset(sent.sentAtMs!)}` };
  return { person, outcome, ok: true };
}

const mark = (ok: boolean) => (ok ? "ok  " : "FAIL");

/** The report's lines (after the alerts' lines of check.ts formatReport). */
export function formatCommandReport(report: CommandReport, noOtherCommands: boolean): string {
  const lines: string[] = [];
  if (report.schedule) {
    const s = report.schedule;
    lines.push(`  ${mark(s.problem === undefined)} schedule ${s.schedule} ran at ${s.run}, ${formatOffset(s.atMs)} on the scenario's clock${s.problem ? ` — ${s.problem}` : ""}`);
  }
  for (const p of report.persons) {
    const { person, outcome } = p;
    const given = `a person's ${person.action} on ${person.device} at ${formatOffset(outcome?.atMs ?? person.atMs)}`;
    const result = outcome === null ? "" : outcome.result.ok ? `: operated, command ${outcome.result.commandId}` : `: refused ${outcome.result.code}${p.ok ? ", nothing sent" : ""}`;
    lines.push(`  ${mark(p.ok)} ${given}${result}${p.problem ? ` — ${p.problem}` : ""}`);
  }
  for (const o of report.outcomes) {
    const e = o.expectation;
    const c = o.observed;
    const sent = c?.sentAtMs == null ? "" : `sent at ${formatOffset(c.sentAtMs)}`;
    const ended = c?.endedAtMs == null ? "" : `${sent ? ", " : ""}${c.state} at ${formatOffset(c.endedAtMs)}${c.state !== "confirmed" && c.detail ? ` (${c.detail})` : ""}`;
    const linked = o.ok && e.linkedAlert !== undefined ? `, linked to its ${e.linkedAlert} alert ${c!.alertId}` : "";
    const seen = c === null ? "not seen" : `${sent}${ended}${linked}` || c.state;
    lines.push(`  ${mark(o.ok)} ${e.action} on ${e.device} by ${e.issuedBy}: ${seen}${o.problem ? ` — ${o.problem}` : ""}`);
  }
  for (const u of report.unexpected) {
    lines.push(`  ${noOtherCommands ? "FAIL" : "note"} unexpected ${u.action} on ${u.device} by ${u.issuedBy} (${u.state}), first seen at ${formatOffset(u.firstSeenAtMs)}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
