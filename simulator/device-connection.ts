// One simulated device's MQTT connection, as a well-made real device keeps it: its own credentials and
// last will (CONTRACT §3), "online" (retained) after every connect, and after a lost link reconnects
// spaced by the one retry policy (infra/backoff.ts) instead of mqtt.js's fixed period, so a fleet that
// lost the broker together does not come back in lock-step (reference/libraries.md §2). A device with a
// relay subscribes to its own command topic (CONTRACT §10) after every connect (its session is clean).
import mqtt from "mqtt";
import type { Device } from "../domain/campus.js";
import { hasRelay } from "../domain/command.js";
import { devicePassword } from "../domain/credentials.js";
import { commandTopic } from "../domain/formats/commands.js";
import { type BackoffPolicy, backoffDelayMs } from "../infra/backoff.js";
import type { Logger } from "../infra/logger.js";
import { mqttOptions } from "../infra/mqtt.js";
import { resultWithin } from "../infra/timeout.js";
import { availabilityMessage, type OutMessage } from "./messages.js";
import type { Publisher } from "./publish-queue.js";
import type { Rng } from "./random.js";

/** Wait for the first CONNACK (and mqtt.js's own handshake timeout), ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** A simulated device reconnects from ~1 s up to 30 s between attempts. */
export const DEVICE_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000 };

export interface ConnectionOptions {
  mqttUrl: string;
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
  // reconnectPeriod 0: reconnects are ours (below), not mqtt.js's fixed period.
  const client = mqtt.connect(options.mqttUrl, {
    ...mqttOptions({
      url: options.mqttUrl,
      clientId: device.id,
      username: device.id,
      password: devicePassword(device.id, options.deviceGroupKey),
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      random: options.random,
    }),
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  client.on("error", () => {}); // logged below or when the first CONNACK is refused; never crash the process
  const firstConnack = new Promise<true | Error>((resolve) => {
    client.once("connect", () => resolve(true));
    client.once("error", (err) => resolve(err));
    client.once("close", () => resolve(new Error("connection closed before CONNACK")));
  });
  const ok = await resultWithin(firstConnack, CONNECT_TIMEOUT_MS, new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS} ms`));
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
