// `scenario run --check` for remote switching: the commands observed judged against what the scenario
// expects, a person's commands against the API's answers, and the report a person reads.
import { describe, expect, it } from "vitest";
import type { AlertLink } from "../../../simulator/alert-observer.js";
import type { CommandObservation } from "../../../simulator/command-observer.js";
import { checkCommands, formatCommandReport, type PersonOutcome } from "../../../simulator/scenario-command-check.js";
import type { CommandExpectation, PersonCommand } from "../../../simulator/scenario-commands.js";

const S = 1_000;
const off = (device: string, issuedBy: string, state: CommandExpectation["state"], sentWithinMs = 60 * S): CommandExpectation => ({ device, action: "switch_off", issuedBy, state, sentWithinMs });
const seen = (id: string, device: string, issuedBy: string, state: CommandObservation["state"], sentAtMs: number | null, extra: Partial<CommandObservation> = {}): CommandObservation => ({
  id, device, action: "switch_off", issuedBy, state, firstSeenAtMs: sentAtMs ?? 0, sentAtMs, endedAtMs: ["sent", "selected"].includes(state) ? null : (sentAtMs ?? 0) + S, ...extra,
});
const noLinks = new Map<string, AlertLink>();
const input = (expectCommands: CommandExpectation[], personCommands: PersonCommand[] = [], noOtherCommands = false) => ({ expectCommands, personCommands, noOtherCommands });

describe("the commands a scenario expects", () => {
  it("passes when each expected command was sent in time and ended as expected; a token's principal is a person", () => {
    const report = checkCommands(
      input([off("brk-102", "person", "confirmed"), off("plug-101", "person", "timeout"), off("brk-101", "schedule:lights-out", "confirmed")], [], true),
      [seen("c1", "brk-102", "operator:d91293b8", "confirmed", 31 * S), seen("c2", "plug-101", "admin:0a1b2c3d", "timeout", 51 * S), seen("c3", "brk-101", "schedule:lights-out", "confirmed", 59 * S)],
      [],
      noLinks,
    );
    expect(report.ok).toBe(true);
    expect(report.outcomes.map((o) => o.observed?.id)).toEqual(["c1", "c2", "c3"]);
    expect(report.unexpected).toEqual([]);
  });

  it("fails with the reason: never issued, never sent, sent late, still in flight, ended otherwise (with the service's words)", () => {
    const problem = (expectation: CommandExpectation, observed: CommandObservation[]) => checkCommands(input([expectation]), observed, [], noLinks).outcomes[0]!.problem;
    expect(problem(off("brk-102", "person", "confirmed"), [])).toBe("never issued");
    expect(problem(off("brk-102", "person", "confirmed"), [seen("c1", "brk-102", "schedule:x", "confirmed", S)])).toBe("never issued"); // not a person's
    expect(problem(off("brk-102", "person", "confirmed"), [seen("c1", "brk-102", "operator:a", "expired", null, { detail: "not operated within 30 s" })])).toBe("never sent: expired (not operated within 30 s)");
    expect(problem(off("brk-102", "person", "confirmed", 45 * S), [seen("c1", "brk-102", "operator:a", "confirmed", 50 * S)])).toBe("sent only at +0m50s, expected within +0m45s");
    expect(problem(off("brk-102", "person", "timeout"), [seen("c1", "brk-102", "operator:a", "sent", 10 * S)])).toBe("still sent when the check ended, expected timeout");
    expect(problem(off("brk-102", "person", "timeout"), [seen("c1", "brk-102", "operator:a", "failed", 10 * S, { detail: "brk-102 refused the command: busy" })])).toBe("ended failed, expected timeout (brk-102 refused the command: busy)");
  });

  it("takes for each expectation the command that meets it whole, so two alike are told apart", () => {
    const report = checkCommands(
      input([off("brk-101", "rule:malignant-load", "confirmed"), off("brk-101", "rule:malignant-load", "failed")]),
      [seen("c1", "brk-101", "rule:malignant-load", "failed", 10 * S), seen("c2", "brk-101", "rule:malignant-load", "confirmed", 20 * S)],
      [],
      noLinks,
    );
    expect(report.ok).toBe(true);
    expect(report.outcomes.map((o) => o.observed?.id)).toEqual(["c2", "c1"]);
  });

  it("checks the link both ways: the command names an alert of the rule the run saw, and that alert names the command", () => {
    const expectation = { ...off("brk-101", "rule:malignant-load", "confirmed"), linkedAlert: "malignant-load" };
    const cut = seen("c1", "brk-101", "rule:malignant-load", "confirmed", 10 * S, { alertId: "a1" });
    const judge = (links: Map<string, AlertLink>, observed = cut) => checkCommands(input([expectation]), [observed], [], links).outcomes[0]!;
    expect(judge(new Map([["a1", { device: "brk-101", rule: "malignant-load", commandId: "c1" }]])).ok).toBe(true);
    expect(judge(new Map([["a1", { device: "brk-101", rule: "malignant-load" }]])).problem).toBe("its malignant-load alert a1 on brk-101 does not name it (command_id missing)");
    expect(judge(new Map([["a1", { device: "brk-101", rule: "power-limit", commandId: "c1" }]])).problem).toBe("names no malignant-load alert the run saw (alert_id a1)");
    expect(judge(new Map(), { ...cut, alertId: undefined } as CommandObservation).problem).toBe("names no malignant-load alert the run saw (alert_id missing)");
  });

  it("judges commands nobody expected only inside the span, and only with no_other_commands", () => {
    const stray = [seen("c9", "brk-103", "rule:malignant-load", "confirmed", 10 * S)];
    expect(checkCommands(input([], [], true), stray, [], noLinks, 60 * S).ok).toBe(false);
    expect(checkCommands(input([], [], false), stray, [], noLinks, 60 * S).ok).toBe(true);
    expect(checkCommands(input([], [], true), [{ ...stray[0]!, firstSeenAtMs: 60 * S }], [], noLinks, 60 * S).ok).toBe(true); // the run's tail
  });
});

describe("a person's commands", () => {
  const person = (device: string, refused?: PersonCommand["refused"]): PersonCommand => ({ atMs: 90 * S, device, action: "switch_off", reason: "test", ...(refused ? { refused } : {}) });
  const refusedAt = (code: string): PersonOutcome => ({ atMs: 90 * S, result: { ok: false, step: "select", code, message: `${code} because` } });
  const operated: PersonOutcome = { atMs: 90 * S, result: { ok: true, commandId: "c1" } };
  const judge = (p: PersonCommand, outcome: PersonOutcome | undefined, observed: CommandObservation[] = []) => checkCommands(input([], [p]), observed, [outcome], noLinks).persons[0]!;

  it("passes a refusal the scenario expects when nothing was sent to the device after it", () => {
    expect(judge(person("brk-fridge", "PROTECTED"), refusedAt("PROTECTED"))).toMatchObject({ ok: true });
    // A command of before the refusal is no sending of it.
    expect(judge(person("brk-fridge", "PROTECTED"), refusedAt("PROTECTED"), [seen("c0", "brk-fridge", "operator:a", "confirmed", 10 * S)]).ok).toBe(true);
  });

  it("fails a refusal with another code, none, a refusal that still let a command through, an unexpected refusal, and a command never given", () => {
    expect(judge(person("brk-fridge", "PROTECTED"), refusedAt("DEVICE_OFFLINE")).problem).toBe("refused DEVICE_OFFLINE at select, expected PROTECTED: DEVICE_OFFLINE because");
    expect(judge(person("brk-fridge", "PROTECTED"), operated).problem).toBe("not refused: command c1 was operated, expected PROTECTED");
    expect(judge(person("brk-fridge", "PROTECTED"), refusedAt("PROTECTED"), [seen("c2", "brk-fridge", "rule:x", "confirmed", 95 * S)]).problem).toBe("refused, yet c2 was sent to brk-fridge at +1m35s");
    expect(judge(person("brk-102"), refusedAt("BUSY")).problem).toBe("refused BUSY at select: BUSY because");
    expect(judge(person("brk-102"), undefined).problem).toBe("not given: the run ended first");
    expect(judge(person("brk-102"), operated).ok).toBe(true);
  });
});

describe("the command report", () => {
  it("says for each command what happened and when, each person's answer, the schedule met, and what nobody expected", () => {
    const report = checkCommands(
      input([off("brk-102", "person", "confirmed"), off("plug-101", "person", "confirmed")], [{ atMs: 90 * S, device: "brk-fridge", action: "switch_off", reason: "r", refused: "PROTECTED" }], true),
      [
        seen("c1", "brk-102", "operator:a", "confirmed", 31 * S),
        seen("c2", "plug-101", "operator:a", "timeout", 51 * S, { detail: "plug-101 did not report the commanded state within 3 s" }),
        seen("c3", "brk-103", "schedule:lights-out", "confirmed", 70 * S),
      ],
      [{ atMs: 90 * S, result: { ok: false, step: "select", code: "PROTECTED", message: "brk-fridge is protected" } }],
      noLinks,
      Infinity,
      { schedule: "lights-out", run: "2030-01-07 23:00 (Asia/Shanghai)", atMs: 60 * S },
    );
    expect(report.ok).toBe(false);
    expect(formatCommandReport(report, true).split("\n")).toEqual([
      "  ok   schedule lights-out ran at 2030-01-07 23:00 (Asia/Shanghai), +1m00s on the scenario's clock",
      "  ok   a person's switch_off on brk-fridge at +1m30s: refused PROTECTED, nothing sent",
      "  ok   switch_off on brk-102 by person: sent at +0m31s, confirmed at +0m32s",
      "  FAIL switch_off on plug-101 by person: sent at +0m51s, timeout at +0m52s (plug-101 did not report the commanded state within 3 s) — ended timeout, expected confirmed (plug-101 did not report the commanded state within 3 s)",
      "  FAIL unexpected switch_off on brk-103 by schedule:lights-out (confirmed), first seen at +1m10s",
      "",
    ]);
  });

  it("fails a run whose devices connected only after the schedule it meets", () => {
    const report = checkCommands(input([]), [], [], noLinks, Infinity, { schedule: "lights-out", run: "2030-01-07 23:00 (Asia/Shanghai)", atMs: -2 * S, problem: "the devices connected only after it" });
    expect(report.ok).toBe(false);
    expect(formatCommandReport(report, false)).toBe("  FAIL schedule lights-out ran at 2030-01-07 23:00 (Asia/Shanghai), -0m02s on the scenario's clock — the devices connected only after it\n");
  });
});
