// How every service (and the simulator) connects to the broker as an ordinary MQTT client.
import mqtt, { type IClientOptions, type MqttClient, UniqueMessageIdProvider } from "mqtt";
import { SERVICE_USERNAME } from "../domain/campus.js";

export type { MqttClient };

export interface ConnectOptions {
  url: string;
  clientId: string;
  username: string;
  password: string;
  /** false = persistent session: QoS 1 messages wait in the broker while this client is away. */
  clean?: boolean;
  will?: IClientOptions["will"];
  /** Base reconnect period, ms; a random jitter of up to the same amount is added per client. */
  reconnectPeriodMs?: number;
  keepaliveS?: number;
  /** Seeded or real random source for the reconnect jitter. */
  random?: () => number;
}

export function mqttOptions(options: ConnectOptions): IClientOptions {
  const base = options.reconnectPeriodMs ?? 1_000;
  const random = options.random ?? Math.random;
  return {
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    clean: options.clean ?? true,
    protocolVersion: 4,
    keepalive: options.keepaliveS ?? 30,
    // mqtt.js reconnects at a fixed period; a per-client jitter keeps a fleet from reconnecting in lock-step.
    reconnectPeriod: Math.round(base + random() * base),
    connectTimeout: 10_000,
    // The default id provider wraps at 65,535 and silently overwrites queued QoS 1 messages.
    messageIdProvider: new UniqueMessageIdProvider(),
    // mqtt.js logs through `debug` about ten times per message, even when nothing is printed (2.5 % of
    // the ingest's CPU at 20,000 messages/s). Its log stays available with DEBUG=mqttjs*.
    ...(mqttDebugWanted() ? {} : { log: () => undefined }),
    ...(options.will ? { will: options.will } : {}),
  };
}

const mqttDebugWanted = () => /mqttjs|(^|,)\*/.test(process.env.DEBUG ?? "");

/** Connects and resolves on the first CONNACK; rejects on refusal or timeout. */
export async function connectMqtt(options: ConnectOptions): Promise<MqttClient> {
  return mqtt.connectAsync(options.url, mqttOptions(options));
}

/** The internal service account's connection (CONTRACT §3: `campus-service`). */
export function connectService(url: string, password: string, clientId: string, clean = true): Promise<MqttClient> {
  return connectMqtt({ url, clientId, username: SERVICE_USERNAME, password, clean });
}
