import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InternalStream } from "../../../ingest/stream.js";

type Sent = { topic: string; payload: string; qos: 0 | 1; retain: boolean };
const reading = (device: string, ts: number) => ({ topic: `campus/internal/readings/${device}`, payload: JSON.stringify({ device, ts, values: { power_w: ts } }), retain: true });

describe("the ingest's internal stream", () => {
  let sent: Sent[];
  let now: number;
  let stream: InternalStream;
  const make = (options: Partial<ConstructorParameters<typeof InternalStream>[1]> = {}) =>
    new InternalStream((topic, payload, qos, retain) => sent.push({ topic, payload, qos, retain }), { source: "campus-ingest", now: () => now, ...options });

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    now = 1_000_000;
    stream = make();
  });
  afterEach(() => {
    stream.close();
    vi.useRealTimers();
  });

  it("batches readings for at most 20 ms, as one QoS 1 JSON array that is not retained", () => {
    stream.push(reading("a", 1));
    stream.push(reading("b", 2));
    vi.advanceTimersByTime(19);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([{ topic: "campus/internal/readings-batch/campus-ingest", payload: JSON.stringify([JSON.parse(reading("a", 1).payload), JSON.parse(reading("b", 2).payload)]), qos: 1, retain: false }]);
  });

  it("flushes at the batch size without waiting", () => {
    stream.close();
    stream = make({ maxReadings: 3 });
    for (let i = 0; i < 7; i++) stream.push(reading("a", i));
    expect(sent.map((m) => (JSON.parse(m.payload) as unknown[]).length)).toEqual([3, 3]);
    vi.advanceTimersByTime(20);
    expect(sent.map((m) => (JSON.parse(m.payload) as unknown[]).length)).toEqual([3, 3, 1]);
  });

  it("publishes statuses and events at once, after the readings received before them", () => {
    stream.push(reading("a", 1));
    stream.push({ topic: "campus/internal/status/a", payload: '{"device":"a","ts":2,"online":false}', retain: true });
    stream.push({ topic: "campus/internal/events/a", payload: '{"device":"a","ts":3,"type":"arc"}', retain: false });
    expect(sent.map((m) => [m.topic, m.qos, m.retain])).toEqual([
      ["campus/internal/readings-batch/campus-ingest", 1, false],
      ["campus/internal/status/a", 1, true],
      ["campus/internal/events/a", 1, false],
    ]);
  });

  it("republishes a device's latest reading retained, QoS 0, at most once per 5 s, always after its batch", () => {
    stream.push(reading("a", 1));
    stream.push(reading("a", 2));
    vi.advanceTimersByTime(1_000); // the sweep
    const latest = () => sent.filter((m) => m.topic === "campus/internal/readings/a");
    expect(sent.map((m) => m.topic)).toEqual(["campus/internal/readings-batch/campus-ingest", "campus/internal/readings/a"]);
    expect(latest()).toEqual([{ topic: "campus/internal/readings/a", payload: reading("a", 2).payload, qos: 0, retain: true }]);
    for (let t = 3; t < 10; t++) {
      now += 1_000;
      stream.push(reading("a", t));
      vi.advanceTimersByTime(1_000);
    }
    // 7 more seconds of readings: one more copy (5 s after the first), and the newest waits for its window.
    expect(latest().map((m) => JSON.parse(m.payload).ts)).toEqual([2, 7]);
    stream.close();
    expect(latest().map((m) => JSON.parse(m.payload).ts)).toEqual([2, 7, 9]);
    const lastBatch = sent.findLastIndex((m) => m.topic.includes("readings-batch"));
    expect(lastBatch).toBeLessThan(sent.findLastIndex((m) => m.topic === "campus/internal/readings/a"));
  });

  it("publishes nothing when idle, and nothing after close", () => {
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([]);
    stream.close();
    stream.push(reading("a", 1));
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([]);
  });
});
