import { describe, expect, it } from "vitest";
import { PacketFramer } from "../../../broker/packet-size-guard.js";

/** An MQTT PUBLISH (QoS 0) with the given payload, encoded by hand. */
function publish(topic: string, payloadBytes: number): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), Buffer.from(topic), Buffer.alloc(payloadBytes)]);
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x30, ...length]), body]);
}

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
