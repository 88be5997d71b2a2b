// One simulated device's MQTT connection, as a well-made real device keeps it: its own credentials and
// last will (CONTRACT §3), "online" (retained) after every connect, and after a lost link reconnects
// spaced by the one retry policy (infra/backoff.ts) instead of mqtt.js's fixed period, so a fleet that
// lost the broker together does not come back in lock-step (reference/libraries.md §2). A device with a
// relay subscribes to its own command topic (CONTRACT §10) after every connect (its session is clean).
// Given several brokers (CONTRACT §12), each attempt goes to the next of the device's list, so a device
// whose broker went away connects to another at its first retry.
import type { Device } from "../domain/campus.js";
import { hasRelay } from "../domain/command.js";
import { devicePassword } from "../domain/credentials.js";
import { commandTopic } from "../domain/formats/commands.js";
import { type BackoffPolicy, backoffDelayMs } from "../infra/backoff.js";
import type { Logger } from "../infra/logger.js";
import { brokerList, currentBroker, type MqttClient, openMqtt } from "../infra/mqtt.js";
import { resultWithin } from "../infra/timeout.js";
import { availabilityMessage, type OutMessage } from "./messages.js";
import type { Publisher } from "./publish-queue.js";
import type { Rng } from "./random.js";

/** Wait for the first CONNACK (and mqtt.js's own handshake timeout), ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** With several brokers, how much longer than mqtt.js's own CONNACK timeout a failed attempt may take to close, ms. */
const CLOSE_GRACE_MS = 2_000;
/** A simulated device reconnects from ~1 s up to 30 s between attempts. */
export const DEVICE_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000 };

export interface ConnectionOptions {
  /** One broker's URL, or several comma separated (MQTT_URL's form). */
  mqttUrl: string;
  /** With several brokers, the one the device tries first (mod their number); it moves on to the next in order. */
  firstBroker?: number;
  deviceGroupKey: string;
  log: Logger;
  /** Seeded source of the reconnect jitter. */
  random: Rng;
  reconnectBackoff: BackoffPolicy;
}

export interface ConnectionEvents {
  /** The link is up: the first time and after every reconnect ("online" is already on its way). */
  onUp(): void;
  /** The link went down; `wasUp` is false when an attempt to reconnect failed. */
  onDown(wasUp: boolean): void;
  /** A message arrived on the device's command topic (only a device with a relay subscribes to it). */
  onCommand(payload: string): void;
}

export interface DeviceConnection extends Publisher {
  readonly device: Device;
  /** The URL of the broker the device is connected to (one of MQTT_URL's), or null while it is not. */
  readonly broker: string | null;
  /** QoS 1; resolves on PUBACK. */
  publish(message: OutMessage): Promise<unknown>;
  /** The device loses power: the link dies without DISCONNECT, so the broker publishes its last will. No reconnect until `powerOn`. */
  powerOff(): void;
  /** Power is back: the device connects again. */
  powerOn(): void;
  /** A clean leave: "offline" (retained), then DISCONNECT. Resolves false when the offline message failed. */
  leave(): Promise<boolean>;
  /** Ends the link at once, whatever it is doing. */
  abort(): void;
}

/** Connects the device; null (and a warning) when the broker refuses it or does not answer in time. */
export async function connectDevice(device: Device, options: ConnectionOptions, events: ConnectionEvents): Promise<DeviceConnection | null> {
  const will = availabilityMessage(device, false);
  const target = { url: options.mqttUrl, ...(options.firstBroker !== undefined ? { firstBroker: options.firstBroker } : {}) };
  const brokers = brokerList(target);
  // reconnectPeriod 0: reconnects are ours (below), not mqtt.js's fixed period.
  const client = openMqtt(
    {
      ...target,
      clientId: device.id,
      username: device.id,
      password: devicePassword(device.id, options.deviceGroupKey),
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      random: options.random,
    },
    { reconnectPeriod: 0, connectTimeout: CONNECT_TIMEOUT_MS },
  );
  client.on("error", () => {}); // logged below or when the first CONNACK is refused; never crash the process
  const ok = await firstConnection(client, brokers?.length ?? 1);
  if (ok !== true) {
    options.log.warn({ device: device.id, err: ok.message }, "simulated device could not connect");
    client.end(true);
    return null;
  }

  let up = true;
  /** Failed attempts since the link was last up. */
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let poweredOff = false;
  let leaving = false;
  // Keeping the stores sends the QoS 1 messages in flight when the link died again, so they settle.
  const reconnect = () => client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });

  const commands = hasRelay(device) ? commandTopic(device) : null;
  if (commands !== null) {
    client.on("message", (topic, payload) => {
      if (topic === commands) events.onCommand(payload.toString("utf8"));
    });
  }

  const cameUp = () => {
    up = true;
    attempt = 0;
    if (commands !== null) {
      // Before "online" below: the broker handles one connection's packets in order, so whoever sees the
      // device online can already reach it. A refused filter comes back as granted QoS 0x80 [MQTT-3.9.3].
      client.subscribe(commands, { qos: 1 }, (err, granted) => {
        if (err || granted?.[0]?.qos === 0x80) options.log.warn({ device: device.id, topic: commands, err: err?.message }, "simulated device may not subscribe to its commands");
      });
    }
    // Retained, so a late subscriber sees the device online; repeated after every reconnect because the
    // broker may have published the will meanwhile.
    const online = availabilityMessage(device, true);
    client.publish(online.topic, online.payload, { qos: 1, retain: true }, () => {});
    events.onUp();
  };
  client.on("connect", cameUp);
  client.on("close", () => {
    events.onDown(up);
    up = false;
    if (leaving || poweredOff || retryTimer) return;
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!leaving && !poweredOff) reconnect();
    }, backoffDelayMs(attempt - 1, options.random(), options.reconnectBackoff));
  });
  cameUp();

  return {
    device,
    get broker() {
      return client.connected ? currentBroker(client, options.mqttUrl, brokers) : null;
    },
    get connected() {
      return client.connected;
    },
    publish: (message) => client.publishAsync(message.topic, message.payload, { qos: 1, retain: message.retain ?? false }),
    powerOff() {
      poweredOff = true;
      client.stream?.destroy();
    },
    powerOn() {
      poweredOff = false;
      reconnect();
    },
    async leave() {
      leaving = true;
      clearTimeout(retryTimer);
      if (!client.connected) {
        await client.endAsync(true);
        return true;
      }
      // A clean DISCONNECT makes the broker discard the last will ([MQTT-3.14.4-3]), so the device says it
      // is offline (retained) itself before leaving; a crash still leaves the will to say it.
      const offline = availabilityMessage(device, false);
      const said = await client.publishAsync(offline.topic, offline.payload, { qos: 1, retain: true }).then(() => true, () => false);
      await client.endAsync();
      return said;
    },
    abort() {
      leaving = true;
      clearTimeout(retryTimer);
      if (!client.disconnected) client.end(true);
    },
  };
}

/**
 * Waits for the first CONNACK: true, or why none came. Given several brokers, one that does not answer
 * (refused, closed, no CONNACK in time) is followed by the next, each tried once; a CONNACK refusal ends it
 * (the brokers share the accounts). The last (or only) broker's first error is the answer, as it always was.
 */
async function firstConnection(client: MqttClient, brokerCount: number): Promise<true | Error> {
  for (let tried = 1; ; tried++) {
    const last = tried >= brokerCount;
    // Before the next attempt the failed one must have closed: mqtt.js's own CONNACK timeout closes it.
    const waitMs = last ? CONNECT_TIMEOUT_MS : CONNECT_TIMEOUT_MS + CLOSE_GRACE_MS;
    const outcome = await resultWithin(attemptOutcome(client, last), waitMs, new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS} ms`));
    if (outcome === true || last || typeof (outcome as Error & { code?: unknown }).code === "number") return outcome;
    client.reconnect(); // mqtt.js builds the next stream to the next broker of the list
  }
}

/** The outcome of the connection attempt under way: true on CONNACK, else its error once it closed (or at its first error, if `atFirstError`). */
function attemptOutcome(client: MqttClient, atFirstError: boolean): Promise<true | Error> {
  return new Promise((resolve) => {
    let lastError: Error | undefined;
    const finish = (outcome: true | Error) => {
      client.off("connect", onConnect).off("error", onError).off("close", onClose);
      resolve(outcome);
    };
    const onConnect = () => finish(true);
    const onError = (error: Error & { code?: unknown }) => {
      lastError = error;
      if (atFirstError || typeof error.code === "number") finish(error);
    };
    const onClose = () => finish(lastError ?? new Error("connection closed before CONNACK"));
    client.on("connect", onConnect).on("error", onError).on("close", onClose);
  });
}
