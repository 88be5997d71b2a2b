// The fleet's publish queue on its own: its bounds and its accounting, with publishers whose
// acknowledgements the test hands out one by one (the queue's only port; the real MQTT connection is
// exercised by tests/integration/simulator-resilience.test.ts).
import { describe, expect, it } from "vitest";
import type { OutMessage } from "../../../simulator/messages.js";
import { createPublishQueue, type Publisher } from "../../../simulator/publish-queue.js";

/** A device link whose publishes wait until the test acknowledges or fails them. */
class HeldPublisher implements Publisher {
  connected = true;
  readonly sent: string[] = [];
  private readonly pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  publish(message: OutMessage): Promise<unknown> {
    this.sent.push(message.payload);
    return new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  /** Acknowledges the oldest publish awaiting its PUBACK. */
  ack(): void {
    this.pending.shift()!.resolve();
  }
  fail(): void {
    this.pending.shift()!.reject(new Error("connection lost"));
  }
}

const messages = (...payloads: string[]): OutMessage[] => payloads.map((payload) => ({ topic: "t", payload }));
/** Lets the promise callbacks of acknowledgements run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

function queueWith(maxInFlight: number, maxQueuedPerDevice: number) {
  const counted = { published: 0, failures: 0, dropped: 0 };
  const counter = (name: keyof typeof counted) => ({ inc: () => void counted[name]++ });
  const queue = createPublishQueue({ maxInFlight, maxQueuedPerDevice, counters: { published: counter("published"), failures: counter("failures"), dropped: counter("dropped") } });
  return { queue, counted };
}

describe("the simulator's publish queue", () => {
  it("keeps one publish in flight per device, in order, and frees the slot on each PUBACK", async () => {
    const { queue, counted } = queueWith(10, 50);
    const link = new HeldPublisher();
    const lane = queue.lane(link);
    lane.enqueue(messages("a", "b", "c"));
    expect(link.sent).toEqual(["a"]);
    expect(queue.totals()).toMatchObject({ inFlight: 1, queued: 2, longestQueue: 2 });
    link.ack();
    await settled();
    expect(link.sent).toEqual(["a", "b"]);
    link.ack();
    await settled();
    link.ack();
    await settled();
    expect(link.sent).toEqual(["a", "b", "c"]);
    expect(queue.totals()).toEqual({ published: 3, dropped: 0, failures: 0, queued: 0, inFlight: 0, longestQueue: 0 });
    expect(counted).toEqual({ published: 3, dropped: 0, failures: 0 });
  });

  it("holds devices back at the fleet's in-flight bound and lets them go as PUBACKs come", async () => {
    const { queue } = queueWith(2, 50);
    const links = [new HeldPublisher(), new HeldPublisher(), new HeldPublisher()];
    links.forEach((link, i) => queue.lane(link).enqueue(messages(`d${i}`)));
    expect(links.map((l) => l.sent.length)).toEqual([1, 1, 0]);
    expect(queue.inFlight).toBe(2);
    links[0]!.ack();
    await settled();
    expect(links[2]!.sent).toEqual(["d2"]);
    expect(queue.inFlight).toBe(2);
  });

  it("keeps a device's latest messages while it cannot publish, dropping and counting the oldest", async () => {
    const { queue, counted } = queueWith(10, 3);
    const link = new HeldPublisher();
    link.connected = false;
    const lane = queue.lane(link);
    lane.enqueue(messages("1", "2", "3", "4", "5"));
    expect(link.sent).toEqual([]);
    expect(lane.length).toBe(3);
    expect(counted.dropped).toBe(2);
    link.connected = true;
    lane.resume();
    expect(link.sent).toEqual(["3"]);
    expect(queue.totals()).toMatchObject({ dropped: 2, queued: 2, inFlight: 1 });
  });

  it("counts a publish abandoned with its dead link as failed once, and ignores its late outcome", async () => {
    const { queue, counted } = queueWith(1, 50);
    const link = new HeldPublisher();
    const lane = queue.lane(link);
    lane.enqueue(messages("lost", "next"));
    link.connected = false;
    lane.abandonInFlight();
    expect(queue.inFlight).toBe(0);
    expect(counted.failures).toBe(1);
    link.ack(); // mqtt.js resent it after the reconnect and the PUBACK came after all
    await settled();
    expect(counted).toEqual({ published: 0, failures: 1, dropped: 0 });
    link.connected = true;
    lane.resume();
    expect(link.sent).toEqual(["lost", "next"]);
    link.fail();
    await settled();
    expect(counted.failures).toBe(2);
  });

  it("forgets what a device buffered when it loses power, and starts nothing once closed", async () => {
    const { queue } = queueWith(10, 50);
    const link = new HeldPublisher();
    const lane = queue.lane(link);
    lane.enqueue(messages("a", "b", "c"));
    lane.clear();
    expect(queue.queued).toBe(0);
    lane.enqueue(messages("d"));
    queue.close();
    link.ack();
    await settled();
    expect(link.sent).toEqual(["a"]);
    expect(queue.totals()).toMatchObject({ published: 1, queued: 1, inFlight: 0 });
  });

  it("tells when nothing is in flight any more", async () => {
    const { queue } = queueWith(10, 50);
    await queue.drained(); // nothing in flight: at once
    const link = new HeldPublisher();
    queue.lane(link).enqueue(messages("a"));
    let drained = false;
    void queue.drained().then(() => (drained = true));
    await settled();
    expect(drained).toBe(false);
    link.ack();
    await settled();
    expect(drained).toBe(true);
  });
});
