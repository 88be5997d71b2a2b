// The native format (CONTRACT §3) expressed as a format like the others, so routing treats all alike.
// Its decoders are the validators of ../reading.ts; it keeps no state between messages.
// Relay reports (CONTRACT §10): a reading's `switch_on` is periodic; an event naming a command answers it.
import type { RelayReport } from "../command.js";
import { ErrorCodes, type Refusal } from "../errors.js";
import { type DeviceEvent, parseEvent, parseStatus, parseTelemetry } from "../reading.js";
import { type FormatDefinition, emptyDecoded, keepsNoState, periodicRelay, refused } from "./types.js";

/** The `reason` of a `fault` event by which a native device refuses a command (CONTRACT §10). */
export const COMMAND_REFUSED = "command refused";

/**
 * What a native event says about a command: `{"type":"switch","reason":"remote","detail":"<command id>"}`
 * carried it out; `{"type":"fault","reason":"command refused","detail":"<command id>: <why>"}` refused it, and
 * must name it (else the message is refused: a refusal of nothing cannot be told to anyone). Neither tells
 * the relay's state (`on: null`): the command id says what was asked. Other events say nothing of commands.
 */
function commandAnswer(event: DeviceEvent): { relays: RelayReport[] } | { refusal: Refusal } {
  const answer = { device: event.device, ts: event.ts, on: null, explicit: true };
  const detail = event.detail?.trim() ?? "";
  if (event.type === "switch" && event.reason === "remote" && detail !== "") return { relays: [{ ...answer, command_id: detail }] };
  if (event.type !== "fault" || event.reason !== COMMAND_REFUSED) return { relays: [] };
  const colon = detail.indexOf(":");
  const commandId = (colon < 0 ? detail : detail.slice(0, colon)).trim();
  if (commandId === "") return { refusal: { code: ErrorCodes.PAYLOAD_INVALID, reason: `a "${COMMAND_REFUSED}" event must name the command: "detail": "<command id>: <why>"` } };
  const why = colon < 0 ? "" : detail.slice(colon + 1).trim();
  return { relays: [{ ...answer, command_id: commandId, error: why === "" ? COMMAND_REFUSED : why }] };
}

export const native: FormatDefinition<never> = {
  name: "native",
  isState: keepsNoState,
  topics: [
    {
      template: "campus/devices/{source}/telemetry",
      kind: "telemetry",
      decode: (payload, context) => {
        const { readings, refusals } = parseTelemetry(context.device, payload, context);
        return { ...emptyDecoded(), readings, refusals, relays: periodicRelay(readings) };
      },
    },
    {
      template: "campus/devices/{source}/status",
      kind: "status",
      decode: (payload, context) => {
        // A status carries no time of its own: it is stamped with the receive time.
        const parsed = parseStatus(payload);
        if (!parsed.ok) return refused(parsed.refusal);
        return { ...emptyDecoded(), statuses: [{ device: context.device, ts: context.receivedAt, online: parsed.value }] };
      },
    },
    {
      template: "campus/devices/{source}/events",
      kind: "events",
      decode: (payload, context) => {
        const parsed = parseEvent(context.device, payload, context);
        if (!parsed.ok) return refused(parsed.refusal);
        const answer = commandAnswer(parsed.value);
        return "refusal" in answer ? refused(answer.refusal) : { ...emptyDecoded(), events: [parsed.value], relays: answer.relays };
      },
    },
  ],
};
