// A tiny driver for the pure command core: feeds inputs in order at a wall clock the test moves, keeps
// the book, collects the effects, and checks on every step that the book it was given was not mutated.
import { expect } from "vitest";
import { type CommandBook, type CommandEffect, type CommandInput, type CommandOrder, type CommandSettings, emptyBook } from "../../../alerts/commands/book.js";
import { step } from "../../../alerts/commands/core.js";
import { parseCampusText } from "../../../domain/campus.js";
import type { Campus } from "../../../domain/campus.js";
import type { Command, CommandAction, CommandResult, RelayReport } from "../../../domain/command.js";

export const COMMAND_CAMPUS_YAML = `
site: { id: s1, name: Test School, timezone: Asia/Shanghai }
buildings:
  - { id: dorm-1, name: Dormitory 1, kind: dormitory }
devices:
  - { id: brk-main, kind: breaker, building: dorm-1, rating_a: 63 }
  - { id: brk-101, kind: breaker, building: dorm-1, room: "101", parent: brk-main, rating_a: 16 }
  - { id: plug-101, kind: socket, building: dorm-1, room: "101", parent: brk-101, rating_a: 10, format: tasmota, source: tasmota_101 }
  - { id: shelly-102, kind: breaker, building: dorm-1, room: "102", parent: brk-main, rating_a: 16, format: shelly-gen2, source: shellyplus-102 }
  - { id: brk-pump-feeder, kind: breaker, building: dorm-1, parent: brk-main, rating_a: 32 }
  - { id: brk-fire-pump, kind: breaker, building: dorm-1, parent: brk-pump-feeder, rating_a: 25, protected: true }
  - { id: brk-fixed, kind: breaker, building: dorm-1, parent: brk-main, rating_a: 16, switchable: false }
  - { id: meter-1, kind: meter, building: dorm-1, parent: brk-main }
`;

export function commandCampus(): Campus {
  const parsed = parseCampusText(COMMAND_CAMPUS_YAML);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.campus;
}

export const SELECT_MS = 30_000;
export const TIMEOUT_MS = 15_000;
export const ALICE = "operator:alice000";
export const BOB = "operator:bob00000";

export class CommandHarness {
  readonly settings: CommandSettings;
  book: CommandBook;
  effects: CommandEffect[] = [];
  /** Wall clock handed to the core; tests move it by hand. */
  now = Date.parse("2030-01-01T08:00:00.000Z");
  private requests = 0;

  constructor(book: CommandBook = emptyBook(), campus: Campus = commandCampus()) {
    this.settings = { campus, selectTimeoutMs: SELECT_MS, commandTimeoutMs: TIMEOUT_MS };
    this.book = book;
  }

  feed(input: CommandInput): CommandEffect[] {
    const before = structuredClone(this.book);
    const result = step(this.settings, this.book, input, this.now);
    expect(this.book, "the core must not mutate the book it was given").toEqual(before);
    this.book = result.book;
    this.effects.push(...result.effects);
    return result.effects;
  }

  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  /** Sends a request and returns the core's answer to it. */
  private ask(request: Record<string, unknown>): CommandResult {
    const request_id = `r${++this.requests}`;
    const effects = this.feed({ kind: "request", request: { request_id, ...request } as never });
    const answer = effects.find((e) => e.type === "answer" && e.requestId === request_id);
    if (answer?.type !== "answer") throw new Error(`no answer to ${request_id}`);
    return answer.result;
  }

  select(device: string, action: CommandAction = "switch_off", by = ALICE, extra: Record<string, unknown> = {}): CommandResult {
    return this.ask({ step: "select", by, device, action, reason: "heater in room", ...extra });
  }

  operate(commandId: string, by = ALICE, extra: Record<string, unknown> = {}): CommandResult {
    return this.ask({ step: "operate", by, command_id: commandId, ...extra });
  }

  cancel(commandId: string, by = ALICE): CommandResult {
    return this.ask({ step: "cancel", by, command_id: commandId });
  }

  /** A schedule's or a rule's order; returns what became of it. */
  order(order: Partial<CommandOrder> & { device: string }): CommandResult {
    const effects = this.feed({ kind: "order", order: { action: "switch_off", reason: "lights out", by: "schedule:lights-out", ...order } });
    const issued = effects.filter((e) => e.type === "issued");
    expect(issued, "exactly one outcome per order").toHaveLength(1);
    return issued[0]!.type === "issued" ? issued[0]!.result : expect.unreachable();
  }

  /** Selects and operates; returns the sent command. */
  sent(device: string, action: CommandAction = "switch_off"): Command {
    const selected = this.select(device, action);
    if (!selected.ok) throw new Error(selected.message);
    const operated = this.operate(selected.command.id);
    if (!operated.ok) throw new Error(operated.message);
    return operated.command;
  }

  report(report: Partial<RelayReport> & { device: string }): CommandEffect[] {
    return this.feed({ kind: "report", report: { ts: this.now, on: null, explicit: false, ...report } });
  }

  status(device: string, online: boolean, ts = this.now): CommandEffect[] {
    return this.feed({ kind: "status", status: { device, ts, online } });
  }

  command(id: string): Command {
    return this.book.commands[id]!.command;
  }

  changes(): Command[] {
    return this.effects.flatMap((e) => (e.type === "change" ? [e.command] : []));
  }

  sends() {
    return this.effects.flatMap((e) => (e.type === "send" ? [e] : []));
  }

  ignored() {
    return this.effects.flatMap((e) => (e.type === "ignored" ? [e] : []));
  }
}

/** The refusal code of a result, or "ok". */
export const outcome = (result: CommandResult) => (result.ok ? "ok" : result.code);
