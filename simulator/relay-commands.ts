// What a simulated device makes of a message on its command topic, in its own format (the device's side
// of CONTRACT §10 "On the wire"; the product's side is domain/formats/commands.ts), and what it then does:
// obey at once, take its time, refuse or ignore, as a `command` fault says (faults.ts). Pure.
import { Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { DeviceFormat } from "../domain/campus.js";
import { CommandSchema } from "../domain/command.js";
import { isJsonObject, type JsonObject } from "../domain/json-object.js";
import type { Fault } from "./faults.js";

/** What a command asks of the relay: a state, a toggle, or only to be told the state (Tasmota's empty `POWER`). */
export type RelayIntent = "on" | "off" | "toggle" | "query";

/** A Shelly Gen2 request's return address: its `id`, and its `src` (the answer goes to `<src>/rpc`). */
export interface RpcAddress {
  id: number | string;
  src: string;
}

export interface RelayRequest {
  intent: RelayIntent;
  /** native: the command's id, which the device names in its answer. */
  commandId?: string;
  /** native: the command is void from this instant on, epoch ms (`expires_at`). */
  expiresAtMs?: number;
  /** shelly-gen2: where the answer goes. */
  rpc?: RpcAddress;
}

/** A Shelly Gen2 RPC error the device answers an unusable request with. */
export interface RpcError {
  rpc: RpcAddress;
  code: number;
  message: string;
}

export type ParsedCommand = { ok: true; request: RelayRequest } | { ok: false; reason: string; rpcError?: RpcError };

/** The native command of CONTRACT §3 as the product sends it (domain/formats/commands.ts). */
const NativeCommandSchema = T.Pick(CommandSchema, ["id", "action", "issued_by", "expires_at"]);

// Shelly Gen2 RPC error codes (shelly-api-docs.shelly.cloud/gen2 General/CommonDefinitions): -103 invalid
// argument, -105 not found; an unknown method is answered 404 "No handler for <method>".
const RPC_INVALID_ARGUMENT = -103;
const RPC_NOT_FOUND = -105;
const RPC_NO_HANDLER = 404;
/** The code a refusing Gen2 device answers with (the shared table of issue 11). */
export const RPC_REFUSED = RPC_INVALID_ARGUMENT;

/** Tasmota `POWER` payloads (tasmota docs, Commands: 0/off/false, 1/on/true, 2/toggle; empty asks the state). */
const TASMOTA_POWER: Record<string, RelayIntent> = { "": "query", "0": "off", OFF: "off", FALSE: "off", "1": "on", ON: "on", TRUE: "on", "2": "toggle", TOGGLE: "toggle" };
/** Shelly Gen1 `relay/0/command` payloads (shelly-api-docs Gen1 MQTT). */
const GEN1_COMMAND: Record<string, RelayIntent> = { on: "on", off: "off", toggle: "toggle" };
/** Zigbee2MQTT `set` `state` values (any case: zigbee-herdsman-converters lowers them). */
const Z2M_STATE: Record<string, RelayIntent> = { on: "on", off: "off", toggle: "toggle" };

const invalid = (reason: string): ParsedCommand => ({ ok: false, reason });

/** Reads a command payload the way a real device of `format` does. */
export function parseCommand(format: DeviceFormat, payload: string): ParsedCommand {
  switch (format) {
    case "native": {
      const body = parseJson(payload);
      if (!Value.Check(NativeCommandSchema, body)) return invalid("not a command of CONTRACT §3");
      const expiresAtMs = Date.parse(body.expires_at);
      if (Number.isNaN(expiresAtMs)) return invalid(`expires_at "${body.expires_at.slice(0, 40)}" is not a time`);
      return { ok: true, request: { intent: body.action === "switch_on" ? "on" : "off", commandId: body.id, expiresAtMs } };
    }
    case "tasmota": {
      const intent = TASMOTA_POWER[payload.trim().toUpperCase()];
      return intent ? { ok: true, request: { intent } } : invalid(`POWER ${payload.slice(0, 20)} is not a power state`);
    }
    case "shelly-gen1": {
      const intent = GEN1_COMMAND[payload.trim()];
      return intent ? { ok: true, request: { intent } } : invalid(`"${payload.slice(0, 20)}" is not on, off or toggle`);
    }
    case "shelly-gen2":
      return parseRpc(payload);
    case "zigbee2mqtt": {
      const body = parseJson(payload);
      const state = isJsonObject(body) && typeof body.state === "string" ? Z2M_STATE[body.state.toLowerCase()] : undefined;
      return state ? { ok: true, request: { intent: state } } : invalid("no state ON, OFF or TOGGLE to set");
    }
  }
}

/** A Gen2 `Switch.Set` / `Switch.Toggle` request; one without `id` or `src` cannot be answered and is dropped. */
function parseRpc(payload: string): ParsedCommand {
  const body = parseJson(payload);
  if (!isJsonObject(body)) return invalid("not a JSON RPC frame");
  const { id, src, method } = body;
  if ((typeof id !== "number" && typeof id !== "string") || typeof src !== "string" || src === "") return invalid("an RPC frame without id or src cannot be answered");
  const rpc = { id, src };
  const params: JsonObject = isJsonObject(body.params) ? body.params : {};
  const fail = (code: number, message: string): ParsedCommand => ({ ok: false, reason: message, rpcError: { rpc, code, message } });
  if (method !== "Switch.Set" && method !== "Switch.Toggle") return fail(RPC_NO_HANDLER, `No handler for ${String(method).slice(0, 40)}`);
  if (params.id !== 0) return fail(RPC_NOT_FOUND, `Argument 'id', value ${JSON.stringify(params.id ?? null)} not found!`);
  if (method === "Switch.Toggle") return { ok: true, request: { intent: "toggle", rpc } };
  if (typeof params.on !== "boolean") return fail(RPC_INVALID_ARGUMENT, "Missing required argument 'on'!");
  return { ok: true, request: { intent: params.on ? "on" : "off", rpc } };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** How a receipt ended, as counted (`campus_power_sim_commands_total{outcome}`) and logged. */
export type CommandOutcome = "obeyed" | "delayed" | "refused" | "ignored" | "expired" | "invalid";

/** What the device does about a command, and when (event ms after it arrived). */
export type DeviceAction =
  | { kind: "switch"; request: RelayRequest; afterMs: number }
  | { kind: "refuse"; request: RelayRequest; why: string; afterMs: 0 }
  | { kind: "reject"; error: RpcError; afterMs: 0 };

export interface Decision {
  outcome: CommandOutcome;
  /** Absent: nothing happens at all (no answer, no change). */
  action?: DeviceAction;
  /** Why it did not simply obey, in words (for the log). */
  reason?: string;
}

/**
 * What a device does with a command it read at `deviceClockMs` (its own clock: event time plus any
 * skew), given the `command` fault holding then (null: none). A native command past its `expires_at`
 * is ignored (it waited too long somewhere; CONTRACT §3); an unusable Gen2 request gets its RPC error,
 * as a real Shelly answers it, whatever the fault.
 */
export function decideCommand(parsed: ParsedCommand, fault: Fault | null, deviceClockMs: number): Decision {
  if (!parsed.ok) {
    return parsed.rpcError ? { outcome: "invalid", action: { kind: "reject", error: parsed.rpcError, afterMs: 0 }, reason: parsed.reason } : { outcome: "invalid", reason: parsed.reason };
  }
  const { request } = parsed;
  if (request.expiresAtMs !== undefined && deviceClockMs > request.expiresAtMs) {
    return { outcome: "expired", reason: `expired at ${new Date(request.expiresAtMs).toISOString()}` };
  }
  switch (fault?.behaviour) {
    case "ignore":
      return { outcome: "ignored", reason: "set to ignore commands" };
    case "refuse":
      return { outcome: "refused", action: { kind: "refuse", request, why: "set to refuse commands", afterMs: 0 }, reason: "set to refuse commands" };
    case "slow":
      return { outcome: "delayed", action: { kind: "switch", request, afterMs: fault!.value }, reason: `set to act ${fault!.value} ms late` };
    default:
      return { outcome: "obeyed", action: { kind: "switch", request, afterMs: 0 } };
  }
}
