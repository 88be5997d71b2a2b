// The steps a person takes (CONTRACT §10), each answered with the command or a refusal: select (nothing
// is sent; refused NOT_FOUND, PROTECTED, NOT_SWITCHABLE, DEVICE_OFFLINE, BUSY), operate (only by who
// selected it, before it expires: then the device's own command goes out), cancel (a selection). A
// schedule's or a rule's order is selected and operated in one step, refused exactly like a person's. Pure.
import { type Command, type CommandRefusal, type CommandRequest, type CommandResult, switchRefusal } from "../../domain/command.js";
import { commandMessage } from "../../domain/formats/commands.js";
import type { CommandBook, CommandEffect, CommandOrder, CommandSettings, CommandStep, TrackedCommand } from "./book.js";
import { activeCommand, iso, put, runOut, seconds, transition } from "./lifecycle.js";

type Refusal = Extract<CommandResult, { ok: false }>;
const refusal = (code: CommandRefusal, message: string, devices?: string[]): Refusal => ({ ok: false, code, message, ...(devices ? { devices } : {}) });

export function onRequest(settings: CommandSettings, book: CommandBook, request: CommandRequest, now: number): CommandStep {
  // The person was told the service did not answer (503): nothing may happen on their behalf afterwards.
  // No grace: a clock here ahead of the API's refuses a request it could still have answered (the person
  // sees a refusal and tries again), one behind would act on a request the person was told failed.
  if (request.answer_by !== undefined && now > request.answer_by) {
    const late = `request ${request.request_id} (${request.step}) arrived ${seconds(now - request.answer_by)} after the API stopped waiting: not acted on`;
    return answer({ book, effects: [{ type: "ignored", reason: "stale-request", device: request.step === "select" ? request.device : "", detail: late }] }, request, refusal("EXPIRED", late));
  }
  if (request.step === "select") {
    // A person's command names no alert: only a rule's order carries `alert_id`.
    const selected = select(settings, book, { device: request.device, action: request.action, reason: request.reason, by: request.by }, now);
    return answer(selected.step, request, selected.result);
  }
  const tracked = book.commands[request.command_id];
  if (tracked === undefined) return answer({ book, effects: [] }, request, refusal("NOT_FOUND", `no command "${request.command_id}"`));
  // Someone else's command is refused before anything about its state is told.
  if (tracked.command.issued_by !== request.by) {
    return answer({ book, effects: [] }, request, refusal("NOT_SELECTOR", `command ${tracked.command.id} was selected by ${tracked.command.issued_by}: only they may ${request.step} it`));
  }
  const ranOut = runOut(settings, book, tracked, now);
  if (ranOut !== null) return answer(ranOut, request, refusal("EXPIRED", `command ${tracked.command.id} ${ranOut.book.commands[tracked.command.id]!.command.detail}`));
  if (tracked.command.state !== "selected") {
    return answer({ book, effects: [] }, request, refusal("EXPIRED", `command ${tracked.command.id} is ${tracked.command.state}: only a selection can be ${request.step === "operate" ? "operated, once" : "cancelled"}`));
  }
  if (request.step === "cancel") {
    const cancelled = transition(book, tracked, "cancelled", now, { detail: `cancelled by ${request.by} before it was operated: nothing was sent` });
    return answer(cancelled, request, { ok: true, command: cancelled.book.commands[tracked.command.id]!.command });
  }
  const operated = operate(settings, book, tracked, now);
  return answer(operated.step, request, operated.result);
}

/**
 * A schedule's or a rule's order (`by`: `schedule:{id}`, `rule:{rule id}`): selected and operated at once,
 * with every refusal of a person's select (a protected or offline device is refused, never forced). The
 * outcome comes as an `issued` effect, after the command's own effects.
 */
export function onOrder(settings: CommandSettings, book: CommandBook, order: CommandOrder, now: number): CommandStep {
  const selected = select(settings, book, order, now);
  if (!selected.result.ok) return issued(selected.step, order, selected.result);
  const operated = operate(settings, selected.step.book, selected.step.book.commands[selected.result.command.id]!, now);
  return issued({ book: operated.step.book, effects: [...selected.step.effects, ...operated.step.effects] }, order, operated.result);
}

type Outcome = { step: CommandStep; result: CommandResult };
const refused = (book: CommandBook, effects: CommandEffect[], result: Refusal): Outcome => ({ step: { book, effects }, result });

function select(settings: CommandSettings, book: CommandBook, request: CommandOrder, now: number): Outcome {
  const device = settings.campus.deviceById.get(request.device);
  if (device === undefined) return refused(book, [], refusal("NOT_FOUND", `no device "${request.device}"`));
  const guarded = switchRefusal(settings.campus, device.id);
  if (guarded !== null) return refused(book, [], refusal(guarded.code, guarded.message, guarded.devices));
  const offline = offlineRefusal(book, device.id);
  if (offline !== null) return refused(book, [], offline);
  const current = activeCommand(settings, book, device.id, now);
  if (current.tracked !== null) {
    const other = current.tracked.command;
    return refused(current.book, current.effects, refusal("BUSY", `${device.id} already has command ${other.id} (${other.action}, ${other.state} by ${other.issued_by}): one command per device at a time`));
  }
  const seq = current.book.seq + 1;
  const command: Command = {
    // URL-safe, unique per selection, and telling what it is: {device}.{action}.{epoch ms}.{n}
    id: `${device.id}.${request.action}.${now}.${seq}`,
    device: device.id,
    site: device.site, // CONTRACT §9: the device's own school, not the district's first
    action: request.action,
    reason: request.reason,
    issued_by: request.by,
    state: "selected",
    selected_at: iso(now),
    expires_at: iso(now + settings.selectTimeoutMs),
    building: device.building,
    room: device.room,
    ...(request.alert_id !== undefined ? { alert_id: request.alert_id } : {}),
  };
  const stored = put({ ...current.book, seq }, { command });
  return { step: { book: stored, effects: [...current.effects, { type: "change", command, at: now }] }, result: { ok: true, command } };
}

function operate(settings: CommandSettings, book: CommandBook, tracked: TrackedCommand, now: number): Outcome {
  const { command } = tracked;
  // The device may have gone offline since the selection: the selection stays (to be cancelled or to expire).
  const offline = offlineRefusal(book, command.device);
  if (offline !== null) return refused(book, [], offline);
  const device = settings.campus.deviceById.get(command.device)!;
  const rpcId = book.seq + 1;
  const sent = transition({ ...book, seq: rpcId }, { ...tracked, rpc_id: rpcId }, "sent", now, { sent_at: iso(now) });
  const sentCommand = sent.book.commands[command.id]!.command;
  const message = commandMessage(device, sentCommand, rpcId);
  // The state says `sent` before the message leaves (the adapter saves it first): a crash in between ends
  // the command `timeout` after the restart instead of losing a switch that happened.
  const effects: CommandEffect[] = [...sent.effects, { type: "send", command: sentCommand, topic: message.topic, payload: message.payload }];
  return { step: { book: sent.book, effects }, result: { ok: true, command: sentCommand } };
}

/** DEVICE_OFFLINE when the device's last status says offline (a device never heard of is not refused: its answer decides). */
function offlineRefusal(book: CommandBook, device: string): Refusal | null {
  const status = book.statuses[device];
  if (status === undefined || status.online) return null;
  return refusal("DEVICE_OFFLINE", `${device} is offline (since ${iso(status.ts)}): a command could not reach it`);
}

function issued(result: CommandStep, order: CommandOrder, outcome: CommandResult): CommandStep {
  return { book: result.book, effects: [...result.effects, { type: "issued", order, result: outcome }] };
}

function answer(result: CommandStep, request: CommandRequest, reply: CommandResult): CommandStep {
  return { book: result.book, effects: [...result.effects, { type: "answer", requestId: request.request_id, step: request.step, result: reply }] };
}
