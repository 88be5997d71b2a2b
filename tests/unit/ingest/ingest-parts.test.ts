// The pure decisions of the ingest's parts (ingest/influx-target.ts, mqtt-source.ts, sink-metrics.ts),
// which lived inside startIngest's closure where no test could reach them.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DeadLetterLog } from "../../../infra/dead-letter.js";
import { createRegistry } from "../../../infra/metrics.js";
import { afterWriteFailure } from "../../../ingest/influx-target.js";
import { createIngestMetrics } from "../../../ingest/metrics.js";
import { HeldBack } from "../../../ingest/mqtt-source.js";
import { countByMeasurement, logsRetry, sinkMetrics } from "../../../ingest/sink-metrics.js";

describe("what a failed InfluxDB write says", () => {
  it("counts InfluxDB as reachable after a 400: the server answered, the data was bad", () => {
    expect(afterWriteFailure(400)).toEqual({ reachable: true, databaseGone: false });
  });

  it("asks for the database again after a 404 (dropped behind our back)", () => {
    expect(afterWriteFailure(404)).toEqual({ reachable: false, databaseGone: true });
  });

  it("counts no answer, a timeout or a 5xx as unreachable", () => {
    for (const status of [0, 500, 503, 429]) expect(afterWriteFailure(status)).toEqual({ reachable: false, databaseGone: false });
  });
});

describe("messages held back while the spool is full", () => {
  it("handles messages while there is room and never asks to reconnect", () => {
    const held = new HeldBack();
    expect([held.admit(false), held.admit(false)]).toEqual([true, true]);
    expect(held.roomAgain()).toBe(false);
  });

  it("holds messages back while full and asks to reconnect once when there is room again", () => {
    const held = new HeldBack();
    expect(held.admit(true)).toBe(false);
    expect(held.admit(true)).toBe(false);
    expect(held.roomAgain()).toBe(true);
    expect(held.roomAgain()).toBe(false); // once per episode, not on every tick with room
  });

  it("remembers a full spool that drained before the next tick looked", () => {
    const held = new HeldBack();
    held.admit(true);
    expect(held.admit(false)).toBe(true);
    expect(held.roomAgain()).toBe(true);
  });
});

describe("the sink's metrics and log lines", () => {
  it("logs the first retry of an outage and then every tenth", () => {
    expect(Array.from({ length: 30 }, (_, i) => i + 1).filter(logsRetry)).toEqual([1, 10, 20, 30]);
  });

  it("counts stored lines per measurement", () => {
    const lines = ["electrical,device=a power_w=1 1", "electrical power_w=2 2", "device_status,device=a online=true 3", "device_event,device=a type=\"trip\" 4"];
    expect([...countByMeasurement(lines)]).toEqual([["electrical", 2], ["device_status", 1], ["device_event", 1]]);
  });

  it("turns the sink's reports into counters and sparse retry log lines", async () => {
    const registry = createRegistry(false);
    const metrics = createIngestMetrics(registry);
    const logged: { msg: string; attempt?: number; backlogRecords?: number }[] = [];
    const log = pino({ level: "info" }, new Writable({ write: (chunk, _encoding, done) => (logged.push(JSON.parse(chunk.toString())), done()) }));
    const deadLetters = new DeadLetterLog("/nonexistent/never-written", { onDropped: () => undefined, onError: () => undefined });
    const callbacks = sinkMetrics({ metrics, log, deadLetters, backlogRecords: () => 7 });
    callbacks.onStored!(["electrical,device=a power_w=1 1", "electrical,device=b power_w=1 1", "device_status,device=a online=true 3"], { native: 2, tasmota: 1 });
    for (let attempt = 1; attempt <= 12; attempt++) callbacks.onRetry!(attempt, new Error("down"));
    callbacks.onCorrupt!(40, "seg-000000000001.log@12 (torn tail)");
    const value = async (name: string, labels: Record<string, string> = {}) =>
      (await registry.getSingleMetric(`campus_power_ingest_${name}`)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    expect(await value("points_stored_total", { measurement: "electrical" })).toBe(2);
    expect(await value("points_stored_total", { measurement: "device_status" })).toBe(1);
    expect(await value("readings_stored_total", { format: "native" })).toBe(2);
    expect(await value("readings_stored_total", { format: "tasmota" })).toBe(1);
    expect(await value("write_retries_total")).toBe(12);
    expect(await value("spool_corrupt_bytes_total")).toBe(40);
    const retryLines = logged.filter((l) => l.msg.startsWith("InfluxDB write failed"));
    expect(retryLines.map((l) => [l.attempt, l.backlogRecords])).toEqual([[1, 7], [10, 7]]);
  });
});
