import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RelayReport } from "../../../domain/command.js";
import { InternalStream } from "../../../ingest/stream.js";

type Sent = { topic: string; payload: string; qos: 0 | 1; retain: boolean };
const relay = (report: RelayReport) => ({ topic: `campus/internal/relay/${report.device}`, payload: JSON.stringify(report), retain: false, relay: report });
const periodic = (device: string, ts: number, on: boolean) => relay({ device, ts, on, explicit: false });
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

  describe("relay reports", () => {
    const relays = () => sent.filter((m) => m.topic.startsWith("campus/internal/relay/")).map((m) => JSON.parse(m.payload) as RelayReport);

    it("publishes a relay report at once, QoS 1 and not retained, after the readings received before it", () => {
      stream.push(reading("a", 1));
      stream.push(periodic("a", 2, true));
      expect(sent.map((m) => [m.topic, m.qos, m.retain])).toEqual([
        ["campus/internal/readings-batch/campus-ingest", 1, false],
        ["campus/internal/relay/a", 1, false],
      ]);
    });

    it("publishes every answer to a command and every change of state at once, repeats or not", () => {
      const answers: RelayReport[] = [
        { device: "a", ts: 1, on: true, explicit: false },
        { device: "a", ts: 2, on: true, explicit: true },
        { device: "a", ts: 3, on: null, explicit: true, rpc_id: 7 },
        { device: "a", ts: 4, on: true, explicit: true },
        { device: "a", ts: 5, on: false, explicit: false },
        { device: "a", ts: 6, on: true, explicit: false },
        { device: "b", ts: 7, on: true, explicit: false },
      ];
      for (const report of answers) stream.push(relay(report));
      expect(relays()).toEqual(answers);
    });

    it("holds a periodic repeat of the state published for the device for the sweep, at most one per device per 5 s, the newest", () => {
      stream.close();
      stream = make({ flushMs: 60_000 }); // so that only the repeat's own flush can publish the batch before it
      sent = [];
      stream.push(periodic("a", 1, true));
      now += 1_000;
      stream.push(periodic("a", 2, true));
      stream.push(periodic("b", 2, false)); // another device: its first report
      now += 1_000;
      stream.push(periodic("a", 3, true));
      vi.advanceTimersByTime(1_000); // a sweep inside the window publishes nothing of a's
      expect(relays().map((r) => [r.device, r.ts])).toEqual([["a", 1], ["b", 2]]);
      now += 3_000; // 5 s since a's report at ts 1
      stream.push(reading("x", 9)); // a reading waiting in the batch goes out before the repeat
      vi.advanceTimersByTime(1_000);
      expect(relays().map((r) => [r.device, r.ts])).toEqual([["a", 1], ["b", 2], ["a", 3]]);
      const batch = sent.findIndex((m) => m.topic.includes("readings-batch"));
      expect(batch).toBeLessThan(sent.findLastIndex((m) => m.topic === "campus/internal/relay/a"));
      now += 5_000;
      stream.push(periodic("a", 4, true)); // a repeat after its window waits for the next sweep only
      expect(relays().map((r) => r.ts)).toEqual([1, 2, 3]);
      vi.advanceTimersByTime(1_000);
      expect(relays().map((r) => r.ts)).toEqual([1, 2, 3, 4]);
    });

    it("drops a held repeat when a newer report of the device goes out", () => {
      stream.push(periodic("a", 1, true));
      stream.push(periodic("a", 2, true)); // held
      stream.push(relay({ device: "a", ts: 3, on: false, explicit: true })); // the relay switched: at once
      now += 10_000;
      vi.advanceTimersByTime(1_000);
      expect(relays().map((r) => [r.ts, r.on])).toEqual([[1, true], [3, false]]);
    });

    it("keeps relay reports from undoing the batching: 1,000 devices reporting their relay in 5,000 readings/s", () => {
      const count = (withRelays: boolean) => {
        stream.close();
        sent = [];
        now = 0;
        stream = make();
        for (let ms = 0; ms < 60_000; ms++) {
          for (let k = 0; k < 5; k++) {
            const device = `d${(ms * 5 + k) % 1_000}`;
            stream.push(reading(device, ms));
            if (withRelays) stream.push(periodic(device, ms, true));
          }
          now++;
          vi.advanceTimersByTime(1);
        }
        stream.close();
        return { batches: sent.filter((m) => m.topic.includes("readings-batch")).length, relays: sent.filter((m) => m.topic.includes("/relay/")).length };
      };
      const without = count(false);
      const withRelays = count(true);
      // Each device's first report goes out at once (flushing the batch before it: ≤ 1,000 more batches), then
      // one repeat per device per 5 s from the sweep: 1,000 + 1,000 × 60 s / 5 s. A message per reading: 300,000.
      expect({ without, withRelays }).toEqual({ without: { batches: 3_000, relays: 0 }, withRelays: { batches: 3_990, relays: 13_000 } });
    });

    it("publishes the held repeats on close", () => {
      stream.push(periodic("a", 1, true));
      stream.push(periodic("a", 2, true));
      stream.close();
      expect(relays().map((r) => r.ts)).toEqual([1, 2]);
    });
  });
});
