// What a device format is: data. A format lists the topics one device uses (templates over the
// device's `source` from the campus file, or its campus id) and, per topic, a decoder assembled from small
// field mappers (./mappers.ts), after zigbee-herdsman-converters. Everything here is pure: no clock, no I/O.
//
// `State` is what a format keeps per device between messages (Shelly Gen2: the last full switch status,
// Zigbee2MQTT: the active faults); a stateless format keeps `never`. The ingest holds every format's
// state in one untyped map, so a format also says how to recognise its own state (`isState`), and
// `withUntypedState` gives the ingest a decoder that takes whatever the map holds.
import type { Device, DeviceFormat } from "../campus.js";
import type { RelayReport } from "../command.js";
import type { Refusal } from "../errors.js";
import type { DeviceEvent, ParseOptions, Reading, StatusChange } from "../reading.js";

/**
 * The three kinds of message of CONTRACT §3, whatever the device's own topic names are, and `relay`: a
 * message that only tells the relay's state (CONTRACT §10: an answer to a command, or Tasmota's periodic
 * `tele/…/STATE`).
 */
export type MessageKind = "telemetry" | "status" | "events" | "relay";

export interface DecodeContext<State = unknown> extends ParseOptions {
  /** The campus device id the topic belongs to. */
  device: string;
  /** IANA zone of the site (campus `site.timezone`), for formats that send local time without a zone. */
  timeZone: string;
  /**
   * What this device's decoder returned as `state` last time (in memory, per device): formats that send
   * partial updates (Shelly Gen2 NotifyStatus) overlay them on it; protection errors become events
   * only when they appear. Undefined for the first message after a start.
   */
  previous?: State;
}

/** Everything one MQTT message turned into; a message may yield several readings and some refusals. */
export interface Decoded<State = unknown> {
  readings: Reading[];
  statuses: StatusChange[];
  events: DeviceEvent[];
  refusals: Refusal[];
  /**
   * What the message says about the device's relay (CONTRACT §10): explicit answers to commands, and at
   * most one periodic report (the newest state the message carries).
   */
  relays: RelayReport[];
  /** The device's vendor state after this message, handed back as `previous` next time. */
  state?: State;
}

export type MessageDecoder<State = unknown> = (payload: Buffer, context: DecodeContext<State>) => Decoded<State>;

export interface TopicRule<State = unknown> {
  /**
   * Topic with `{source}` standing for the device's topic id (the device id for native devices) and `{id}`
   * for its campus id (a Shelly Gen2 RPC reply topic is named after the campus device, not the source).
   */
  template: string;
  kind: MessageKind;
  decode: MessageDecoder<State>;
}

export interface FormatDefinition<State = unknown> {
  name: DeviceFormat;
  /** Whether a kept value is this format's state (anything else is treated as no state at all). */
  isState(value: unknown): value is State;
  topics: readonly TopicRule<State>[];
}

/** For formats that keep nothing between messages. */
export const keepsNoState = (_value: unknown): _value is never => false;

/**
 * The format as the ingest uses it: each decoder takes the untyped kept value and hands the format only
 * what `isState` recognises, so a decoder never reads a state of another shape.
 */
export function withUntypedState<State>(format: FormatDefinition<State>): FormatDefinition {
  const topics = format.topics.map(
    (rule): TopicRule => ({
      ...rule,
      decode: (payload, { previous, ...context }) => rule.decode(payload, format.isState(previous) ? { ...context, previous } : context),
    }),
  );
  return { name: format.name, isState: isAnything, topics };
}

const isAnything = (_value: unknown): _value is unknown => true;

export const SOURCE_PLACEHOLDER = "{source}";
export const ID_PLACEHOLDER = "{id}";

/** The topic a rule reads for one device; `source` defaults to the id (native devices). */
export const topicFor = (rule: TopicRule, device: Pick<Device, "id" | "source">) =>
  rule.template.replace(SOURCE_PLACEHOLDER, device.source ?? device.id).replace(ID_PLACEHOLDER, device.id);

export const emptyDecoded = <State = never>(): Decoded<State> => ({ readings: [], statuses: [], events: [], refusals: [], relays: [] });

export const refused = <State = never>(refusal: Refusal): Decoded<State> => ({ ...emptyDecoded<State>(), refusals: [refusal] });

/**
 * The newest relay state among a message's readings (`switch_on`), as a periodic report (CONTRACT §10): one
 * per message, since a buffered flush's older readings are history, not the relay's state now. None when
 * no reading carries `switch_on`.
 */
export function periodicRelay(readings: readonly Reading[]): RelayReport[] {
  let newest: RelayReport | undefined;
  for (const { device, ts, values } of readings) {
    if (values.switch_on !== undefined && (newest === undefined || ts >= newest.ts)) newest = { device, ts, on: values.switch_on, explicit: false };
  }
  return newest === undefined ? [] : [newest];
}

/** Readings as a decoder's result, with the periodic relay report they carry. */
export const decodedReadings = <State = never>(readings: Reading[]): Decoded<State> => ({ ...emptyDecoded<State>(), readings, relays: periodicRelay(readings) });
