// The native format (CONTRACT §3) expressed as a format like the others, so routing treats all alike.
// Its decoders are the validators of ../reading.ts; it keeps no state between messages.
import { parseEvent, parseStatus, parseTelemetry } from "../reading.js";
import { type FormatDefinition, emptyDecoded, keepsNoState, refused } from "./types.js";

export const native: FormatDefinition<never> = {
  name: "native",
  isState: keepsNoState,
  topics: [
    {
      template: "campus/devices/{source}/telemetry",
      kind: "telemetry",
      decode: (payload, context) => ({ ...emptyDecoded(), ...parseTelemetry(context.device, payload, context) }),
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
        return parsed.ok ? { ...emptyDecoded(), events: [parsed.value] } : refused(parsed.refusal);
      },
    },
  ],
};
