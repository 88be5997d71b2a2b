import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { PacketFramer } from "../../../broker/packet-size-guard.js";

/** An MQTT PUBLISH (QoS 0) with the given payload, encoded by mqtt-packet (the encoder mqtt.js and aedes use). */
const publish = (topic: string, payloadBytes: number): Buffer =>
  mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.alloc(payloadBytes), qos: 0, dup: false, retain: false });

describe("packet framer", () => {
  it("lets a stream of packets under the limit through, however it is chunked", () => {
    const framer = new PacketFramer(1000);
    const stream = Buffer.concat([publish("a/b", 10), Buffer.from([0xc0, 0x00]), publish("a/b", 900), publish("c", 0)]);
    for (let i = 0; i < stream.length; i += 7) expect(framer.feed(stream.subarray(i, i + 7))).toBeNull();
  });

  it("refuses a packet whose announced length is above the limit before its body arrives", () => {
    const framer = new PacketFramer(1000);
    const big = publish("a/b", 5000);
    expect(framer.feed(big.subarray(0, 3))).toEqual({ problem: "too-large", remainingLength: 5005 });
  });

  it("refuses a remaining length longer than four bytes", () => {
    const framer = new PacketFramer(1 << 30);
    expect(framer.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toMatchObject({ problem: "malformed" });
  });
});
