// The schedules' and the power rule's adapter (alerts/automation/index.ts) with a desk that records the
// orders it is given and a clock the test sets: what is logged and ordered, without a broker.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createAutomation } from "../../../alerts/automation/index.js";
import { emptyPowerRuleState } from "../../../alerts/automation/power-rule.js";
import type { CommandOrder } from "../../../alerts/commands/book.js";
import type { AutomationState } from "../../../alerts/saved-state.js";
import type { Alert } from "../../../domain/alert.js";
import { parseCampusText } from "../../../domain/campus.js";
import type { CommandResult } from "../../../domain/command.js";
import { waitFor } from "../../helpers/wait.js";

const parsed = parseCampusText(`
site: { id: s, name: School, timezone: Asia/Shanghai }
buildings: [ { id: dorm-1, name: Dormitory 1, kind: dormitory } ]
devices:
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", rating_a: 16 }
  - { id: brk-102, kind: breaker, building: dorm-1, room: "102", rating_a: 16 }
schedules:
  - { id: power-on, name: Power on, action: switch_on, at: "06:00", days: [sun, mon, tue, wed, thu, fri, sat], devices: [brk-101, brk-102] }
alerts:
  building_kinds:
    dormitory: { actions: { malignant-load: { switch_off: true } } }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const campus = parsed.campus;
/** 06:00 in Shanghai on 2030-01-08. */
const SIX = Date.parse("2030-01-07T22:00:00Z");

function automation(saved: AutomationState | undefined, start: number) {
  const orders: CommandOrder[] = [];
  const logs: string[] = [];
  let now = start;
  let n = 0;
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(String((JSON.parse(chunk.toString()) as { msg: string }).msg)), done()) });
  const desk = {
    order(order: CommandOrder): CommandResult {
      orders.push(order);
      return { ok: true, command: { id: `c${++n}`, device: order.device, site: "s", action: order.action, reason: order.reason, issued_by: order.by, state: "sent", selected_at: "", expires_at: "", building: "dorm-1" } };
    },
  };
  const a = createAutomation({ campus, scheduleRate: 1_000, now: () => now, desk, saved, changed: () => undefined, log: pino({ level: "info" }, sink) });
  return { a, orders, logs, at: (ms: number) => (now = ms) };
}

describe("schedules and the power rule in the alerts service", () => {
  it("leaves a room the power rule holds off dark at a schedule's switch-on, and says so", async () => {
    const held = { ...emptyPowerRuleState(), circuits: { "brk-101": { rule: "malignant-load", alert_id: "a1", cut_at: SIX - 3_600_000, held: true } } };
    const { a, orders, logs, at } = automation({ schedules_checked_until: SIX - 1_000, power_rule: held }, SIX - 500);
    a.start();
    at(SIX + 200);
    a.tick();
    await waitFor(() => orders.length > 0, 2_000, { what: "the schedule's orders" });
    expect(orders.map((o) => `${o.device} ${o.action} ${o.by}`)).toEqual(["brk-102 switch_on schedule:power-on"]);
    expect(logs).toContain("schedule:power-on leaves brk-101 off: the dormitory power rule holds it off until an operator switches it on");
    a.stop();
  });

  it("logs the runs missed while it was down, and orders none of them", () => {
    const { a, orders, logs } = automation({ schedules_checked_until: SIX - 60_000, power_rule: emptyPowerRuleState() }, SIX + 3_600_000);
    a.start();
    expect(orders).toEqual([]);
    expect(logs).toContain("schedule power-on at 2030-01-08 06:00 (Asia/Shanghai) was missed: the alerts service was not running then; it is not run late");
    expect(a.snapshot().schedules_checked_until).toBe(SIX + 3_600_000);
  });

  it("returns the cut-off's command id when an alert switches its room, and null for a fire-related one", () => {
    const { a, orders } = automation(undefined, SIX);
    const alert = (rule: string): Alert => ({ id: `brk-102.${rule}.1.1`, rule, device: "brk-102", building: "dorm-1", site: "s", severity: "warning", state: "firing", value: 1, threshold: 1, message: "", started_at: "", updated_at: "" });
    expect(a.alertOpened(alert("malignant-load"))).toBe("c1");
    expect(a.alertOpened(alert("arc-fault"))).toBeNull();
    expect(orders).toEqual([expect.objectContaining({ device: "brk-102", action: "switch_off", by: "rule:malignant-load", alert_id: "brk-102.malignant-load.1.1" })]);
    expect(a.snapshot().power_rule.circuits["brk-102"]).toMatchObject({ command_id: "c1", held: true });
  });
});
