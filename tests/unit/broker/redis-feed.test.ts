// The pure parts of a cluster node's hand-over to the Redis Stream (broker/redis-feed.ts): which kind of append
// aedes' `publish` event is, and a Redis outage said once, not once per device message.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { appendKindOf, failureEpisodes } from "../../../broker/redis-feed.js";

function capturedLogger() {
  const lines: { msg: string; level: number }[] = [];
  const stream = new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
  return { lines, log: pino({ level: "info" }, stream) };
}

describe("appendKindOf", () => {
  it("tells a device's QoS 0 PUBLISH from its will, which has no cmd", () => {
    expect(appendKindOf("device", { cmd: "publish" })).toBe("device_qos0");
    expect(appendKindOf("bridge", { cmd: "publish" })).toBe("device_qos0");
    expect(appendKindOf("device", {})).toBe("will");
  });

  it("calls the broker's own publish a will (a dead node's client) and a service's publish a service append", () => {
    expect(appendKindOf(null, {})).toBe("will");
    expect(appendKindOf("service", { cmd: "publish" })).toBe("service");
  });
});

describe("failureEpisodes", () => {
  it("logs the first failure of an outage and its end, once each", async () => {
    const { lines, log } = capturedLogger();
    const episodes = failureEpisodes(log);
    episodes.succeeded();
    for (let i = 0; i < 100; i++) episodes.failed(new Error("Stream isn't writeable"), "device_qos1");
    episodes.succeeded();
    episodes.succeeded();
    episodes.failed(new Error("again"), "device_qos0");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.msg)).toEqual([
      "cannot append device messages to the Redis Stream; devices are not acknowledged and will resend",
      "appending device messages to the Redis Stream again",
      "cannot append device messages to the Redis Stream; devices are not acknowledged and will resend",
    ]);
  });
});
