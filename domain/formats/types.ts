// What a device format is: data. A format lists the topics one device uses (templates over the
// device's `source` from the campus file) and, per topic, a decoder assembled from small field
// mappers (./mappers.ts), after zigbee-herdsman-converters. Everything here is pure: no clock, no I/O.
import type { DeviceFormat } from "../campus.js";
import type { Refusal } from "../errors.js";
import type { DeviceEvent, ParseOptions, Reading, StatusChange } from "../reading.js";

/** The three kinds of message of CONTRACT §3, whatever the device's own topic names are. */
export type MessageKind = "telemetry" | "status" | "events";

export interface DecodeContext extends ParseOptions {
  /** The campus device id the topic belongs to. */
  device: string;
  /** IANA zone of the site (campus `site.timezone`), for formats that send local time without a zone. */
  timeZone: string;
  /**
   * What this device's decoder returned as `state` last time (in memory, per device): formats that send
   * partial updates (Shelly Gen2 NotifyStatus) overlay them on it; protection errors become events
   * only when they appear. Undefined for the first message after a start.
   */
  previous?: unknown;
}

/** Everything one MQTT message turned into; a message may yield several readings and some refusals. */
export interface Decoded {
  readings: Reading[];
  statuses: StatusChange[];
  events: DeviceEvent[];
  refusals: Refusal[];
  /** The device's vendor state after this message, handed back as `previous` next time. */
  state?: unknown;
}

export type MessageDecoder = (payload: Buffer, context: DecodeContext) => Decoded;

export interface TopicRule {
  /** Topic with `{source}` standing for the device's topic id (the device id for native devices). */
  template: string;
  kind: MessageKind;
  decode: MessageDecoder;
}

export interface FormatDefinition {
  name: DeviceFormat;
  topics: readonly TopicRule[];
}

export const SOURCE_PLACEHOLDER = "{source}";

export const topicFor = (rule: TopicRule, source: string) => rule.template.replace(SOURCE_PLACEHOLDER, source);

export const emptyDecoded = (): Decoded => ({ readings: [], statuses: [], events: [], refusals: [] });

export const refused = (refusal: Refusal): Decoded => ({ ...emptyDecoded(), refusals: [refusal] });
