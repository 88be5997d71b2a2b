// `record` (CONTRACT §7): every message on the topics, as the service account sees it, handed over as
// one NDJSON line {"t": epoch_ms, "topic", "payload"} (recording.ts) each.
import { connectService } from "../infra/mqtt.js";
import { DEFAULT_RECORD_TOPICS, encodePayload, type RecordedMessage } from "./recording.js";

export interface RecorderOptions {
  mqttUrl: string;
  servicePassword: string;
  /** MQTT filters (default: every device format's topics, DEFAULT_RECORD_TOPICS). */
  topics?: readonly string[];
  /** Receives each line, newline included. */
  write: (line: string) => void;
  clientId?: string;
}

export interface Recorder {
  /** Messages written so far. */
  readonly count: number;
  stop(): Promise<void>;
}

/** Subscribes as the service account and hands every message to `write` as one NDJSON line. */
export async function startRecorder(options: RecorderOptions): Promise<Recorder> {
  const client = await connectService(options.mqttUrl, options.servicePassword, options.clientId ?? `campus-record-${process.pid}-${Date.now()}`);
  let count = 0;
  client.on("message", (topic, payload) => {
    options.write(`${JSON.stringify({ t: Date.now(), topic, payload: encodePayload(payload) } satisfies RecordedMessage)}\n`);
    count++;
  });
  await client.subscribeAsync([...(options.topics ?? DEFAULT_RECORD_TOPICS)], { qos: 1 });
  return {
    get count() {
      return count;
    },
    stop: () => client.endAsync(),
  };
}
