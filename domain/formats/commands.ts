// What the service account publishes to make a device switch, in the device's own format (CONTRACT §10
// "On the wire"): QoS 1 and NEVER retained (a retained Tasmota `cmnd` switches the device again on every
// reconnect). Pure. The answers come back through the ingest as RelayReports (domain/command.ts).
// The broker's ACL lets a device subscribe to exactly `commandTopic(device)` (broker/acl.ts), so the topic a
// command goes to and the topic a device may read can never disagree.
import type { Device } from "../campus/device-schema.js";
import { type Command, targetState } from "../command.js";
import { deviceTopic } from "../topics.js";

export interface CommandMessage {
  topic: string;
  payload: string;
  /** CONTRACT §10: at least once. */
  qos: 1;
  /** CONTRACT §10: never retained, so a device that (re)subscribes is never switched by an old command. */
  retain: false;
}

/**
 * The first level of every Shelly Gen2 RPC reply topic. Only the service account sends RPC requests, with
 * `src: "campus-power/{device id}"`; the device answers on `<src>/rpc` (Shelly Gen2 API "RPC over MQTT"),
 * and the ACL lets each device publish its own reply topic under it and nothing else.
 */
export const RPC_REPLY_PREFIX = "campus-power";

/** The topic a Shelly Gen2 device answers an RPC on: its `src` + `/rpc`, one per device so none can answer for another. */
export const shellyRpcReplyTopic = (deviceId: string) => `${RPC_REPLY_PREFIX}/${deviceId}/rpc`;

/** The topic a command for `device` is published to, in its format (the only topic the device may subscribe to for it). */
export function commandTopic(device: Device): string {
  const source = device.source ?? device.id;
  switch (device.format) {
    case "native":
      return deviceTopic.commands(device.id);
    case "tasmota":
      return `cmnd/${source}/POWER`;
    case "shelly-gen1":
      return `shellies/${source}/relay/0/command`;
    case "shelly-gen2":
      return `${source}/rpc`;
    case "zigbee2mqtt":
      return `zigbee2mqtt/${source}/set`;
  }
}

/**
 * The message that asks `device` to carry out `command`. `rpcId` numbers a Shelly Gen2 RPC request (its
 * reply carries the same `id`); other formats ignore it.
 */
export function commandMessage(device: Device, command: Pick<Command, "id" | "action" | "issued_by" | "expires_at">, rpcId: number): CommandMessage {
  const on = targetState(command.action);
  const message = (payload: string): CommandMessage => ({ topic: commandTopic(device), payload, qos: 1, retain: false });
  switch (device.format) {
    case "native":
      return message(JSON.stringify({ id: command.id, action: command.action, issued_by: command.issued_by, expires_at: command.expires_at }));
    case "tasmota":
      return message(on ? "ON" : "OFF");
    case "shelly-gen1":
      return message(on ? "on" : "off");
    case "shelly-gen2":
      return message(JSON.stringify({ id: rpcId, src: `${RPC_REPLY_PREFIX}/${device.id}`, method: "Switch.Set", params: { id: 0, on } }));
    case "zigbee2mqtt":
      return message(JSON.stringify({ state: on ? "ON" : "OFF" }));
  }
}
