// The in-process feed from `up`'s broker to its ingest (broker/device-feed.ts): a device's publish resolves only
// once the ingest has it durably, waits while no ingest is attached (at start, after a stop) without holding
// the event loop, and is never handed twice when aedes routes the same packet afterwards.
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { DeviceFeed, type FeedReceiver } from "../../../broker/device-feed.js";

function recorder(): FeedReceiver & { handed: string[] } {
  const handed: string[] = [];
  return { handed, full: () => false, onHeldBack: () => undefined, handle: async (_topic, payload) => void handed.push(payload.toString()) };
}

describe("the broker's in-process feed to the ingest", () => {
  it("holds a publish while no ingest is attached, lets the event loop run meanwhile, and hands it over once one attaches", async () => {
    const feed = new DeviceFeed(() => undefined);
    const first = recorder();
    feed.attach(first, ["campus/devices/+/telemetry"]);
    feed.detach(); // the ingest stopped (up is stopping, or restarting it)
    let done = false;
    const pending = feed.accept("campus/devices/d1/telemetry", Buffer.from("r1")).then(() => (done = true));
    // Timers still fire: the wait is not a loop of resolved promises.
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(done).toBe(false);
    const second = recorder();
    feed.attach(second, ["campus/devices/+/telemetry"]);
    await pending;
    expect(second.handed).toEqual(["r1"]);
    expect(first.handed).toEqual([]);
  });

  it("hands an accepted payload once, routes what it did not accept, and ignores topics the ingest does not read", async () => {
    const feed = new DeviceFeed(() => undefined);
    const ingest = recorder();
    feed.attach(ingest, ["campus/devices/+/telemetry", "campus/devices/+/status"]);
    const accepted = Buffer.from("reading");
    await feed.accept("campus/devices/d1/telemetry", accepted);
    feed.routed("campus/devices/d1/telemetry", accepted); // aedes routes the very same Buffer afterwards
    feed.routed("campus/devices/d1/status", Buffer.from("offline")); // a last will: not accepted, routed only
    feed.routed("campus/internal/readings-batch/x", Buffer.from("batch")); // not the ingest's
    await feed.accept("campus/devices/d1/commands", Buffer.from("cmd")); // resolves at once, not handed
    await nextTurn();
    expect(ingest.handed).toEqual(["reading", "offline"]);
  });
});
