// What the service account publishes to make a device switch, in the device's own format (CONTRACT §10
// "On the wire"): QoS 1 and NEVER retained (a retained Tasmota `cmnd` switches the device again on every
// reconnect). Pure. The answers come back through the ingest as RelayReports (domain/command.ts).
import type { Device } from "../campus.js";
import { type Command, targetState } from "../command.js";
import { deviceTopic } from "../topics.js";

export interface CommandMessage {
  topic: string;
  payload: string;
}

/** The topic a Shelly Gen2 device answers an RPC on: its `src` + `/rpc`, one per device so none can answer for another. */
export const shellyRpcReplyTopic = (deviceId: string) => `campus-power/${deviceId}/rpc`;

/**
 * The message that asks `device` to carry out `command`. `rpcId` numbers a Shelly Gen2 RPC request (its
 * reply carries the same `id`); other formats ignore it.
 */
export function commandMessage(device: Device, command: Pick<Command, "id" | "action" | "issued_by" | "expires_at">, rpcId: number): CommandMessage {
  const on = targetState(command.action);
  const source = device.source ?? device.id;
  switch (device.format) {
    case "native":
      return { topic: deviceTopic.commands(device.id), payload: JSON.stringify({ id: command.id, action: command.action, issued_by: command.issued_by, expires_at: command.expires_at }) };
    case "tasmota":
      return { topic: `cmnd/${source}/POWER`, payload: on ? "ON" : "OFF" };
    case "shelly-gen1":
      return { topic: `shellies/${source}/relay/0/command`, payload: on ? "on" : "off" };
    case "shelly-gen2":
      return {
        topic: `${source}/rpc`,
        payload: JSON.stringify({ id: rpcId, src: `campus-power/${device.id}`, method: "Switch.Set", params: { id: 0, on } }),
      };
    case "zigbee2mqtt":
      return { topic: `zigbee2mqtt/${source}/set`, payload: JSON.stringify({ state: on ? "ON" : "OFF" }) };
  }
}
