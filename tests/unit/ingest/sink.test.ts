import { describe, expect, it } from "vitest";
import type { Point } from "../../../src/domain/line-protocol.js";
import { InfluxWriteError } from "../../../src/infra/influx.js";
import { InfluxSink } from "../../../src/ingest/sink.js";

const point = (i: number): Point => ({ measurement: "electrical", tags: { device: "d" }, fields: { power_w: i }, ts: i });
const points = (from: number, count: number) => Array.from({ length: count }, (_, i) => point(from + i));

describe("the InfluxDB sink", () => {
  it("writes full batches at once and the rest after the wait time", async () => {
    const requests: string[] = [];
    const sink = new InfluxSink({ write: async (lines) => void requests.push(lines), batch: { maxPoints: 3, maxWaitMs: 30 } });
    sink.push(points(0, 4), Date.now());
    await new Promise((r) => setTimeout(r, 5));
    expect(requests.map((r) => r.split("\n").length)).toEqual([3]);
    expect(sink.bufferedPoints).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(requests.map((r) => r.split("\n").length)).toEqual([3, 1]);
    expect(sink.bufferedPoints).toBe(0);
  });

  it("drops the oldest waiting batches when InfluxDB is away and the buffer is full", async () => {
    const dropped: number[] = [];
    const sink = new InfluxSink({
      write: async () => {
        throw new InfluxWriteError("down", 0, true);
      },
      batch: { maxPoints: 10, maxWaitMs: 1_000 },
      maxBufferedPoints: 25,
      retry: { baseDelayMs: 1_000, maxDelayMs: 1_000, factor: 1 },
      onDropped: (count) => dropped.push(count),
    });
    sink.push(points(0, 40), Date.now()); // four full batches: the two oldest go, 20 points stay within 25
    expect(dropped).toEqual([10, 10]);
    expect(sink.bufferedPoints).toBe(20);
    await sink.close(Date.now() + 50);
    // The other 20 are given up at the deadline (by the writer or by close, whichever sees it first).
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(40);
    expect(sink.bufferedPoints).toBe(0);
  });

  it("gives up at the close deadline and counts what was not written", async () => {
    const dropped: [number, string][] = [];
    const sink = new InfluxSink({
      write: async () => {
        throw new InfluxWriteError("down", 503, true);
      },
      onDropped: (count, reason) => dropped.push([count, reason]),
    });
    sink.push(points(0, 7), Date.now());
    const started = Date.now();
    await sink.close(Date.now() + 300);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(dropped).toEqual([[7, "shutdown"]]);
  });

  it("flushes on demand and resolves once everything is stored", async () => {
    const stored: number[] = [];
    const sink = new InfluxSink({ write: async () => undefined, batch: { maxPoints: 100, maxWaitMs: 60_000 }, onStored: (p) => stored.push(p.length) });
    sink.push(points(0, 5), Date.now());
    await sink.flush();
    expect(stored).toEqual([5]);
    expect(sink.bufferedPoints).toBe(0);
  });
});
