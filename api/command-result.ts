// The alerts service's answer to one step of a switching command (campus/internal/command-result/{id}):
// the command, or a refusal with its code (domain/command.ts CommandResult). Checked, since a service
// answering with something else must not be shown as a command.
import { Value } from "@sinclair/typebox/value";
import { CommandSchema } from "../domain/command.js";
import { parseJsonObject } from "../domain/internal-stream.js";
import type { AlertsServiceAnswer } from "./alerts-request.js";
import type { Command } from "../domain/command.js";

export function decodeCommandResult(payload: Buffer | string): AlertsServiceAnswer<{ command: Command }> {
  const body = parseJsonObject(payload);
  if (body?.ok === true && Value.Check(CommandSchema, body.command)) return { ok: true, command: body.command };
  if (body?.ok === false && typeof body.code === "string" && typeof body.message === "string") {
    const devices = Array.isArray(body.devices) && body.devices.every((d) => typeof d === "string") ? { devices: body.devices as string[] } : {};
    return { ok: false, code: body.code, message: body.message, ...devices };
  }
  return { ok: false, code: "INVALID_ANSWER", message: "the alerts service sent an unreadable answer" };
}
