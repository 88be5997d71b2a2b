import { describe, expect, it } from "vitest";
import type { Severity } from "../../../domain/alert.js";
import { defaultRules } from "../../../alerts/rules/index.js";
import { ruleParams } from "../../../domain/rule-params.js";
import { defineRule, type EngineState, type Rule } from "../../../alerts/types.js";
import { alertLine } from "../../../alerts/writer.js";
import { Harness, s } from "./harness.js";

/**
 * Test-only rule on temperature_c: warning ≥ 50 °C, critical ≥ 80 °C, clears below 40 °C at once.
 * `latched` is the flag under test (domain.md §8: rules 1, 2, 11, 12-critical latch).
 */
function temperatureRule(options: { latched?: boolean; latchedAtCritical?: boolean } = {}): Rule {
  return defineRule({
    id: "test-temperature",
    latched: options.latched ?? false,
    params: ruleParams({}),
    appliesTo: () => true,
    initial: (): { hot: boolean } => ({ hot: false }),
    onReading(state, reading) {
      const t = reading.values.temperature_c;
      if (t === undefined) return { state };
      if (t >= 50) {
        const severity: Severity = t >= 80 ? "critical" : "warning";
        const latched = options.latchedAtCritical && severity === "critical" ? true : undefined;
        const breach = { severity, value: t, threshold: severity === "critical" ? 80 : 50, at: reading.ts, message: `${t} °C`, ...(latched ? { latched } : {}) };
        return { state: { hot: true }, verdict: { breach } };
      }
      if (t < 40 && state.hot) return { state: { hot: false }, verdict: { clear: { at: reading.ts } } };
      return { state };
    },
  });
}

const temp = (h: Harness, ts: number, t: number) => h.reading({ device: "brk-101", ts, values: { temperature_c: t } });
const ack = (h: Harness, alertId: string, requestId = "req-1", by = "operator:ab12") =>
  h.feed({ kind: "ack", request: { alert_id: alertId, by, request_id: requestId } });

describe("alert lifecycle", () => {
  it("acknowledges an open alert and replies with it", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    const id = h.open("overload")[0]!.id;
    h.wall = Date.parse("2030-01-01T00:05:00.000Z");
    const effects = ack(h, id);
    expect(effects).toHaveLength(2);
    const [changed, reply] = effects;
    expect(changed).toMatchObject({ type: "alert", change: "acknowledged", alert: { id, state: "acknowledged", acknowledged_by: "operator:ab12" } });
    expect(changed?.type === "alert" && changed.alert.updated_at).toBe("2030-01-01T00:05:00.000Z");
    expect(reply).toMatchObject({ type: "ack-result", requestId: "req-1", reply: { ok: true, alert: { id, state: "acknowledged" } } });
    expect(h.open("overload")[0]?.state).toBe("acknowledged");
  });

  it("resolves an acknowledged alert when its condition clears, keeping who acknowledged it", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    ack(h, h.open("overload")[0]!.id);
    h.hold("brk-101", 65, 185, 5);
    const last = h.alertChanges("overload").at(-1)!;
    expect(last.alert).toMatchObject({ state: "resolved", acknowledged_by: "operator:ab12" });
  });

  it("answers NOT_FOUND for an unknown or already resolved alert", () => {
    const h = new Harness();
    expect(ack(h, "nope")).toEqual([{ type: "ack-result", requestId: "req-1", reply: { ok: false, code: "NOT_FOUND", message: 'no open alert with id "nope"' } }]);
    h.hold("brk-101", 0, 60, 17);
    const id = h.open("overload")[0]!.id;
    h.hold("brk-101", 65, 185, 5);
    expect(ack(h, id, "req-2")[0]).toMatchObject({ reply: { ok: false, code: "NOT_FOUND" } });
  });

  it("treats a second acknowledgement as a no-op that still gets a reply", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    const id = h.open("overload")[0]!.id;
    ack(h, id, "req-1", "operator:first");
    const again = ack(h, id, "req-2", "operator:second");
    expect(again).toEqual([{ type: "ack-result", requestId: "req-2", reply: { ok: true, alert: expect.objectContaining({ acknowledged_by: "operator:first" }) } }]);
  });

  it("keeps a latched alert firing after its condition clears until someone acknowledges it", () => {
    const h = new Harness([temperatureRule({ latched: true })]);
    temp(h, s(0), 60);
    temp(h, s(10), 20); // cleared
    expect(h.open()[0]).toMatchObject({ state: "firing" });
    const effects = ack(h, h.open()[0]!.id);
    // One change only: acknowledged and resolved at the same instant.
    expect(effects[0]).toMatchObject({ type: "alert", change: "resolved", alert: { state: "resolved", acknowledged_by: "operator:ab12" } });
    expect(effects[1]).toMatchObject({ type: "ack-result", reply: { ok: true, alert: { state: "resolved" } } });
    expect(h.open()).toHaveLength(0);
  });

  it("resolves a latched alert acknowledged during the breach only once the condition clears", () => {
    const h = new Harness([temperatureRule({ latched: true })]);
    temp(h, s(0), 60);
    ack(h, h.open()[0]!.id);
    expect(h.open()[0]?.state).toBe("acknowledged");
    temp(h, s(10), 20);
    expect(h.open()).toHaveLength(0);
  });

  it("keeps the same latched alert when the condition returns before the acknowledgement", () => {
    const h = new Harness([temperatureRule({ latched: true })]);
    temp(h, s(0), 60);
    temp(h, s(10), 20);
    temp(h, s(20), 65);
    expect(h.alertChanges().map((c) => c.change)).toEqual(["opened", "updated"]);
    ack(h, h.open()[0]!.id);
    expect(h.open()[0]?.state).toBe("acknowledged"); // the condition holds again: not resolved yet
  });

  it("latches from the stage that asks for it (overtemperature latches only at critical)", () => {
    const h = new Harness([temperatureRule({ latchedAtCritical: true })]);
    temp(h, s(0), 60);
    temp(h, s(10), 20);
    expect(h.open()).toHaveLength(0); // warning stage: auto-resolves
    temp(h, s(20), 90);
    temp(h, s(30), 20);
    expect(h.open()[0]).toMatchObject({ severity: "critical", state: "firing" });
  });

  it("escalates the severity of the same alert instead of opening another", () => {
    const h = new Harness([temperatureRule()]);
    temp(h, s(0), 60);
    temp(h, s(10), 85);
    temp(h, s(20), 60); // back to the lower stage: the incident keeps its worst severity
    const changes = h.alertChanges();
    expect(changes.map((c) => c.change)).toEqual(["opened", "escalated", "updated"]);
    expect(new Set(changes.map((c) => c.alert.id)).size).toBe(1);
    expect(changes.map((c) => c.alert.severity)).toEqual(["warning", "critical", "critical"]);
  });

  it("asks for a new acknowledgement when an acknowledged alert escalates", () => {
    const h = new Harness([temperatureRule()]);
    temp(h, s(0), 60);
    ack(h, h.open()[0]!.id);
    temp(h, s(10), 85);
    expect(h.open()[0]).toMatchObject({ state: "firing", severity: "critical" });
    expect(h.open()[0]?.acknowledged_by).toBeUndefined();
  });
});

describe("the acknowledgement note", () => {
  const ackWithNote = (h: Harness, alertId: string, note: string, requestId = "req-n") =>
    h.feed({ kind: "ack", request: { alert_id: alertId, by: "operator:ab12", note, request_id: requestId } });

  it("keeps the note on the acknowledged alert, its reply and the acknowledged point", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    const id = h.open("overload")[0]!.id;
    const [changed, reply] = ackWithNote(h, id, 'breaker checked, "kettle" unplugged');
    expect(changed).toMatchObject({ type: "alert", change: "acknowledged", byAck: true, alert: { ack_note: 'breaker checked, "kettle" unplugged' } });
    expect(reply).toMatchObject({ reply: { ok: true, alert: { ack_note: 'breaker checked, "kettle" unplugged' } } });
    expect(h.open("overload")[0]?.ack_note).toBe('breaker checked, "kettle" unplugged');
    if (changed?.type !== "alert") throw new Error("expected an alert change");
    expect(alertLine(changed.alert, changed.at, changed.byAck)).toContain('ack_note="breaker checked, \\"kettle\\" unplugged"');
  });

  it("writes the note only on the change the acknowledgement made, not on the later resolution", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    ackWithNote(h, h.open("overload")[0]!.id, "on it");
    h.hold("brk-101", 65, 185, 5);
    const resolved = h.alertChanges("overload").at(-1)!;
    expect(resolved).toMatchObject({ change: "resolved", alert: { ack_note: "on it" } });
    expect(resolved.byAck).toBeUndefined();
    expect(alertLine(resolved.alert, resolved.at, resolved.byAck)).not.toContain("ack_note");
  });

  it("carries the note into a latched alert the acknowledgement resolves at once", () => {
    const h = new Harness([temperatureRule({ latched: true })]);
    temp(h, s(0), 60);
    temp(h, s(10), 20);
    const [changed] = ackWithNote(h, h.open()[0]!.id, "reset by hand");
    expect(changed).toMatchObject({ change: "resolved", byAck: true, alert: { ack_note: "reset by hand" } });
    // The point says who acknowledged it, though the alert never was in the acknowledged state (the monthly report counts it).
    if (changed?.type !== "alert") throw new Error("expected an alert change");
    expect(alertLine(changed.alert, changed.at, changed.byAck)).toContain('acknowledged_by="operator:ab12"');
  });

  it("says who acknowledged on the acknowledged point only, with or without a note", () => {
    const h = new Harness([temperatureRule({ latched: true })]);
    temp(h, s(0), 60);
    temp(h, s(10), 20);
    const [changed] = ack(h, h.open()[0]!.id);
    if (changed?.type !== "alert") throw new Error("expected an alert change");
    expect(changed).toMatchObject({ change: "resolved", byAck: true });
    expect(alertLine(changed.alert, changed.at, changed.byAck)).toMatch(/acknowledged_by="[^"]+"/);
    expect(alertLine(changed.alert, changed.at, false)).not.toContain("acknowledged_by");
  });

  it("has no note without one, and drops it when the alert escalates", () => {
    const h = new Harness([temperatureRule()]);
    temp(h, s(0), 60);
    const [plain] = ack(h, h.open()[0]!.id);
    expect(plain?.type === "alert" && "ack_note" in plain.alert).toBe(false);
    const other = new Harness([temperatureRule()]);
    temp(other, s(0), 60);
    ackWithNote(other, other.open()[0]!.id, "seen");
    temp(other, s(10), 85);
    expect(other.open()[0]).toMatchObject({ state: "firing", severity: "critical" });
    expect(other.open()[0]?.ack_note).toBeUndefined();
  });
});

describe("engine state", () => {
  const roundTrip = (state: EngineState): EngineState => JSON.parse(JSON.stringify(state)) as EngineState;

  it("round-trips through JSON in the middle of an on-delay", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 40, 17);
    const resumed = new Harness(defaultRules(), roundTrip(h.state));
    resumed.hold("brk-101", 45, 60, 17);
    expect(resumed.open("overload")).toHaveLength(1);
  });

  it("round-trips an open alert: the continuing breach updates it and never opens a second", () => {
    const h = new Harness();
    h.hold("brk-101", 0, 60, 17);
    const before = h.open("overload")[0]!;
    const resumed = new Harness(defaultRules(), roundTrip(h.state));
    resumed.feed({ kind: "start" });
    resumed.hold("brk-101", 0, 60, 17); // the broker's retained and redelivered copies
    resumed.hold("brk-101", 65, 120, 18);
    expect(resumed.alertChanges("overload").map((c) => c.change)).toEqual(["updated"]);
    expect(resumed.open("overload")).toEqual([expect.objectContaining({ id: before.id, value: 18 })]);
    expect(ack(resumed, before.id)[1]).toMatchObject({ reply: { ok: true } });
  });

  it("never mutates the state it is given", () => {
    const h = new Harness();
    const deepFreeze = (value: unknown): void => {
      if (typeof value !== "object" || value === null) return;
      Object.freeze(value);
      Object.values(value).forEach(deepFreeze);
    };
    h.feed({ kind: "start" });
    deepFreeze(h.state);
    expect(() => {
      h.hold("brk-101", 0, 60, 17);
      deepFreeze(h.state);
      ack(h, h.open("overload")[0]!.id);
      deepFreeze(h.state);
      h.wall += 60_000;
      h.feed({ kind: "tick" });
    }).not.toThrow();
    expect(h.open()).not.toHaveLength(0);
  });

  it("returns the very same state when a message changes nothing", () => {
    const h = new Harness();
    const before = h.state;
    h.current("brk-unknown", s(0), 99);
    h.feed({ kind: "tick" });
    expect(h.state).toBe(before);
  });
});
