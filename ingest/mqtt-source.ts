// Where the ingest's device messages come from: one MQTT client on a persistent session (clean: false,
// QoS 1), so the broker keeps what arrives while the ingest is away. A message is acknowledged (PUBACK)
// only once the handler says it is durable (./acks.ts); while the spool is full a message is not
// handled and not acknowledged — back-pressure: the broker keeps it — and once there is room again the
// client reconnects, because the broker redelivers unacknowledged messages only on a new connection
// [MQTT-4.4.0-1]. The retained health topic's last will says "ingest offline" if the process dies.
import { SERVICE_USERNAME } from "../domain/campus.js";
import { INGEST_HEALTH_TOPIC } from "../domain/topics.js";
import type { Logger } from "../infra/logger.js";
import { type MqttClient, openMqtt, untilConnected } from "../infra/mqtt.js";
import { finishesWithin } from "../infra/timeout.js";
import { holdAcks } from "./acks.js";

export interface MqttSourceOptions {
  url: string;
  clientId: string;
  password: string;
  log: Logger;
}

export interface Receiver {
  /** True while the spool has no room. */
  full(): boolean;
  /** A message left unacknowledged because the spool was full. */
  onHeldBack(): void;
  /** One device message; resolves once it is durable (then it is acknowledged), rejects if it is not. */
  handle(topic: string, payload: Buffer): Promise<void>;
}

const OFFLINE = JSON.stringify({ ok: false, reason: "ingest offline" });
/** A clean DISCONNECT is waited for this long, then the socket is closed, ms. */
const MQTT_END_MS = 1_000;

/**
 * Whether messages were left unacknowledged since the spool last had room. Pure: the caller says whether
 * the spool is full and acts on the answers.
 */
export class HeldBack {
  private held = false;

  /** A message arrived: true when it may be handled, false when it must stay unacknowledged (spool full). */
  admit(full: boolean): boolean {
    if (full) this.held = true;
    return !full;
  }

  /** The spool has room: true once after every episode of held-back messages (time to reconnect). */
  roomAgain(): boolean {
    const was = this.held;
    this.held = false;
    return was;
  }
}

export class MqttSource {
  /** Connected to the broker (or trying to); publishes the normalised stream and the health topic too. */
  readonly client: MqttClient;
  private readonly heldBack = new HeldBack();
  private stopping = false;

  constructor(private readonly options: MqttSourceOptions) {
    // Not connectService(): with a persistent session the broker may send queued messages right after
    // CONNACK, before an `await connect…()` continuation would attach the handler; receive() attaches it
    // in the same turn of the event loop as this.
    this.client = openMqtt(
      { url: options.url, clientId: options.clientId, username: SERVICE_USERNAME, password: options.password, clean: false },
      { will: { topic: INGEST_HEALTH_TOPIC, payload: Buffer.from(OFFLINE), qos: 1, retain: true } },
    );
  }

  /** Attaches the receiver: call in the same turn of the event loop as the constructor. */
  receive(receiver: Receiver): void {
    const { client } = this;
    const acks = holdAcks(client);
    client.on("message", (topic, payload, packet) => {
      const generation = acks.generation;
      if (!this.heldBack.admit(receiver.full())) return receiver.onHeldBack();
      receiver.handle(topic, payload).then(
        () => acks.ack(packet, generation),
        (error: unknown) => this.options.log.error({ err: error }, "cannot write the spool; the message stays unacknowledged"),
      );
    });
  }

  /**
   * For the normalised stream: a publish whose failure is logged (unless stopping), never thrown. A QoS 0
   * publish is given no callback: it has no answer to wait for, and mqtt.js waits for a callback's 'drain' with
   * one listener per publish while the socket is full (a district's latest readings: thousands of listeners).
   * Its failure is the connection's, which the client's 'error' handler logs.
   */
  readonly publish = (topic: string, payload: string, qos: 0 | 1, retain: boolean): void => {
    if (qos === 0) {
      this.client.publish(topic, payload, { qos, retain });
      return;
    }
    this.client.publish(topic, payload, { qos, retain }, (error) => {
      if (error && !this.stopping) this.options.log.warn({ err: error, topic }, "cannot publish the normalised stream");
    });
  };

  /** Resolves on the first CONNACK; rejects (and closes the client) once every broker failed once, or one refused it. */
  async connected(): Promise<void> {
    const { client } = this;
    // With several brokers (MQTT_URL's list, CONTRACT §12) the first may be down: each is tried once.
    await untilConnected(client, { url: this.options.url }).catch((error: unknown) => {
      this.stopping = true;
      client.end(true);
      throw error;
    });
    client.on("error", (error) => this.options.log.warn({ err: error }, "MQTT error"));
  }

  /** Subscribes with QoS 1; a filter the broker refuses is logged. */
  async subscribe(filters: readonly string[]): Promise<void> {
    const granted = await this.client.subscribeAsync([...filters], { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) this.options.log.error({ topics: refused }, "the broker refused some subscriptions");
  }

  /** Call while the spool has room: reconnects if messages were held back meanwhile, so the broker redelivers them. */
  roomAgain(): void {
    if (this.stopping || !this.heldBack.roomAgain()) return;
    this.options.log.info("spool has room again; reconnecting so the broker redelivers the messages held back");
    this.client.stream?.destroy();
  }

  /**
   * Says "offline" on the health topic (a clean disconnect does not fire the will), then disconnects; the
   * persistent session keeps what arrives meanwhile. A DISCONNECT not done within MQTT_END_MS is forced.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.client.publishAsync(INGEST_HEALTH_TOPIC, OFFLINE, { qos: 1, retain: true }).catch(() => undefined);
    if (!(await finishesWithin(this.client.endAsync(false), MQTT_END_MS))) await this.client.endAsync(true);
  }
}
