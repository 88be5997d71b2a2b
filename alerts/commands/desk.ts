// The command desk: the alerts service's adapter around the pure command core (./core.ts). It feeds the
// core, keeps its book (saved with the alert state), and performs its effects in order: the device's
// command (QoS 1, never retained), the answer to the API, the announcement of every change on
// campus/internal/commands (QoS 1, not retained), the `command` point in InfluxDB, metrics and a log line.
// Schedules and rules give it orders (`order()`): the same core, the same refusals, the same audit.
import type { Command, CommandResult } from "../../domain/command.js";
import { toLine } from "../../domain/line-protocol.js";
import { internalTopic } from "../../domain/topics.js";
import type { Logger } from "../../infra/logger.js";
import type { EngineInput } from "../types.js";
import { type CommandBook, type CommandEffect, type CommandInput, type CommandOrder, type CommandSettings, emptyBook } from "./book.js";
import { step } from "./core.js";
import { decodeCommandMessage } from "./inputs.js";
import type { CommandMetrics } from "./metrics.js";
import { createStateOwner } from "../owned-map.js";

/**
 * One `command` point per change (CONTRACT §10): tags device, building, site, action, state; fields
 * command_id, issued_by, reason, detail; time = the change's. Extension fields (strings) carry the rest of
 * the command object, so the API rebuilds a command from its newest point alone.
 */
export function commandLine(command: Command, at: number): string {
  return toLine({
    measurement: "command",
    tags: { device: command.device, building: command.building, site: command.site, action: command.action, state: command.state },
    fields: {
      command_id: command.id,
      issued_by: command.issued_by,
      reason: command.reason,
      detail: command.detail,
      selected_at: command.selected_at,
      expires_at: command.expires_at,
      sent_at: command.sent_at,
      confirmed_at: command.confirmed_at,
      ended_at: command.ended_at,
      room: command.room ?? undefined,
      alert_id: command.alert_id,
    },
    ts: at,
  })!;
}

export interface CommandDeskOptions {
  settings: CommandSettings;
  /** The book an earlier run saved, if any. */
  saved: CommandBook | undefined;
  now: () => number;
  /** Publishes QoS 1 with the given retain flag (the service's MQTT client). */
  publish(topic: string, payload: string, retain: false): void;
  /** Queues an InfluxDB line (the alerts service's writer: the one batch writer behind it). */
  write(line: string): void;
  /** The book changed: save the state file soon. */
  changed(): void;
  /** Saves the state file now (before a device's command leaves). */
  saveNow(): Promise<void>;
  metrics: CommandMetrics;
  log: Logger;
  /** Told of every change of a command, once announced (the dormitory power rule watches its circuits). */
  onChange?(command: Command): void;
}

export interface CommandDesk {
  book(): CommandBook;
  run(input: CommandInput): void;
  /** A schedule's or a rule's order, selected and operated at once: the sent command, or the refusal (logged). */
  order(order: CommandOrder): CommandResult;
  /** A command request or relay report: true when the topic was one of them (handled or counted). */
  handle(topic: string, payload: Buffer, retained: boolean): boolean;
  /** What the rule engine was fed, as far as commands care (statuses). */
  observe(inputs: readonly EngineInput[]): void;
  /** Waits for the effects in progress (a save before a send). */
  settled(): Promise<void>;
}

export function createCommandDesk(o: CommandDeskOptions): CommandDesk {
  const { log, metrics } = o;
  let book = o.saved ?? emptyBook();
  let effectsDone: Promise<void> = Promise.resolve();
  /** Device commands, in order, each after the save that has it on disk as `sent`. */
  let sendsDone: Promise<void> = Promise.resolve();

  const gauges = () => {
    let sent = 0;
    let selected = 0;
    for (const id of Object.values(book.active)) {
      const state = book.commands[id]?.command.state;
      if (state === "sent") sent++;
      else if (state === "selected") selected++;
    }
    metrics.inFlight.set(sent);
    metrics.selected.set(selected);
  };

  const perform = async (effects: readonly CommandEffect[]) => {
    for (const effect of effects) {
      switch (effect.type) {
        case "send": {
          // The book says `sent` on disk before the device can act (./requests.ts operate). Only this
          // command waits for that save; the effects after it (answers, announcements, other commands)
          // go on, and several sends share one save (alerts/persistence.ts: group commit).
          const saved = o.saveNow();
          sendsDone = sendsDone
            .then(() => saved)
            .then(() => {
              o.publish(effect.topic, effect.payload, false);
              log.info({ command: effect.command.id, device: effect.command.device, topic: effect.topic }, "command sent to the device");
            })
            .catch((error: unknown) => log.error({ err: error, command: effect.command.id }, "could not send a command to its device"));
          break;
        }
        case "answer": {
          const { result } = effect;
          metrics.requests.inc({ step: effect.step, result: result.ok ? "ok" : result.code });
          o.publish(internalTopic.commandResult(effect.requestId), JSON.stringify(result), false);
          if (!result.ok) log.info({ request: effect.requestId, step: effect.step, code: result.code }, result.message);
          break;
        }
        case "change": {
          const { command } = effect;
          metrics.changes.inc({ action: command.action, state: command.state });
          o.publish(internalTopic.commands, JSON.stringify(command), false);
          o.write(commandLine(command, effect.at));
          const level = command.state === "failed" || command.state === "timeout" ? "warn" : "info";
          log[level]({ command: command.id, device: command.device, action: command.action, state: command.state, by: command.issued_by, ...(command.detail ? { detail: command.detail } : {}) }, `command ${command.state}`);
          o.onChange?.(command);
          break;
        }
        case "issued": {
          const { order, result } = effect;
          metrics.requests.inc({ step: "order", result: result.ok ? "ok" : result.code });
          if (!result.ok) log.warn({ device: order.device, action: order.action, by: order.by, code: result.code }, `${order.by} was refused: ${result.message}`);
          break;
        }
        case "ignored":
          metrics.ignored.inc({ reason: effect.reason });
          log.warn({ device: effect.device, reason: effect.reason }, effect.detail);
          break;
      }
    }
  };

  // The desk holds the only reference to its book: statuses are recorded in place (../owned-map.ts).
  const owner = createStateOwner();
  const run = (input: CommandInput): readonly CommandEffect[] => {
    const result = owner.run(() => step(o.settings, book, input, o.now()));
    if (result.book !== book) {
      book = result.book;
      o.changed();
      gauges();
    }
    if (result.effects.length === 0) return result.effects;
    // In order, one step after another: a send waits for its save, and nothing overtakes it.
    effectsDone = effectsDone.then(() => perform(result.effects)).catch((error: unknown) => log.error({ err: error }, "a command effect failed"));
    return result.effects;
  };

  gauges();
  return {
    book: () => book,
    run: (input) => void run(input),
    order(order) {
      // The core answers every order with exactly one `issued` effect (./requests.ts onOrder).
      for (const effect of run({ kind: "order", order })) if (effect.type === "issued") return effect.result;
      throw new Error(`the command core gave no outcome for ${order.by}'s order`);
    },
    handle(topic, payload, retained) {
      const decoded = decodeCommandMessage(topic, payload, retained);
      if (decoded === null) return false;
      if (decoded.ok) {
        run(decoded.input);
        return true;
      }
      metrics.invalid.inc({ kind: decoded.kind });
      log.warn({ topic, reason: decoded.reason }, "invalid command message skipped");
      if (decoded.requestId !== undefined) {
        const refusal = { ok: false, code: "INVALID", message: `not a command request: ${decoded.reason}` };
        effectsDone = effectsDone.then(() => o.publish(internalTopic.commandResult(decoded.requestId!), JSON.stringify(refusal), false));
      }
      return true;
    },
    observe(inputs) {
      // Statuses decide DEVICE_OFFLINE; the device's answers come as relay reports (handle()).
      for (const input of inputs) if (input.kind === "status") run({ kind: "status", status: input.status });
    },
    settled: () => effectsDone.then(() => sendsDone),
  };
}
