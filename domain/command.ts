// Remote switching (CONTRACT §10): the command object, the request the API sends the alerts service
// (which owns every command: one active instance decides, so "one command per device at a time" holds),
// the answer, and the pure checks of what may be switched at all. Shared by the alerts service, the API,
// the simulator and the dashboard's tests; no I/O here.
//
// Select-before-operate (IEC 61850 SBO with enhanced security, DNP3 select/operate): a person selects a
// command (nothing is sent), then operates it within SELECT_TIMEOUT_MS; only the device's own report
// makes it `confirmed` (never "the message was sent": ThingsBoard's switch widget showed the commanded
// state, its users' issues #15537 and #438).
import { type Static, Type as T } from "@sinclair/typebox";
import type { Device } from "./campus/device-schema.js";
import { literalUnion } from "./schema.js";

export const COMMAND_ACTIONS = ["switch_off", "switch_on"] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

/**
 * `selected` (nothing sent) → `sent` (operated: on the wire) → `confirmed` | `failed` | `timeout`;
 * a selection ends `cancelled` (DELETE) or `expired` (not operated within SELECT_TIMEOUT_MS).
 */
export const COMMAND_STATES = ["selected", "cancelled", "expired", "sent", "confirmed", "failed", "timeout"] as const;
export type CommandState = (typeof COMMAND_STATES)[number];
/** The states a command never leaves. */
export const FINAL_COMMAND_STATES: readonly CommandState[] = ["cancelled", "expired", "confirmed", "failed", "timeout"];
export const isFinal = (state: CommandState) => FINAL_COMMAND_STATES.includes(state);

/** CONTRACT §10: a selection expires after 30 s. */
export const SELECT_TIMEOUT_MS = 30_000;

const ISO = "ISO 8601 (UTC)";

export const CommandSchema = T.Object(
  {
    // CONTRACT §10
    id: T.String(),
    device: T.String(),
    site: T.String(),
    action: literalUnion(COMMAND_ACTIONS),
    reason: T.String(),
    issued_by: T.String({ description: "the person's name (an API token's `role:fingerprint` until named accounts exist), `schedule:{id}` or `rule:{rule id}`" }),
    state: literalUnion(COMMAND_STATES),
    selected_at: T.String({ description: ISO }),
    expires_at: T.String({ description: `${ISO}: a selection not operated by then is expired` }),
    sent_at: T.Optional(T.String({ description: ISO })),
    confirmed_at: T.Optional(T.String({ description: `${ISO}: when the device reported the commanded state` })),
    detail: T.Optional(T.String({ description: "why it failed, timed out, expired or was cancelled, in words" })),
    // Extensions
    building: T.String(),
    room: T.Optional(T.Union([T.String(), T.Null()])),
    ended_at: T.Optional(T.String({ description: `${ISO}: when it reached a final state` })),
    alert_id: T.Optional(T.String({ description: "the alert that made a rule switch (`issued_by: rule:…`)" })),
  },
  { $id: "Command", additionalProperties: true, description: "A remote switching command (CONTRACT §10)." },
);
export type Command = Static<typeof CommandSchema>;

/**
 * API → alerts on `campus/internal/command-request` (QoS 1): one step of select-before-operate on
 * behalf of `by` (the principal's name). The answer comes on `campus/internal/command-result/{request_id}`.
 */
const RequestIdSchema = T.String({ pattern: "^[\\w.-]{1,128}$" });
/**
 * Extension: when the API stops waiting for the answer, epoch ms. A request the alerts service reaches
 * later (it was busy or away) is refused, never acted on: nobody would learn that a switch it asked for
 * happened.
 */
const AnswerBySchema = T.Optional(T.Number({ description: "epoch ms: the asker stops waiting then; a request handled later is refused" }));

export const CommandRequestSchema = T.Union([
  T.Object({
    request_id: RequestIdSchema,
    answer_by: AnswerBySchema,
    step: T.Literal("select"),
    by: T.String({ minLength: 1 }),
    device: T.String(),
    action: literalUnion(COMMAND_ACTIONS),
    reason: T.String({ minLength: 1, maxLength: 500 }),
  }),
  T.Object({
    request_id: RequestIdSchema,
    answer_by: AnswerBySchema,
    step: literalUnion(["operate", "cancel"] as const),
    by: T.String({ minLength: 1 }),
    command_id: T.String(),
  }),
]);
export type CommandRequest = Static<typeof CommandRequestSchema>;

/**
 * Why a step was refused (CONTRACT §10; HTTP status in brackets): `NOT_FOUND` (404) an unknown device or
 * command; `PROTECTED` (409) the device or one downstream of it is protected; `NOT_SWITCHABLE` (409);
 * `DEVICE_OFFLINE` (409); `BUSY` (409) another command for the device is selected or sent; `EXPIRED`
 * (409) the selection is older than SELECT_TIMEOUT_MS, or already ended; `NOT_SELECTOR` (409) operated
 * or cancelled by someone else than who selected it; `INVALID` (400) a malformed request.
 */
export const COMMAND_REFUSALS = ["NOT_FOUND", "PROTECTED", "NOT_SWITCHABLE", "DEVICE_OFFLINE", "BUSY", "EXPIRED", "NOT_SELECTOR", "INVALID"] as const;
export type CommandRefusal = (typeof COMMAND_REFUSALS)[number];

export type CommandResult =
  | { ok: true; command: Command }
  | { ok: false; code: CommandRefusal; message: string; /** PROTECTED: the protected devices in the way. */ devices?: string[] };

/**
 * A relay's state as the device reported it, normalised by the ingest from the device's own format
 * (`campus/internal/relay/{device}`, QoS 1, not retained). `explicit`: an answer to a command (Tasmota
 * `stat/…/POWER|RESULT`, a Shelly Gen2 RPC reply, a native `switch` event naming the command), not a
 * periodic report: only an explicit answer can make a command `failed` by reporting the opposite state,
 * since a periodic report may have left the device before it acted. `on` is null when an answer carries
 * no state (a Shelly Gen2 RPC reply, result or error; a native `switch` or "command refused" event): it names
 * the command instead. `command_id` / `rpc_id` tie an explicit answer to its command.
 */
export const RelayReportSchema = T.Object({
  device: T.String(),
  ts: T.Number({ description: "event time, epoch ms" }),
  on: T.Union([T.Boolean(), T.Null()]),
  explicit: T.Boolean(),
  command_id: T.Optional(T.String()),
  rpc_id: T.Optional(T.Integer()),
  error: T.Optional(T.String()),
});
export type RelayReport = Static<typeof RelayReportSchema>;

/**
 * The electrical tree the checks below walk: a validated campus is one (`Campus`). Only the devices, so the
 * campus file's own checks (domain/campus/schedules.ts) can run them before the campus is assembled.
 */
export interface ElectricalTree {
  devices: readonly Device[];
  deviceById: ReadonlyMap<string, Device>;
}

/** The relay state a command asks for. */
export const targetState = (action: CommandAction): boolean => action === "switch_on";

/** Whether a device has a relay the product may drive: breakers and sockets unless `switchable: false`. */
export const hasRelay = (device: Device): boolean => device.switchable ?? (device.kind === "breaker" || device.kind === "socket");

/** The device and every device downstream of it in the electrical tree (`parent` links), device first. */
export function downstreamOf(campus: ElectricalTree, deviceId: string): Device[] {
  const children = new Map<string, Device[]>();
  for (const device of campus.devices) {
    if (device.parent === null) continue;
    const list = children.get(device.parent) ?? [];
    list.push(device);
    children.set(device.parent, list);
  }
  const root = campus.deviceById.get(deviceId);
  if (root === undefined) return [];
  const out: Device[] = [];
  const queue: Device[] = [root];
  while (queue.length > 0) {
    const device = queue.shift()!;
    out.push(device);
    queue.push(...(children.get(device.id) ?? []));
  }
  return out;
}

/**
 * Why a device can never be switched remotely, or null: `NOT_SWITCHABLE` (no relay: a meter, a detector,
 * `switchable: false`), `PROTECTED` (it, or anything it feeds, is `protected: true`: switching a feeder
 * off darkens its fire pump as surely as switching the pump's own breaker). Pure; the campus is validated.
 */
export function switchRefusal(campus: ElectricalTree, deviceId: string): { code: "NOT_SWITCHABLE" | "PROTECTED"; message: string; devices?: string[] } | null {
  const device = campus.deviceById.get(deviceId);
  if (device === undefined) return null;
  if (!hasRelay(device)) return { code: "NOT_SWITCHABLE", message: `${device.id} is a ${device.kind}${device.switchable === false ? " marked switchable: false" : ""}: it has no relay to switch` };
  const guarded = downstreamOf(campus, deviceId).filter((d) => d.protected === true);
  if (guarded.length === 0) return null;
  const ids = guarded.map((d) => d.id);
  const message = ids[0] === device.id ? `${device.id} is protected` : `${device.id} feeds protected ${ids.join(", ")}`;
  return { code: "PROTECTED", message: `${message}: it must stay on and cannot be switched remotely`, devices: ids };
}
