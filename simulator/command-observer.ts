// `scenario run --check` watches what the alerts service announces on `campus/internal/commands` (every
// change of a command's state, the whole command object: CONTRACT §10, docs/architecture.md) and places
// each command's sending and ending on the scenario's clock. Pure: messages and clock readings in,
// observations out; the MQTT subscription is the caller's (scenario-run.ts).
import { Value } from "@sinclair/typebox/value";
import { type CommandAction, CommandSchema, type CommandState, isFinal } from "../domain/command.js";
import { parseJsonObject } from "../domain/internal-stream.js";
import { internalTopic } from "../domain/topics.js";

/** One command as the run saw it; times are event ms from the scenario's start. */
export interface CommandObservation {
  id: string;
  device: string;
  action: CommandAction;
  issuedBy: string;
  /** The alert a rule's command came of. */
  alertId?: string;
  /** The latest state announced. */
  state: CommandState;
  /** Why it ended as it did, in the alerts service's words. */
  detail?: string;
  firstSeenAtMs: number;
  /** When `sent` was announced (null: never sent). */
  sentAtMs: number | null;
  /** When a final state was announced (null: not ended yet). */
  endedAtMs: number | null;
}

export interface CommandObserver {
  /** One message on `campus/internal/commands`, arrived when the scenario clock read `arrivedMs` (event time, epoch ms). */
  observe(message: { topic: string; payload: Buffer | string }, arrivedMs: number): void;
  /** Sets the event time the scenario starts at; observations are measured from it. */
  startAt(startMs: number): void;
  /** Every command seen so far, in the order first seen. */
  observations(): CommandObservation[];
  /** Messages on the topic that were not a command object (skipped). */
  readonly malformed: number;
}

interface Seen extends Omit<CommandObservation, "firstSeenAtMs" | "sentAtMs" | "endedAtMs"> {
  /** Event time, epoch ms. */
  firstSeen: number;
  sent: number | null;
  ended: number | null;
}

/**
 * Commands are placed at the scenario clock when their announcement arrives: their own times
 * (`sent_at`, `ended_at`) are the alerts service's wall clock, far ahead of the scenario's at a speed
 * above 1×. A final state is never undone by a late copy of an earlier one.
 */
export function createCommandObserver(startMs: number): CommandObserver {
  let start = startMs;
  const seen = new Map<string, Seen>();
  let malformed = 0;
  return {
    observe({ topic, payload }, arrivedMs) {
      if (topic !== internalTopic.commands) return;
      const command = parseJsonObject(payload);
      if (!Value.Check(CommandSchema, command)) {
        malformed++;
        return;
      }
      const known = seen.get(command.id);
      if (known !== undefined && isFinal(known.state)) return;
      const entry: Seen = known ?? { id: command.id, device: command.device, action: command.action, issuedBy: command.issued_by, state: command.state, firstSeen: arrivedMs, sent: null, ended: null };
      entry.state = command.state;
      if (command.alert_id !== undefined) entry.alertId = command.alert_id;
      if (command.detail !== undefined) entry.detail = command.detail;
      // An order is selected and operated in one step: its `sent` may be the first change that arrives.
      if (entry.sent === null && (command.state === "sent" || command.sent_at !== undefined)) entry.sent = arrivedMs;
      if (isFinal(command.state)) entry.ended = arrivedMs;
      seen.set(command.id, entry);
    },
    startAt(startMs) {
      start = startMs;
    },
    observations: () =>
      [...seen.values()].map(({ firstSeen, sent, ended, ...rest }) => ({
        ...rest,
        firstSeenAtMs: firstSeen - start,
        sentAtMs: sent === null ? null : sent - start,
        endedAtMs: ended === null ? null : ended - start,
      })),
    get malformed() {
      return malformed;
    },
  };
}
