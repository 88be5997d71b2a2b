// Acknowledging a QoS 1 message only once its reading is durable (at least once end to end).
// mqtt.js 5.16.0 sends the PUBACK right after the 'message' event and only then reads the next packet
// (lib/handlers/publish.js), so delaying it there would serialise the whole stream on one fsync per
// message. Instead its private `_sendPacket` is wrapped: the automatic PUBACK is swallowed (and the
// parser told to go on), and `ack(packet)` sends it later, after the spool's fsync, from our own code.
// mqtt.js is pinned (package.json); tests/integration/ingest-durability.test.ts fails if this breaks.
import type { IPublishPacket } from "mqtt";
import type { MqttClient } from "../infra/mqtt.js";

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: () => void, ...rest: unknown[]) => void;

export interface AckControl {
  /** The connection a message arrived on; an ack for an older one is not sent (the broker redelivers). */
  readonly generation: number;
  ack(packet: IPublishPacket, generation: number): void;
}

export function holdAcks(client: MqttClient): AckControl {
  const internals = client as unknown as { _sendPacket: SendPacket };
  const send = internals._sendPacket.bind(client);
  if (typeof send !== "function") throw new Error("mqtt.js internals changed: _sendPacket is missing");
  internals._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === "puback") {
      if (cb) process.nextTick(cb);
      return;
    }
    send(packet, cb, ...rest);
  };
  let generation = 0;
  client.on("connect", () => generation++);
  return {
    get generation() {
      return generation;
    },
    ack(packet, from) {
      if (packet.qos !== 1 || packet.messageId === undefined) return;
      if (from !== generation || !client.connected) return;
      send({ cmd: "puback", messageId: packet.messageId });
    },
  };
}
