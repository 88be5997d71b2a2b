// Generated MQTT byte streams for the broker fuzz test: well-formed packets of every type built with
// mqtt-packet (the parser aedes uses), then broken the ways a hostile or buggy client breaks them —
// truncated, bytes flipped, Remaining Length rewritten, ill-formed UTF-8 in a topic, several packets glued
// together — and plain random bytes. MQTT 3.1.1 §2 (fixed header), §3 (packets), §1.5.3 (UTF-8 strings).
import { connect as connectTcp, type Socket } from "node:net";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import { waitFor } from "../helpers/wait.js";

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("", "#", "+", "campus/devices/brk-d1-101/telemetry", "$SYS/x", "a/+/#/b", "campus-service", "brk-d1-101"));
const bytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));

const connectPacket = fc.record({
  protocolVersion: fc.constantFrom(3, 4, 4, 4, 5, 0, 255),
  clientId: text,
  clean: fc.boolean(),
  keepalive: fc.integer({ min: 0, max: 65_535 }),
  username: fc.option(text, { nil: undefined }),
  password: fc.option(bytes, { nil: undefined }),
  will: fc.option(fc.record({ topic: text, payload: bytes, qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>, retain: fc.boolean() }), { nil: undefined }),
});

/** One well-formed packet of a random type, as bytes (CONNECT with made-up credentials: never accepted). */
export const packet: fc.Arbitrary<Buffer> = fc.oneof(
  connectPacket.map((p) => generate({ cmd: "connect", protocolId: p.protocolVersion === 3 ? "MQIsdp" : "MQTT", ...p })),
  fc.record({ topic: text, payload: bytes, qos: fc.constantFrom(0, 1, 2), retain: fc.boolean(), dup: fc.boolean(), messageId: fc.integer({ min: 1, max: 65_535 }) }).map((p) => generate({ cmd: "publish", ...p })),
  fc.record({ messageId: fc.integer({ min: 1, max: 65_535 }), subscriptions: fc.array(fc.record({ topic: text, qos: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 5 }) }).map((p) => generate({ cmd: "subscribe", ...p })),
  fc.record({ messageId: fc.integer({ min: 1, max: 65_535 }), unsubscribions: fc.array(text, { minLength: 1, maxLength: 5 }) }).map((p) => generate({ cmd: "unsubscribe", ...p })),
  fc.constantFrom("pingreq", "disconnect", "puback", "pubrec", "pubrel", "pubcomp").map((cmd) => generate({ cmd, messageId: 1 })),
);

/** Bytes a client may send: packets broken in one of the ways above, or noise. */
export const hostileStream: fc.Arbitrary<Buffer> = fc.oneof(
  // Truncated: the body ends early (the broker waits for the rest, then the connect timeout closes it).
  fc.tuple(packet, fc.nat()).map(([p, cut]) => p.subarray(0, cut % Math.max(p.length, 1))),
  // Bytes flipped anywhere, the fixed header included.
  fc.tuple(packet, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([p, flips]) => {
    const out = Buffer.from(p);
    for (const [at, value] of flips) if (out.length > 0) out[at % out.length] = value;
    return out;
  }),
  // A Remaining Length that disagrees with the body: shorter, longer, or five continuation bytes [MQTT-2.2.3].
  fc.tuple(packet, fc.constantFrom(Buffer.from([0x00]), Buffer.from([0x7f]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]))).map(([p, length]) => Buffer.concat([p.subarray(0, 1), length, p.subarray(2)])),
  // Ill-formed UTF-8 in a topic [MQTT-1.5.3-1]: a lone continuation byte, an overlong NUL, a surrogate.
  fc.constantFrom(Buffer.from([0xff]), Buffer.from([0xc0, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x00])).map((bad) => publishWithTopic(Buffer.concat([Buffer.from("campus/devices/"), bad, Buffer.from("/telemetry")]))),
  // Several packets at once, the first not being a CONNECT, or a second CONNECT [MQTT-3.1.0-2].
  fc.array(packet, { minLength: 2, maxLength: 5 }).map((ps) => Buffer.concat(ps)),
  fc.uint8Array({ minLength: 1, maxLength: 256 }).map((b) => Buffer.from(b)),
);

export function generate(object: Record<string, unknown>): Buffer {
  try {
    return mqttPacket.generate(object as unknown as mqttPacket.Packet);
  } catch {
    // mqtt-packet refuses some combinations (a protocol level it does not know): send a PINGREQ instead.
    return Buffer.from([0xc0, 0x00]);
  }
}

/** A QoS 0 PUBLISH with a topic given as raw bytes ([MQTT-3.3.2]: 2-byte length, then the name). */
export function publishWithTopic(topic: Buffer, payload = Buffer.from("{}")): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, payload]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

export interface RawConnection {
  socket: Socket;
  received: Buffer[];
  closed: () => boolean;
}

/** Opens a raw TCP connection and writes `bytes` (nothing when empty). */
export function openRaw(port: number, bytes: Buffer): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port, host: "127.0.0.1" });
    const received: Buffer[] = [];
    let closed = false;
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("error", () => undefined); // a reset by the broker is one of the expected endings
    socket.once("close", () => (closed = true));
    socket.once("connect", () => {
      if (bytes.length > 0) socket.write(bytes);
      resolve({ socket, received, closed: () => closed });
    });
    socket.once("error", reject);
  });
}

/** Waits until the broker has closed the connection; throws after `timeoutMs`. */
export const closedByBroker = (connection: RawConnection, timeoutMs: number, what: string) => waitFor(connection.closed, timeoutMs, { what, intervalMs: 20 });
