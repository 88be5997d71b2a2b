// How every service (and the simulator) connects to the broker as an ordinary MQTT client. MQTT_URL may
// list several brokers (CONTRACT §12): the client then tries the next one on every (re)connect, round the
// list, so it uses whichever answers and moves on when its broker goes away. One URL connects exactly as
// it always did.
import "./mqtt-packet-numbers.js";
import mqtt, { type IClientOptions, type MqttClient, UniqueMessageIdProvider } from "mqtt";
import { SERVICE_USERNAME } from "../domain/campus.js";
import { type BrokerUrl, listsSeveralBrokers, parseMqttUrls, rotateBrokers } from "../domain/env/mqtt-urls.js";

export type { MqttClient };

export interface ConnectOptions {
  /** One broker's URL, or MQTT_URL's comma-separated list of several. */
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
  /** With several brokers: the one tried first (an index, mod their number), the others after it in order. */
  firstBroker?: number;
}

/**
 * The brokers of a list, the first to try first; null for one URL, which is used as written (not re-read:
 * `up` hands its services an `mqtt+unix://` URL). A bad list throws: readEnv refuses one at start.
 */
export function brokerList(options: Pick<ConnectOptions, "url" | "firstBroker">): BrokerUrl[] | null {
  if (!listsSeveralBrokers(options.url)) return null;
  const read = parseMqttUrls(options.url);
  if (!read.ok) throw new Error(`bad list of MQTT brokers: ${read.problems.join("; ")}`);
  return rotateBrokers(read.brokers, options.firstBroker ?? 0);
}

/**
 * mqtt.js's failover: with `servers`, every stream it builds (the first connect and each reconnect) goes to
 * the next entry, round the list (mqtt.js 5.16 lib/connect/index.ts, `wrapper`). The first broker also
 * stands in for what the URL would give, so `mqtt.connect(MQTT_URL, mqttOptions(…))` connects there.
 */
function failoverOptions(brokers: readonly BrokerUrl[]): IClientOptions {
  const first = brokers[0]!;
  return {
    servers: brokers.map(({ host, port, protocol }) => ({ host, port, protocol })),
    protocol: first.protocol,
    host: first.host,
    port: first.port,
    // Only WebSocket URLs have a path, the same for every broker (domain/env/mqtt-urls.ts).
    ...(first.path !== "" ? { path: first.path } : {}),
  };
}

export function mqttOptions(options: ConnectOptions): IClientOptions {
  const brokers = brokerList(options);
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
    ...(brokers ? failoverOptions(brokers) : {}),
  };
}

const mqttDebugWanted = () => /mqttjs|(^|,)\*/.test(process.env.DEBUG ?? "");

/**
 * Starts a client (it connects, and reconnects, in the background); `overrides` win over mqttOptions'.
 * Use this rather than `mqtt.connect(url, …)`: a list is not a URL mqtt.js can parse.
 */
export function openMqtt(options: ConnectOptions, overrides: IClientOptions = {}): MqttClient {
  const brokers = brokerList(options);
  const client = mqtt.connect(brokers?.[0]!.url ?? options.url, { ...mqttOptions(options), ...overrides });
  if (brokers?.[0]!.protocol === "mqtts" && overrides.servername === undefined) {
    // mqtt.js's TLS transport writes the first broker's host into the options it shares across attempts as
    // `servername`, which Node checks the certificate against: forgotten before every attempt, each broker's
    // certificate is checked against its own name (a wss:// URL carries its host itself).
    client.on("reconnect", () => delete client.options.servername);
  }
  return client;
}

/**
 * Resolves on the client's first CONNACK. Rejects when a broker refuses it (a CONNACK code: the brokers
 * share the accounts, another would refuse too), or once every broker failed once (refused the connection,
 * closed it, or sent no CONNACK in time), with the last failure.
 */
export function untilConnected(client: MqttClient, options: Pick<ConnectOptions, "url">): Promise<void> {
  const attempts = brokerList(options)?.length ?? 1;
  return new Promise<void>((resolve, reject) => {
    let failed = 0;
    let lastError: Error | undefined;
    const done = (error?: Error) => {
      client.off("connect", onConnect).off("error", onError).off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onConnect = () => done();
    const onError = (error: Error & { code?: unknown }) => {
      if (typeof error.code === "number") done(error);
      else lastError = error;
    };
    const onClose = () => {
      if (++failed >= attempts) done(lastError ?? new Error("the connection closed before CONNACK"));
    };
    client.on("connect", onConnect).on("error", onError).on("close", onClose);
  });
}

/** Connects and resolves on the first CONNACK; rejects on refusal or timeout, or, given several brokers, once each failed. */
export async function connectMqtt(options: ConnectOptions): Promise<MqttClient> {
  if (!listsSeveralBrokers(options.url)) return mqtt.connectAsync(options.url, mqttOptions(options));
  const client = openMqtt(options);
  try {
    await untilConnected(client, options);
  } catch (error) {
    client.end(true);
    throw error;
  }
  return client;
}

/** The URL of the broker the client is (or was last) connected to: one of `brokers` (brokerList's), or the one URL. */
export function currentBroker(client: MqttClient, url: string, brokers: readonly BrokerUrl[] | null): string {
  if (brokers === null) return url;
  const { host, port } = client.options;
  return brokers.find((b) => b.host === host && b.port === port)?.url ?? `${host}:${port}`;
}

/** The internal service account's connection (CONTRACT §3: `campus-service`). */
export function connectService(url: string, password: string, clientId: string, clean = true): Promise<MqttClient> {
  return connectMqtt({ url, clientId, username: SERVICE_USERNAME, password, clean });
}
