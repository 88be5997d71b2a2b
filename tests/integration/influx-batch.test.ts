// The one InfluxDB batch writer against the real influxd, alone and as the alerts service uses it:
// InfluxDB's own refusal of one point (HTTP 400) must dead-letter that point only.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InfluxClient, rows } from "../../infra/influx.js";
import { writeBatch } from "../../infra/influx-batch.js";
import { createAlertMetrics } from "../../alerts/metrics.js";
import { alertLine, alertQueueBound, createAlertWriter } from "../../alerts/writer.js";
import type { Alert } from "../../domain/alert.js";
import { createLogger } from "../../infra/logger.js";
import { createRegistry } from "../../infra/metrics.js";
import { freshDatabase, influxUrl } from "../helpers/influx.js";

describe("the batch writer against a real InfluxDB", () => {
  it("dead-letters only the point InfluxDB refuses (field type conflict, HTTP 400) and stores the rest", async () => {
    const db = new InfluxClient({ url: influxUrl(), db: `writer_${randomBytes(4).toString("hex")}` });
    await db.ensureDatabase();
    await db.write("conflict,device=a value=1 1000");
    const points = Array.from({ length: 10 }, (_, i) => ({
      measurement: "conflict",
      tags: { device: `d${i}` },
      fields: { value: i === 6 ? "text" : i },
      ts: 2_000 + i,
    }));
    const deadLetters: string[] = [];
    const outcome = await writeBatch(points, {
      write: (lines) => db.write(lines),
      sleep: async () => undefined,
      random: () => 0.5,
      givingUp: () => false,
      onDeadLetter: (_point, line) => deadLetters.push(line),
    });
    expect(outcome).toEqual({ stored: 9, deadLettered: 1, dropped: 0 });
    expect(deadLetters).toEqual(['conflict,device=d6 value="text" 2006']);
    expect(rows(await db.query("SELECT count(value) FROM conflict"))[0]?.count).toBe(10); // 9 + the first one
  });
});

describe("the alerts service's history writer against a real InfluxDB", () => {
  it("stores a batch of alert points but the one InfluxDB refuses, which alone is dead-lettered", async () => {
    const db = await freshDatabase("alert_writer");
    const registry = createRegistry(false);
    const alert = (i: number) => ({ id: `al-${i}`, device: `brk-${i}`, building: "dorm-1", rule: "overload", severity: "major", state: "firing", message: "m", value: 20, threshold: 16 }) as unknown as Alert;
    const lines = Array.from({ length: 8 }, (_, i) => alertLine(alert(i), 1_000 + i));
    // A point whose `value` is a string where InfluxDB already holds floats: refused with HTTP 400.
    lines.splice(5, 0, 'alert,building=dorm-1,device=brk-bad,rule=overload,severity=major alert_id="al-bad",state="firing",message="m",value="high",threshold=16 2000');
    const deadLetters: string[] = [];
    const writer = createAlertWriter({
      influx: db,
      log: createLogger("silent"),
      metrics: createAlertMetrics(registry),
      initial: lines,
      onChange: () => undefined,
      onDeadLetter: (line) => deadLetters.push(line),
    });
    await writer.close(10_000);
    expect(writer.pending()).toEqual([]);
    expect(deadLetters).toEqual([lines[5]]);
    expect(rows(await db.query("SELECT count(threshold) FROM alert"))[0]?.count).toBe(8);
    expect(await registry.metrics()).toMatch(/campus_power_alerts_dead_lettered_total 1\b/);
  });

  it("stores every point of a district's storm: 20,000 offline alerts queued in one tick, none dropped", async () => {
    const db = await freshDatabase("alert_storm");
    const registry = createRegistry(false);
    const devices = 20_000;
    const alert = (i: number) => ({ id: `al-${i}`, device: `brk-${i}`, building: "b", site: "s", rule: "offline", severity: "minor", state: "firing", message: "m", value: 0, threshold: 0 }) as unknown as Alert;
    const writer = createAlertWriter({
      influx: db,
      log: createLogger("silent"),
      metrics: createAlertMetrics(registry),
      initial: [],
      onChange: () => undefined,
      onDeadLetter: () => undefined,
      maxQueue: alertQueueBound(devices),
    });
    for (let i = 0; i < devices; i++) writer.enqueue(alertLine(alert(i), 1_000 + i));
    await writer.close(60_000);
    expect(writer.pending()).toEqual([]);
    expect(rows(await db.query("SELECT count(threshold) FROM alert"))[0]?.count).toBe(devices);
    expect(await registry.metrics()).toMatch(/campus_power_alerts_points_dropped_total 0\b/);
  }, 90_000);

  it("drops the oldest points beyond its bound while InfluxDB is away, and counts them", async () => {
    const registry = createRegistry(false);
    const away = new InfluxClient({ url: "http://127.0.0.1:9", db: "nowhere" }); // discard port: refused at once
    const writer = createAlertWriter({ influx: away, log: createLogger("silent"), metrics: createAlertMetrics(registry), initial: [], onChange: () => undefined, onDeadLetter: () => undefined, maxQueue: 100 });
    const lines = Array.from({ length: 150 }, (_, i) => `alert,device=d${i} value=1 ${1_000 + i}`);
    for (const line of lines) writer.enqueue(line);
    // The first line went into a write at once (and stays until it is stored or given up); of the rest,
    // the oldest 50 went and the newest are kept.
    expect(writer.pending()).toEqual([lines[0], ...lines.slice(51)]);
    expect(await registry.metrics()).toMatch(/campus_power_alerts_points_dropped_total 50\b/);
    await writer.close(100);
  });
});
