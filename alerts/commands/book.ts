// The command desk's state (CONTRACT §10 remote switching), as one TypeBox schema: saved with the alert
// state (../saved-state.ts) so that a restart keeps every command, and checked when read. Its inputs,
// effects and settings are the seam of the pure core (./core.ts).
import { type Static, Type as T } from "@sinclair/typebox";
import type { Campus } from "../../domain/campus.js";
import { type Command, type CommandAction, type CommandRequest, type CommandResult, CommandSchema, type RelayReport } from "../../domain/command.js";
import type { StatusChange } from "../../domain/reading.js";

export const TrackedCommandSchema = T.Object({
  command: CommandSchema,
  /** The Shelly Gen2 RPC id it was sent with: the device's reply carries the same `id`. */
  rpc_id: T.Optional(T.Integer()),
  /** The alerts service restarted while it was selected or sent (its detail says so if it then runs out). */
  restarted: T.Optional(T.Boolean()),
});

export const CommandBookSchema = T.Object({
  /** Commands by id: the active ones and, for a while, the ended ones (an operate of those is EXPIRED, not NOT_FOUND). */
  commands: T.Record(T.String(), TrackedCommandSchema),
  /** device → the id of its selected or sent command: one at a time per device (BUSY). */
  active: T.Record(T.String(), T.String()),
  /** device → its last status (event time, epoch ms): DEVICE_OFFLINE. */
  statuses: T.Record(T.String(), T.Object({ online: T.Boolean(), ts: T.Number() })),
  /** Counter behind the command ids and the Shelly RPC ids (no randomness in the core). */
  seq: T.Integer({ minimum: 0 }),
});

export type TrackedCommand = Static<typeof TrackedCommandSchema>;
export type CommandBook = Static<typeof CommandBookSchema>;

export const emptyBook = (): CommandBook => ({ commands: {}, active: {}, statuses: {}, seq: 0 });

export interface CommandSettings {
  campus: Campus;
  /** CONTRACT §10: a selection expires after 30 s (SELECT_TIMEOUT_MS); tests shorten it. */
  selectTimeoutMs: number;
  /** COMMAND_TIMEOUT_S: a sent command the device has not confirmed by then ends `timeout`. */
  commandTimeoutMs: number;
}

/**
 * An automatic command: a schedule's (`by: schedule:{id}`) or a rule's (`by: rule:{rule id}`, with the
 * alert that made it switch). Selected and operated in one step, refused like a person's selection.
 */
export interface CommandOrder {
  device: string;
  action: CommandAction;
  reason: string;
  by: string;
  alert_id?: string;
}

/** What the core is fed. A relay report comes from the ingest, or from a native event or reading (./inputs.ts). */
export type CommandInput =
  | { kind: "start" }
  | { kind: "tick" }
  | { kind: "request"; request: CommandRequest }
  | { kind: "order"; order: CommandOrder }
  | { kind: "report"; report: RelayReport }
  | { kind: "status"; status: StatusChange };

/** Why a report changed nothing although it looked like an answer (counted and logged). */
export type IgnoredReason = "unknown-command" | "unknown-rpc-id" | "other-device" | "late" | "stale-request";

export type CommandEffect =
  /** Publish the device's command in its own format: QoS 1, never retained. */
  | { type: "send"; command: Command; topic: string; payload: string }
  /** Answer the API's request on campus/internal/command-result/{requestId}. */
  | { type: "answer"; requestId: string; step: CommandRequest["step"]; result: CommandResult }
  /** What became of an order: the sent command, or the refusal (logged; the issuer decides what next). */
  | { type: "issued"; order: CommandOrder; result: CommandResult }
  /** The command changed state at `at` (epoch ms): announce it, write it to InfluxDB, count it. */
  | { type: "change"; command: Command; at: number }
  | { type: "ignored"; reason: IgnoredReason; device: string; detail: string };

export interface CommandStep {
  book: CommandBook;
  effects: CommandEffect[];
}
