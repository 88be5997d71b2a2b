// The dormitory power rule (CONTRACT §10), pure, the wall clock given: a room's cut-off when its alert opens,
// the restore after `restore_after`, no more restores once the day's are used (the room stays off until a
// person switches it on), and fire-related rules never switch anything, whatever the campus says.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUSY_RETRY_MS, emptyPowerRuleState, isHeldOff, type PowerRuleEffect, type PowerRuleInput, type PowerRuleState, roomCircuit, step } from "../../../alerts/automation/power-rule.js";
import type { Alert } from "../../../domain/alert.js";
import { type Campus, parseCampusText } from "../../../domain/campus.js";
import { FIRE_RELATED_RULES, type PowerAction } from "../../../domain/campus-alerts.js";
import type { Command, CommandResult } from "../../../domain/command.js";

const parsed = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings:
  - { id: dorm-1, name: Dormitory 1, kind: dormitory }
  - { id: office-1, name: Office 1, kind: office }
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, rating_a: 63 }
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", parent: brk-main, rating_a: 16 }
  - { id: brk-102, kind: breaker, building: dorm-1, room: "102", parent: brk-main, rating_a: 16 }
  - { id: brk-103-fixed, kind: breaker, building: dorm-1, room: "103", parent: brk-main, rating_a: 16, switchable: false }
  - { id: brk-104, kind: breaker, building: dorm-1, room: "104", parent: brk-main, rating_a: 16 }
  - { id: brk-104-fixed, kind: breaker, building: dorm-1, room: "104", parent: brk-104, rating_a: 16, switchable: false }
  - { id: brk-office, kind: breaker, building: office-1, room: "201", rating_a: 16 }
alerts:
  building_kinds:
    dormitory:
      actions:
        malignant-load: { switch_off: true, restore_after: 5m, max_restores_per_day: 2 }
        power-limit: { switch_off: true }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const campus = parsed.campus;

/** 20:00 in Shanghai on 2030-01-07. */
const EVENING = Date.parse("2030-01-07T12:00:00Z");
const MIN = 60_000;

const alertOn = (device: string, rule: string, n = 1): Alert => ({
  id: `${device}.${rule}.${EVENING}.${n}`,
  rule,
  device,
  building: campus.deviceById.get(device)?.building ?? "dorm-1",
  site: "s",
  severity: "warning",
  state: "firing",
  value: 2000,
  threshold: 300,
  message: "a heater",
  started_at: new Date(EVENING).toISOString(),
  updated_at: new Date(EVENING).toISOString(),
});
const sent = (device: string, action: Command["action"], n: number, by = "rule:malignant-load"): CommandResult => ({
  ok: true,
  command: { id: `${device}.${action}.${n}`, device, site: "s", action, reason: "r", issued_by: by, state: "sent", selected_at: "", expires_at: "", building: "dorm-1" },
});
const confirmed = (device: string, action: Command["action"], by: string): Command => ({ ...(sent(device, action, 99, by) as { command: Command }).command, state: "confirmed" });

/** Drives the core; each order is answered as the command desk would (`answer`, default: sent). */
class Rule {
  state: PowerRuleState = emptyPowerRuleState();
  effects: PowerRuleEffect[] = [];
  now = EVENING;
  private n = 0;
  constructor(
    private readonly on: Campus = campus,
    private readonly answer: (order: { device: string; action: Command["action"] }) => CommandResult = (o) => sent(o.device, o.action, ++this.n),
  ) {}

  feed(input: PowerRuleInput): PowerRuleEffect[] {
    const before = structuredClone(this.state);
    const result = step(this.on, this.state, input, this.now);
    expect(this.state, "the core must not mutate the state it was given").toEqual(before);
    this.state = result.state;
    this.effects.push(...result.effects);
    for (const effect of result.effects) {
      if (effect.type === "order") this.feed({ kind: "issued", device: effect.order.device, action: effect.order.action, result: this.answer(effect.order) });
    }
    return result.effects;
  }
  at(ms: number): this {
    this.now = ms;
    return this;
  }
  orders() {
    return this.effects.flatMap((e) => (e.type === "order" ? [e.order] : []));
  }
}

describe("the dormitory power rule", () => {
  it("switches the room off when a malignant-load alert opens, by the rule, naming the alert", () => {
    const rule = new Rule();
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    expect(rule.orders()).toEqual([
      { device: "brk-101", action: "switch_off", by: "rule:malignant-load", alert_id: alertOn("brk-101", "malignant-load").id, reason: expect.stringMatching(/^malignant-load in room 101 .*back on after 300 s$/) },
    ]);
    expect(rule.state.circuits["brk-101"]).toEqual({ rule: "malignant-load", alert_id: alertOn("brk-101", "malignant-load").id, cut_at: EVENING, restore_at: EVENING + 5 * MIN, command_id: "brk-101.switch_off.1" });
  });

  it("switches it back on after restore_after, and counts the restore for the site-local day", () => {
    const rule = new Rule();
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    rule.at(EVENING + 5 * MIN - 1).feed({ kind: "tick" });
    expect(rule.orders()).toHaveLength(1);
    rule.at(EVENING + 5 * MIN).feed({ kind: "tick" });
    expect(rule.orders()[1]).toMatchObject({ device: "brk-101", action: "switch_on", by: "rule:malignant-load", alert_id: alertOn("brk-101", "malignant-load").id });
    expect(rule.state).toEqual({ circuits: {}, restores: { "brk-101": { day: "2030-01-07", count: 1 } } });
    rule.at(EVENING + 60 * MIN).feed({ kind: "tick" });
    expect(rule.orders()).toHaveLength(2);
  });

  it("restores at most max_restores_per_day times a day; the next cut-off stays off until a person switches it on", () => {
    const rule = new Rule();
    for (let i = 1; i <= 3; i++) {
      rule.at(EVENING + i * 10 * MIN).feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load", i) });
      rule.at(EVENING + i * 10 * MIN + 5 * MIN).feed({ kind: "tick" });
    }
    expect(rule.orders().map((o) => o.action)).toEqual(["switch_off", "switch_on", "switch_off", "switch_on", "switch_off"]);
    expect(rule.orders()[4]!.reason).toMatch(/off until an operator switches it on: restored 2 times today, at most 2$/);
    expect(isHeldOff(rule.state, "brk-101")).toBe(true);
    rule.at(EVENING + 3 * 60 * MIN).feed({ kind: "tick" });
    expect(rule.orders()).toHaveLength(5);
    // A schedule's switch-on is not a person's: still held (the scheduler does not even send it).
    rule.feed({ kind: "command", command: confirmed("brk-101", "switch_off", "schedule:lights-out") });
    expect(isHeldOff(rule.state, "brk-101")).toBe(true);
    rule.feed({ kind: "command", command: confirmed("brk-101", "switch_on", "operator:ab12cd34") });
    expect(isHeldOff(rule.state, "brk-101")).toBe(false);
    expect(rule.state.circuits).toEqual({});
  });

  it("restores again on the next site-local day", () => {
    const rule = new Rule();
    rule.state = { circuits: {}, restores: { "brk-101": { day: "2030-01-07", count: 2 } } };
    // 00:30 in Shanghai on the 8th.
    rule.at(Date.parse("2030-01-07T16:30:00Z")).feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    expect(rule.state.circuits["brk-101"]?.restore_at).toBe(Date.parse("2030-01-07T16:35:00Z"));
  });

  it("keeps a power-limit cut-off without restore_after off until a person switches it on", () => {
    const rule = new Rule();
    rule.feed({ kind: "opened", alert: alertOn("brk-102", "power-limit") });
    expect(rule.orders()[0]).toMatchObject({ device: "brk-102", by: "rule:power-limit", reason: expect.stringMatching(/off until an operator switches it on$/) });
    expect(isHeldOff(rule.state, "brk-102")).toBe(true);
  });

  it("cancels a planned restore when someone switches the room off meanwhile (a lights-out)", () => {
    const rule = new Rule();
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    rule.at(EVENING + MIN).feed({ kind: "command", command: confirmed("brk-101", "switch_off", "schedule:lights-out") });
    expect(rule.state.circuits).toEqual({});
    rule.at(EVENING + 10 * MIN).feed({ kind: "tick" });
    expect(rule.orders().map((o) => o.action)).toEqual(["switch_off"]);
  });

  it("tries a busy device again each tick for a minute, then gives up", () => {
    let busy = true;
    const rule = new Rule(campus, (o) => (busy ? { ok: false, code: "BUSY", message: "busy" } : sent(o.device, o.action, 7)));
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    rule.at(EVENING + 1_000).feed({ kind: "tick" });
    busy = false;
    rule.at(EVENING + 2_000).feed({ kind: "tick" });
    expect(rule.orders().map((o) => o.action)).toEqual(["switch_off", "switch_off", "switch_off"]);
    expect(rule.state.circuits["brk-101"]).toMatchObject({ command_id: "brk-101.switch_off.7", restore_at: EVENING + 5 * MIN });
    expect(rule.state.circuits["brk-101"]?.retry).toBeUndefined();

    const stuck = new Rule(campus, () => ({ ok: false, code: "BUSY", message: "busy" }));
    stuck.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    stuck.at(EVENING + BUSY_RETRY_MS + 1).feed({ kind: "tick" });
    expect(stuck.state.circuits).toEqual({});
    expect(stuck.effects.at(-1)).toMatchObject({ type: "log", level: "warn", message: expect.stringContaining("gives up its switch_off") });
  });

  it("leaves a room held off when its restore is refused (the device went offline)", () => {
    const rule = new Rule(campus, (o) => (o.action === "switch_on" ? { ok: false, code: "DEVICE_OFFLINE", message: "offline" } : sent(o.device, o.action, 1)));
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    rule.at(EVENING + 5 * MIN).feed({ kind: "tick" });
    expect(isHeldOff(rule.state, "brk-101")).toBe(true);
  });

  it("switches the nearest upstream device in the room when the alert's device has no relay, and nothing when the room has none", () => {
    expect(roomCircuit(campus, campus.deviceById.get("brk-104-fixed")!)?.id).toBe("brk-104");
    expect(roomCircuit(campus, campus.deviceById.get("brk-103-fixed")!)).toBeNull(); // brk-main is not in room 103
    const rule = new Rule();
    rule.feed({ kind: "opened", alert: alertOn("brk-103-fixed", "malignant-load") });
    expect(rule.orders()).toEqual([]);
    expect(rule.effects).toEqual([{ type: "log", level: "warn", device: "brk-103-fixed", message: "malignant-load on brk-103-fixed: no circuit with a relay in room 103 to switch off" }]);
  });

  it("does nothing for a building kind without actions, nor for a rule without one", () => {
    const rule = new Rule();
    rule.feed({ kind: "opened", alert: alertOn("brk-office", "malignant-load") });
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "overload") });
    expect(rule.effects).toEqual([]);
  });
});

describe("fire-related rules", () => {
  /** A campus built by hand (no file check) in which every rule of every building kind has a switching action. */
  function campusSwitchingEverything(action: PowerAction): Campus {
    const actions = Object.fromEntries(["malignant-load", "power-limit", "overload", ...FIRE_RELATED_RULES].map((rule) => [rule, action]));
    const buildingKinds = Object.fromEntries(["dormitory", "office"].map((kind) => [kind, { rules: {}, actions }]));
    // Its own site, as a parsed campus is (CONTRACT §9): the rule reads the actions of the device's site.
    const sites: Campus[] = [];
    const siteOfDevice = new Map<string, Campus>();
    const handBuilt: Campus = { ...campus, alerts: { ...campus.alerts, buildingKinds }, sites, siteOfDevice, siteOfBuilding: new Map() };
    sites.push(handBuilt);
    for (const device of campus.devices) siteOfDevice.set(device.id, handBuilt);
    return handBuilt;
  }

  it("never order a switch, whatever the campus says and whatever else happens", () => {
    const devices = campus.devices.map((d) => d.id);
    const input = fc.oneof(
      fc.record({ rule: fc.constantFrom(...FIRE_RELATED_RULES), device: fc.constantFrom(...devices), n: fc.nat(5) }).map(({ rule, device, n }): PowerRuleInput => ({ kind: "opened", alert: alertOn(device, rule, n) })),
      fc.constant<PowerRuleInput>({ kind: "tick" }),
      fc.record({ device: fc.constantFrom(...devices), on: fc.boolean(), by: fc.constantFrom("operator:ab12cd34", "schedule:x") }).map(({ device, on, by }): PowerRuleInput => ({ kind: "command", command: confirmed(device, on ? "switch_on" : "switch_off", by) })),
    );
    const action = fc.record({ restoreAfterMs: fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }), maxRestoresPerDay: fc.nat(5) });
    fc.assert(
      fc.property(action, fc.array(fc.tuple(input, fc.integer({ min: 0, max: 3_600_000 })), { maxLength: 30 }), (a, inputs) => {
        const rule = new Rule(campusSwitchingEverything(a));
        for (const [next, later] of inputs) rule.at(rule.now + later).feed(next);
        expect(rule.orders()).toEqual([]);
        expect(rule.state).toEqual(emptyPowerRuleState());
      }),
    );
  });

  it("while the same hand-built campus does switch for malignant-load (the property is not vacuous)", () => {
    const rule = new Rule(campusSwitchingEverything({ restoreAfterMs: null, maxRestoresPerDay: 0 }));
    rule.feed({ kind: "opened", alert: alertOn("brk-101", "malignant-load") });
    rule.feed({ kind: "opened", alert: alertOn("brk-102", "overload") });
    expect(rule.orders().map((o) => `${o.device} ${o.by}`)).toEqual(["brk-101 rule:malignant-load"]);
    // An office has an action only in the hand-built campus: its actions are the ones read.
    rule.feed({ kind: "opened", alert: alertOn("brk-office", "malignant-load") });
    expect(rule.orders().map((o) => o.device)).toContain("brk-office");
  });
});
