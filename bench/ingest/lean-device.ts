// Bench helper: a lean MQTT 3.1.1 device client, as the firmware of a smart breaker would have one — one
// TCP connection, CONNECT with its own credentials, QoS 1 PUBLISH, PUBACK by packet id, nothing else.
// The bench runs a thousand of these on the same 2 cores as the system under test; mqtt.js (a general
// client with stores, timers and streams) spends about 30 µs of CPU per publish there, which the broker,
// the ingest and InfluxDB then do not get. Real devices bring their own CPUs. `--client mqttjs` keeps
// the mqtt.js devices for comparison (docs/benchmarks.md records both).
import { connect as connectTcp, type Socket } from "node:net";

const utf8 = (text: string) => {
  const bytes = Buffer.from(text);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
};

/** The fixed header: packet type and flags, then the remaining length as a varint. */
const fixedHeader = (first: number, length: number) => {
  const bytes = [first];
  do {
    let digit = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) digit |= 0x80;
    bytes.push(digit);
  } while (length > 0);
  return Buffer.from(bytes);
};

export class LeanDevice {
  private socket!: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private nextId = 1;
  /** Callbacks by packet id (0: the CONNACK), called with the connection's error if it fails first. */
  private readonly waiting = new Map<number, (error?: Error) => void>();
  private readonly topic: Buffer;

  constructor(private readonly options: { port: number; clientId: string; username: string; password: string; topic: string }) {
    this.topic = utf8(options.topic);
  }

  /** Connects (clean session, keepalive 120 s); rejects unless the CONNACK return code is 0. */
  connect(): Promise<void> {
    const { clientId, username, password, port } = this.options;
    const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 120]); // "MQTT", level 4, user+password+clean
    const body = Buffer.concat([variable, utf8(clientId), utf8(username), utf8(password)]);
    return new Promise((resolve, reject) => {
      this.socket = connectTcp({ host: "127.0.0.1", port, noDelay: true }, () => this.socket.write(Buffer.concat([fixedHeader(0x10, body.length), body])));
      // An error at any time (a reset by the broker, say) fails whatever waits, the CONNACK included.
      this.socket.on("error", (error) => this.failAll(error));
      this.socket.on("close", () => this.failAll(new Error(`${clientId}: connection closed`)));
      this.waiting.set(0, (error) => (error ? reject(error) : resolve())); // id 0: the CONNACK
      this.socket.on("data", (chunk: Buffer) => {
        try {
          this.onData(chunk);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** One QoS 1 PUBLISH; resolves on its PUBACK. */
  publish(payload: string): Promise<void> {
    const id = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    const data = Buffer.from(payload);
    const length = this.topic.length + 2 + data.length;
    const head = fixedHeader(0x32, length);
    const packet = Buffer.allocUnsafe(head.length + length);
    head.copy(packet, 0);
    this.topic.copy(packet, head.length);
    packet.writeUInt16BE(id, head.length + this.topic.length);
    data.copy(packet, head.length + this.topic.length + 2);
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) return reject(new Error(`${this.options.clientId}: not connected`));
      this.waiting.set(id, (error) => (error ? reject(error) : resolve()));
      this.socket.write(packet);
    });
  }

  private failAll(error: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const done of waiting) done(error);
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.socket.end(Buffer.from([0xe0, 0]), () => resolve())); // DISCONNECT
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    // The broker sends this device only CONNACK (4 bytes) and PUBACKs (4 bytes): 2-byte fixed header + 2.
    while (this.buffer.length >= 4) {
      const type = this.buffer[0]! >> 4;
      if (this.buffer[1] !== 2) throw new Error(`${this.options.clientId}: unexpected packet ${this.buffer.subarray(0, 8).toString("hex")}`);
      if (type === 2) {
        if (this.buffer[3] !== 0) throw new Error(`${this.options.clientId}: CONNACK return code ${this.buffer[3]}`);
        this.settle(0);
      } else if (type === 4) this.settle(this.buffer.readUInt16BE(2));
      else throw new Error(`${this.options.clientId}: unexpected packet type ${type}`);
      this.buffer = this.buffer.subarray(4);
    }
  }

  private settle(id: number): void {
    const done = this.waiting.get(id);
    this.waiting.delete(id);
    done?.();
  }
}
