// Schedules and the dormitory power rule in the alerts service (CONTRACT §10): the adapter around their pure
// cores (./scheduler.ts, ./power-rule.ts). Both give their orders to the command desk (../commands/desk.ts),
// which selects and operates each at once, refuses it exactly as it would a person's (a protected or offline
// device is refused and logged, never forced) and audits it like any other command.
import type { Alert } from "../../domain/alert.js";
import type { Campus } from "../../domain/campus.js";
import { nextRun } from "../../domain/campus/schedule-times.js";
import type { Command } from "../../domain/command.js";
import type { Logger } from "../../infra/logger.js";
import type { CommandOrder } from "../commands/book.js";
import type { CommandDesk } from "../commands/desk.js";
import type { AutomationState } from "../saved-state.js";
import { createPacer } from "./pacer.js";
import { emptyPowerRuleState, isHeldOff, type PowerRuleInput, step } from "./power-rule.js";
import { checkSchedules, describeRun, runOrders, type ScheduleCheck, type ScheduleClock, startSchedules } from "./scheduler.js";

/** The schedules' progress is saved at least this often, ms, so a restart after a crash lists what it missed. */
const SAVE_PROGRESS_MS = 60_000;

export interface AutomationOptions {
  campus: Campus;
  /** SCHEDULE_RATE: a schedule's commands per second, at most. */
  scheduleRate: number;
  /** Wall clock, epoch ms (tests inject one). */
  now: () => number;
  desk: Pick<CommandDesk, "order">;
  /** What an earlier run saved, if anything. */
  saved: AutomationState | undefined;
  /** The state changed: save it soon. */
  changed(): void;
  log: Logger;
}

export interface Automation {
  /** At the service's start: the schedule runs missed while it was down are logged, never run. */
  start(): void;
  /** The service's wall-clock tick. */
  tick(): void;
  /** An alert opened: the power rule may switch its room off. Returns that command's id (for the alert's `command_id`), or null. */
  alertOpened(alert: Alert): string | null;
  /** Every command change the desk announces (a person's switch-on releases a room the rule holds off). */
  commandChanged(command: Command): void;
  snapshot(): AutomationState;
  /** Stops; schedule orders still waiting their turn are dropped (and logged). */
  stop(): void;
}

export function createAutomation(o: AutomationOptions): Automation {
  const { campus, desk } = o;
  const scheduleLog = o.log.child({ part: "schedules" });
  const ruleLog = o.log.child({ part: "power-rule" });
  let clock: ScheduleClock | null = null;
  let savedUntil = o.saved?.schedules_checked_until ?? null;
  let power = o.saved?.power_rule ?? emptyPowerRuleState();

  const pacer = createPacer(o.scheduleRate, (order: CommandOrder) => {
    // A room the power rule holds off stays off until a person switches it on, whatever the schedule says.
    if (order.action === "switch_on" && isHeldOff(power, order.device)) {
      scheduleLog.info({ device: order.device, by: order.by }, `${order.by} leaves ${order.device} off: the dormitory power rule holds it off until an operator switches it on`);
      return;
    }
    desk.order(order);
  });

  /** Runs the power rule's core and carries out its orders; returns the id of the last command it sent. */
  const runPowerRule = (input: PowerRuleInput): string | null => {
    const result = step(campus, power, input, o.now());
    if (result.state !== power) {
      power = result.state;
      o.changed();
    }
    let sent: string | null = null;
    for (const effect of result.effects) {
      if (effect.type === "log") {
        ruleLog[effect.level]({ device: effect.device }, effect.message);
        continue;
      }
      const outcome = desk.order(effect.order);
      if (outcome.ok) sent = outcome.command.id;
      runPowerRule({ kind: "issued", device: effect.order.device, action: effect.order.action, result: outcome });
    }
    return sent;
  };

  const carryOut = (check: ScheduleCheck, whyMissed: string) => {
    clock = check.clock;
    if (check.clockWentBackMs !== undefined) {
      scheduleLog.warn({ backMs: check.clockWentBackMs }, `the wall clock went back ${Math.round(check.clockWentBackMs / 1000)} s: runs already done are not repeated; the others count from now on`);
    }
    for (const run of check.missed) {
      scheduleLog.warn({ schedule: run.schedule.id, at: new Date(run.at).toISOString() }, `schedule ${describeRun(run)} was missed: ${whyMissed}; it is not run late`);
    }
    for (const run of check.due) {
      const orders = runOrders(run);
      scheduleLog.info({ schedule: run.schedule.id, action: run.schedule.action, devices: orders.length }, `schedule ${describeRun(run)} runs: ${run.schedule.action} on ${orders.length} devices, at most ${o.scheduleRate} a second`);
      pacer.enqueue(orders);
    }
    const moved = savedUntil === null || check.clock.checkedUntil - savedUntil >= SAVE_PROGRESS_MS;
    if (check.due.length > 0 || check.missed.length > 0 || moved) {
      savedUntil = check.clock.checkedUntil;
      o.changed();
    }
  };

  return {
    start() {
      const now = o.now();
      carryOut(startSchedules(campus, savedUntil, now), "the alerts service was not running then");
      for (const site of campus.sites) {
        for (const schedule of site.schedules) {
          const next = nextRun(schedule, site.site.timezone, now, site.calendar);
          if (next) scheduleLog.info({ schedule: schedule.id, next: new Date(next.at).toISOString() }, `schedule ${describeRun({ ...next, site })} is next`);
        }
      }
    },
    tick() {
      if (clock !== null) carryOut(checkSchedules(campus, clock, o.now()), "the wall clock jumped, or the service was stalled, past it");
      runPowerRule({ kind: "tick" });
    },
    alertOpened: (alert) => runPowerRule({ kind: "opened", alert }),
    commandChanged: (command) => void runPowerRule({ kind: "command", command }),
    snapshot: () => ({ schedules_checked_until: clock?.checkedUntil ?? savedUntil, power_rule: power }),
    stop() {
      const dropped = pacer.stop();
      if (dropped.length > 0) scheduleLog.warn({ dropped: dropped.length }, `${dropped.length} schedule commands were not issued: the alerts service stopped`);
    },
  };
}
