// What feeds the command core from the internal topics (docs/architecture.md): the API's requests and
// the ingest's relay reports (domain/command.ts RelayReport: every format's answers and periodic relay
// states, a native `switch` / `fault` event naming a command and a reading's `switch_on` included). The
// statuses come with the rule engine's inputs (./desk.ts observe). Pure.
import { Value } from "@sinclair/typebox/value";
import { CommandRequestSchema } from "../../domain/command.js";
import { decodeInternalMessage, parseJsonObject } from "../../domain/internal-stream.js";
import { INTERNAL_FILTERS, internalTopic, parseInternalTopic } from "../../domain/topics.js";
import type { CommandInput } from "./book.js";

/** The topics the core needs besides the rule engine's. Requests at QoS 0: see ../index.ts. */
export const COMMAND_INPUT_FILTERS = { requests: internalTopic.commandRequest, relays: INTERNAL_FILTERS.relays } as const;

export type DecodedCommandInput =
  | { ok: true; input: CommandInput }
  /** `requestId`: a malformed request that can still be answered (INVALID) instead of left to time out. */
  | { ok: false; kind: "command-request" | "relay"; reason: string; requestId?: string };

/** A command request or relay report from its topic, payload and RETAIN flag; null for any other topic. */
export function decodeCommandMessage(topic: string, payload: Buffer | string, retained: boolean): DecodedCommandInput | null {
  if (topic === internalTopic.commandRequest) {
    const body = parseJsonObject(payload);
    if (Value.Check(CommandRequestSchema, body)) return { ok: true, input: { kind: "request", request: body } };
    // Say what is wrong within the step it claims to be, not "not one of the union's shapes".
    const shape = body?.step === "select" ? CommandRequestSchema.anyOf[0] : CommandRequestSchema.anyOf[1];
    const first = body === null ? null : Value.Errors(shape, body).First();
    const requestId = typeof body?.request_id === "string" && /^[\w.-]{1,128}$/.test(body.request_id) ? body.request_id : undefined;
    return { ok: false, kind: "command-request", reason: first ? `${first.path || "(root)"}: ${first.message}` : "not a JSON object", ...(requestId ? { requestId } : {}) };
  }
  // Relay reports: the shared decoder of the internal stream (device matching the topic, never a retained
  // copy). Any other topic is left to the rule engine's decoder untouched (not parsed twice).
  if (parseInternalTopic(topic)?.kind !== "relay") return null;
  const decoded = decodeInternalMessage(topic, payload, retained);
  if (decoded === null) return null;
  if (!decoded.ok) return { ok: false, kind: "relay", reason: decoded.reason };
  return decoded.message.kind === "relay" ? { ok: true, input: { kind: "report", report: decoded.message.report } } : null;
}
