// A byte bound on inbound MQTT packets. Neither aedes 1.2.0 nor mqtt-packet 9 has a maximum packet size
// for MQTT 3.1.1 (mqtt-packet buffers a packet up to the protocol's 256 MiB before parsing it), and aedes'
// docs say to "pair it with a transport-level frame limit" (`maxInflightInbound`). This is that limit:
// it reads only the fixed headers as the bytes go by and closes the connection as soon as a packet
// announces a Remaining Length above the limit, long before its body is buffered.
import type { Duplex } from "node:stream";

export const DEFAULT_MAX_PACKET_BYTES = 1024 * 1024; // 1 MiB: a reading batch is a few kB

type State = { at: "type" } | { at: "length"; value: number; multiplier: number; bytes: number } | { at: "body"; left: number };

/** Incremental reader of MQTT fixed headers ([MQTT-2.2]) that skips bodies without copying them. */
export class PacketFramer {
  private state: State = { at: "type" };
  private broken = false;

  constructor(private readonly maxRemainingLength: number) {}

  /** Returns why the stream must be closed (once), otherwise null. */
  feed(chunk: Buffer): { problem: "too-large" | "malformed"; remainingLength: number } | null {
    if (this.broken) return null;
    let i = 0;
    while (i < chunk.length) {
      const state = this.state;
      if (state.at === "type") {
        i += 1; // control packet type and flags; aedes validates them
        this.state = { at: "length", value: 0, multiplier: 1, bytes: 0 };
      } else if (state.at === "length") {
        const byte = chunk[i++]!;
        state.value += (byte & 0x7f) * state.multiplier;
        state.multiplier *= 128;
        state.bytes += 1;
        if (byte & 0x80) {
          // [MQTT-2.2.3] the Remaining Length takes at most four bytes
          if (state.bytes === 4) return this.fail("malformed", state.value);
          continue;
        }
        if (state.value > this.maxRemainingLength) return this.fail("too-large", state.value);
        this.state = state.value === 0 ? { at: "type" } : { at: "body", left: state.value };
      } else {
        const take = Math.min(state.left, chunk.length - i);
        i += take;
        state.left -= take;
        if (state.left === 0) this.state = { at: "type" };
      }
    }
    return null;
  }

  private fail(problem: "too-large" | "malformed", remainingLength: number) {
    this.broken = true;
    return { problem, remainingLength };
  }
}

/**
 * Watches a connection's inbound bytes and destroys it when a packet is too large. Attach it after
 * `broker.handle(stream)`: aedes pulls with `read()` on 'readable', and Node then also emits each chunk
 * to 'data' listeners before `read()` returns it, so this sees the bytes before aedes parses them and
 * never switches the stream to flowing mode.
 */
export function guardPacketSize(stream: Duplex, maxPacketBytes: number, onRefused: (problem: "too-large" | "malformed", bytes: number) => void): void {
  const framer = new PacketFramer(maxPacketBytes);
  const onData = (chunk: Buffer) => {
    const verdict = framer.feed(chunk);
    if (verdict === null) return;
    stream.off("data", onData);
    onRefused(verdict.problem, verdict.remainingLength);
    // MQTT 3.1.1 has no way to say "too large": close the network connection ([MQTT-4.8.0-1]).
    stream.destroy();
  };
  stream.on("data", onData);
}
