// Messages that only tell a relay's state (CONTRACT §10, "the device's confirmation"), as small decoders the
// formats assemble, like the field mappers of ./mappers.ts: a plain-text word on its own topic (Tasmota
// `stat/<t>/POWER`) and one field of a JSON object (Tasmota `stat/<t>/RESULT`, `tele/<t>/STATE`). A reading's
// `switch_on` becomes a periodic report in ./types.ts `decodedReadings`. Pure.
import { ErrorCodes } from "../errors.js";
import { resolveTimestamp } from "../reading.js";
import { type FieldMapper, type TimeMapper, jsonObjectDecoder, wordDecoder } from "./mappers.js";
import { type MessageDecoder, emptyDecoded, refused } from "./types.js";

export interface RelayWordOptions {
  on: readonly string[];
  off: readonly string[];
  /** An answer to a command (CONTRACT §10), not a periodic report. */
  explicit: boolean;
}

/** A relay state as a plain-text word on its own topic (Tasmota `stat/<t>/POWER` `ON`|`OFF`), stamped with the receive time. */
export const relayWord = <State = never>(options: RelayWordOptions): MessageDecoder<State> =>
  wordDecoder("the relay state", options.on, options.off, (on, context) => ({
    ...emptyDecoded(),
    relays: [{ device: context.device, ts: context.receivedAt, on, explicit: options.explicit }],
  }));

export interface JsonRelayOptions {
  /**
   * The relay state's field (an `onOff` mapper). A message without it says nothing about the relay and is
   * no error: Tasmota answers every command on `stat/<t>/RESULT`, not only POWER.
   */
  state: FieldMapper;
  explicit: boolean;
  /** The device's own time of the report, when the message has one; else the receive time. */
  time?: TimeMapper;
  /** Clock-skew tolerance for a device that only reports live (ParseOptions.maxSkewMs). */
  maxSkewMs?: number;
}

/** A relay state in one field of a JSON object payload; the payload must be a JSON object. */
export function jsonRelay<State = never>(options: JsonRelayOptions): MessageDecoder<State> {
  return jsonObjectDecoder<State>((body, context) => {
    const state = options.state.read(body);
    if (state === undefined) return emptyDecoded();
    if ("error" in state) return refused({ code: ErrorCodes.PAYLOAD_INVALID, reason: state.error });
    const time = options.time?.(body, context);
    const { ts } = resolveTimestamp(time, options.maxSkewMs === undefined ? context : { ...context, maxSkewMs: options.maxSkewMs });
    return { ...emptyDecoded(), relays: [{ device: context.device, ts, on: state.value === true, explicit: options.explicit }] };
  });
}
